"""Events explorer: filter by event, session and user; raw events newest first, paged; CSV of all matches."""
import zlib

import pandas as pd
import streamlit as st

from dashboard import exports, periods, shapes, text
from dashboard.screens import admin, states
from dashboard.screens.paging import Pager

ANY_EVENT = "Any event"
EVENT_KEY = "explorer_event"
PAGE_SIZES = [25, 50, 100, 250]
EXPORT_PAGE = 1000
EXPORT_MAX_PAGES = 50
ID_SUGGESTIONS = 20
TEXT_COLUMNS = ("user_id", "platform", "app_version", "country")  # may be empty: "—"


def render(reader, range_params):
    tz = range_params["tz"]
    reader.prefetch(lambda: reader.top_events(limit=1000), reader.aliases_for_app, reader.alias_map)
    names = reader.top_events(limit=1000)
    filters = render_filters(reader, [e["event"] for e in names])
    signature = (tuple(sorted(reader.scope.items())), tuple(sorted(filters.items())))
    size = st.session_state.get("explorer_page_size", 50)
    pager = Pager("explorer", signature + (size,))
    reader.prefetch(lambda: reader.events(limit=size, cursor=pager.cursor, **filters),
                    *([reader.overview] if not filters else []))
    body = reader.events(limit=size, cursor=pager.cursor, **filters)
    states.raw_events_reach(body, tz)
    if not body["events"] and pager.page == 1:
        states.nothing_in_range("events matching these filters")
        return
    admin_mode = reader.is_admin()
    picked = events_table(body["events"], tz, height=min(38 + 35 * size, 640), aliases=reader.alias_map(),
                          select_key=f"explorer_table_{zlib.crc32(repr((signature, pager.page)).encode())}"
                          if admin_mode else None)
    pager.controls(body["next_cursor"], len(body["events"]))
    # Below the table, by the pager: above it, the table's toolbar covered it on a phone.
    st.selectbox("Per page", PAGE_SIZES, index=PAGE_SIZES.index(50), key="explorer_page_size")
    if admin_mode:
        render_admin(reader, body["events"], picked)
    render_export(reader, filters, signature, matching_count(reader, filters, names), tz)


def render_admin(reader, events, picked):
    admin.show_outcome()
    if picked is None:
        st.caption("Admin: select an event (the box at its left) to delete it.")
        return
    admin.delete_event(reader, events[picked])


def events_table(events, tz, height=None, select_key=None, aliases=None):
    """The one way raw events are shown (Events screen, a user's events): same columns, names and times.
    With `select_key`, one row is selectable: returns its position, or None. `aliases`: Reader.alias_map()."""
    selectable = {"key": select_key, "on_select": "rerun", "selection_mode": "single-row"} if select_key else {}
    shown = st.dataframe(events_frame(events, tz, aliases), hide_index=True, width="stretch", height=height or "auto",
                         **selectable, column_config={
                             "timestamp": st.column_config.DatetimeColumn(f"Time ({tz})",
                                                                          format="D MMM YYYY, HH:mm:ss"),
                             "event": "Event", "app_id": "App", "user_id": "User", "session_id": "Session",
                             "platform": "Platform", "app_version": "Version", "country": "Country",
                             "properties": "Properties"})
    rows = shown.selection.rows if select_key and shown else []
    return rows[0] if rows and rows[0] < len(events) else None


def render_filters(reader, names):
    event, session, user = st.columns(3)
    if st.session_state.get(EVENT_KEY) not in (ANY_EVENT, *names):
        # Set by another screen (a breakdown's value) or a link, for a name this range does not have.
        st.session_state[EVENT_KEY] = ANY_EVENT
    aliases = reader.aliases_for_app()
    chosen = event.selectbox("Event", [ANY_EVENT, *names], key=EVENT_KEY,
                             format_func=lambda name: shapes.event_label(name, aliases))
    typed_session = session.text_input("Session", key="explorer_session", placeholder="a session id or its start",
                                       help="The whole id, or its first characters: pick one of the matches.")
    typed_user = user.text_input("User", key="explorer_user", placeholder="a user id or its start",
                                 help="The whole id, or its first characters: pick one of the matches.")
    filters = {"event": None if chosen == ANY_EVENT else chosen,
               "session_id": pick_id(reader, "session_id", "session", typed_session.strip()),
               "user_id": pick_id(reader, "user_id", "user", typed_user.strip())}
    return {k: v for k, v in filters.items() if v}


def pick_id(reader, field, noun, typed):
    """An exact id, or one picked among the ids that start with what was typed (the worker's index)."""
    if not typed:
        return None
    matches = reader.suggest(field, typed, limit=ID_SUGGESTIONS)
    if typed in matches or not matches:
        if not matches:
            st.caption(f"No {noun} id starts with {text.literal(typed)}.")
        return typed
    first = f"the first {len(matches)} " if len(matches) == ID_SUGGESTIONS else ""
    return st.selectbox(f"{noun.capitalize()} ids starting with {text.literal(typed)} ({first}in order)",
                        matches, key=f"explorer_{noun}_match")


def matching_count(reader, filters, names):
    """How many events match, from figures the API keeps for the range (rollups); None when it keeps none
    for these filters (a session or a user: /users figures are all-time, not the range's)."""
    if not filters:
        return reader.overview()["events"]
    if set(filters) == {"event"}:
        # A name missing from the list (beyond its limit) has no known count: None, not 0.
        return next((e["count"] for e in names if e["event"] == filters["event"]), None)
    return None


def alias_label(event, aliases):
    """An event's name as shown: its app's alias with the real name, or the name (`aliases`: alias_map())."""
    alias = (aliases or {}).get((event["app_id"], event["event"]))
    return shapes.event_label(event["event"], {event["event"]: alias} if alias else {})


def events_frame(events, tz="UTC", aliases=None):
    """Table rows; an aliased event shows its alias with its real name (the CSV keeps the real name)."""
    rows = [{**e, "timestamp": periods.parse_time(e["timestamp"], tz), "event": alias_label(e, aliases),
             "properties": exports.properties_text(e["properties"])} for e in events]
    return shapes.with_dashes(pd.DataFrame(rows, columns=exports.TABLE_COLUMNS), TEXT_COLUMNS)


def all_events(reader, filters, expected):
    """Every matching event, page by page, with a progress bar in events fetched."""
    events, cursor = [], None
    progress = st.progress(0.0, text="Fetching events …")
    for _ in range(EXPORT_MAX_PAGES):
        body = reader.events(limit=EXPORT_PAGE, cursor=cursor, **filters)
        events += body["events"]
        cursor = body["next_cursor"]
        of = f" of {expected:,}" if expected else ""
        progress.progress(min(len(events) / expected, 1.0) if expected else 0.0,
                          text=f"Fetched {len(events):,}{of} {'event' if (expected or len(events)) == 1 else 'events'}")
        if cursor is None:
            break
    return events, cursor is not None


def render_export(reader, filters, signature, expected, tz):
    size = text.plural(expected, "event") if expected is not None else None
    st.caption(("The table's own download icon saves only the page shown. " if expected != 0 else "")
               + (f"Matching these filters in this range: {size}." if size else
                  "The worker keeps no count for these filters in this range; preparing the CSV counts them.")
               + f" The CSV has the table's columns in that order, times in {tz}.")
    prepared = st.session_state.get("explorer_csv")
    if prepared is None or prepared["signature"] != signature:
        label = f"Prepare CSV of all {size}" if size else "Prepare CSV of all matching events"
        if not st.button(label, key="explorer_prepare_csv", icon=":material/download:"):
            return
        events, truncated = all_events(reader, filters, expected)
        prepared = {"signature": signature, "csv": exports.events_csv(events, tz), "count": len(events),
                    "truncated": truncated}
        st.session_state["explorer_csv"] = prepared
    note = " (the first ones; narrow the filters for the rest)" if prepared["truncated"] else ""
    st.download_button(f"Download {text.plural(prepared['count'], 'event')} as CSV{note}", prepared["csv"],
                       file_name="oddlytics-events.csv", mime="text/csv", key="explorer_download",
                       icon=":material/download:", type="primary")
