"""Breakdowns: events, sessions and users per value of a dimension (platform, version, country, group, event,
any property key); picking an event name filters the Events screen."""
import zlib

import streamlit as st

from dashboard import charts, shapes, text
from dashboard.screens import explorer, states

DIMENSIONS = {"Platform": "platform", "App version": "app_version", "Country": "country", "Group": "group",
              "Event": "event"}
PROPERTY_PREFIX = "property:"
LIMITS = [10, 25, 50, 100]
ANY_EVENT = "Any event"
# The worker filters raw events (GET /events) by event name, session and user only; statistics carry no
# per-value filters. So only an event name can filter another screen.
FILTERABLE = {"event"}


def planned(state):
    """(by, event, limit) the pickers below will hold, from their state (their first options before any pick),
    for a breakdown by a fixed dimension; None when it needs the property keys first."""
    by = DIMENSIONS.get(state.get("breakdown_by", next(iter(DIMENSIONS))))
    if by is None:
        return None
    chosen = state.get("breakdown_event", ANY_EVENT) if by == "group" else ANY_EVENT
    return by, None if chosen == ANY_EVENT else chosen, state.get("breakdown_limit", LIMITS[0])


def render(reader, range_params):
    ahead = planned(st.session_state)
    reader.prefetch(reader.properties, lambda: reader.top_events(limit=1000),
                    *([lambda: reader.breakdown(ahead[0], event=ahead[1], limit=ahead[2])] if ahead else []))
    properties = reader.properties()
    dimensions = {**DIMENSIONS, **{f"Property: {p['key']}": PROPERTY_PREFIX + p["key"] for p in properties}}
    pick, scope_event, size = st.columns([3, 3, 1])
    label = pick.selectbox("Break down by", list(dimensions), key="breakdown_by",
                           help="Property keys are the top-level keys of events' properties in this range.")
    by = dimensions[label]
    event = None
    if by == "group" or by.startswith(PROPERTY_PREFIX):
        names = [e["event"] for e in reader.top_events(limit=1000)]
        chosen = scope_event.selectbox("Of event", [ANY_EVENT, *names], key="breakdown_event")
        event = None if chosen == ANY_EVENT else chosen
    limit = size.selectbox("Top", LIMITS, key="breakdown_limit")
    body = reader.breakdown(by, event=event, limit=limit)
    frame = shapes.breakdown_frame(body)
    if frame.empty:
        states.nothing_in_range(f"events with a {label.lower()}")
        return
    users_note = users_estimate(body)
    if users_note:
        reader.declare_in_place("users")  # marked at the column: no page-wide notice
    render_summary(body, label)
    chart, table = st.columns([2, 3], gap="large")
    chart.altair_chart(charts.bars(frame, "value"), width="stretch")
    with table:
        row = breakdown_table(table_frame(frame, body), (by, event, limit, tuple(sorted(reader.scope.items()))),
                              users_note)
        other = frame.iloc[len(body["values"]):]
        if len(other):
            st.caption(f"{other.iloc[0]['value']}: {text.plural(int(other.iloc[0]['events']), 'event')} "
                       f"({other.iloc[0]['share']:.1f}%); their sessions and users do not add up, so they have no row.")
    render_filter(by, label, frame, body["values"], row)


def render_summary(body, label):
    capped = " · some values are past the worker's per-key cap (50) and counted under Other" \
        if body.get("capped") else ""
    st.caption(f"{text.plural(body['total']['events'], 'event')} · share = of these events · (none): events "
               f"without a {label.lower()} · sessions and users are empty where the worker does not keep them "
               f"(they do not add up across event names){capped}")


def table_frame(frame, body):
    """The table's rows: the values (the Other row stays in the chart: its sessions and users cannot be
    summed, and an empty cell would read "None"), without the figures the worker keeps none of here."""
    rows = frame.iloc[:len(body["values"])]
    return rows.drop(columns=[c for c in ("sessions", "users") if rows[c].isna().all()])


def users_estimate(body):
    """Why this answer's users are estimates, or None when the worker counted them exactly."""
    if "users" not in (body.get("approximate_figures") or []):
        return None
    if body.get("users_sampled"):
        return ("Estimated: counted over a sample of users and scaled up, so a small count can be far off "
                "(the worker's README says how close).")
    return ("Estimated: users are counted over the whole UTC days this range touches, so a count may include "
            "users active just before or after the range in your zone.")


def breakdown_table(frame, listing, users_note=None):
    """The table, one row selectable; returns the picked row's position, or None. `users_note`: why the users
    are estimates (their column then says so on every value), or None when they are exact."""
    key = f"breakdown_table_{zlib.crc32(repr(listing).encode())}"
    selection = st.dataframe(
        frame, hide_index=True, width="stretch", key=key, on_select="rerun", selection_mode="single-row",
        column_config={
            "value": st.column_config.TextColumn("Value", width="medium"),
            "events": st.column_config.NumberColumn("Events", format="localized"),
            "sessions": st.column_config.NumberColumn("Sessions", format="localized",
                                                      help="Not given for Other: its values share sessions."),
            "users": st.column_config.NumberColumn("Users (estimated)", format="≈ %d", help=users_note)
            if users_note else st.column_config.NumberColumn("Users", format="localized"),
            "share": st.column_config.ProgressColumn("Share", format="%.1f%%", min_value=0, max_value=100),
        })
    rows = selection.selection.rows if selection else []
    return rows[0] if rows and rows[0] < len(frame) else None


def show_events_of(name):
    st.session_state[explorer.EVENT_KEY] = name
    states.open_screen("Events")


def render_filter(by, label, frame, values, row):
    """What a picked row filters. `values` are the API's (a null value, or the Other row past them, has no
    single value to filter by)."""
    if row is None:
        if by in FILTERABLE:  # other fields filter nothing: no invitation to try
            st.caption("Select a row (the box at its left) to show that event's events on the Events screen.")
        return
    shown = frame.iloc[row]["value"]
    value = values[row]["value"] if row < len(values) else None
    if by not in FILTERABLE or value is None:
        st.info(f"{text.literal(shown)} cannot filter other screens: the worker filters events by event name, "
                f"session and user only, not by {label.lower()}.", icon=":material/filter_alt_off:")
        return
    st.button(f"Show the {text.literal(value)} events", key="breakdown_show_events", icon=":material/list_alt:",
              on_click=show_events_of, args=(value,))
