"""Apps: every app with its figures for the range, when it was first and last seen, and a sparkline; select
one for its page (every event name by group; in admin mode its settings, aliases and deletion)."""
import zlib

import pandas as pd
import streamlit as st

from dashboard import periods, shapes, text
from dashboard.screens import admin, states

MAX_SPARKLINES = 30  # one timeline request per app; beyond this the column stays empty
ALL_EVENT_NAMES = 1000  # the worker's largest /stats/events limit
PAGE_KEY = "app_page"


def render(reader, range_params):
    apps = reader.apps()
    if not apps:
        admin.show_outcome()  # e.g. the last app was just deleted
        states.nothing_in_range("apps")
        return
    interval, tz = periods.interval_for(range_params), range_params["tz"]
    reader.prefetch(*(lambda app_id=a["app_id"]: reader.timeline(interval, app_id=app_id) for a in apps))
    frame = apps_frame(apps, lambda app_id: [b["events"] for b in reader.timeline(interval, app_id=app_id)], tz)
    frame = shapes.with_dashes(shapes.without_empty(frame), ("display_name",))
    active = int((frame["events"] > 0).sum())
    st.caption(f"{text.plural(len(frame), 'app')} · {active} active in this range · trend per {interval}, "
               f"on one scale for every app · first and last seen in {tz} · select a row (the box at its left) "
               "for the app's page")
    key = f"apps_table_{zlib.crc32(repr(sorted(reader.scope.items())).encode())}"
    selection = st.dataframe(
        frame, hide_index=True, width="stretch", key=key, on_select="rerun", selection_mode="single-row",
        column_config={
            "icon": st.column_config.ImageColumn("", width="small", help="Icon (https URLs only)", pinned=True),
            "app_id": st.column_config.TextColumn("App", pinned=True),
            "display_name": st.column_config.TextColumn("Name"),
            "trend": st.column_config.LineChartColumn(f"Events per {interval}", width="medium", y_min=0,
                                                     y_max=trend_ceiling(frame["trend"])),
            "events": st.column_config.NumberColumn("Events", format="localized"),
            "sessions": st.column_config.NumberColumn("Sessions", format="localized"),
            "users": st.column_config.NumberColumn("Users", format="localized"),
            "total_events": st.column_config.NumberColumn("All-time events", format="localized"),
            # The zone in the help and the caption, not the header: at 1,440 px the table fits without a scroll.
            "first_seen": st.column_config.DatetimeColumn("First seen", format="D MMM YYYY, HH:mm", help=f"In {tz}"),
            "last_seen": st.column_config.DatetimeColumn("Last seen", format="D MMM YYYY, HH:mm", help=f"In {tz}"),
        },
    )
    rows = selection.selection.rows if selection else []
    st.divider()
    if rows and rows[0] < len(apps):
        st.session_state[PAGE_KEY] = apps[rows[0]]["app_id"]
    # The page stays open while its row's selection resets (the table's figures change after an edit).
    app = next((a for a in apps if a["app_id"] == st.session_state.get(PAGE_KEY)), None)
    if app is None:
        admin.show_outcome()  # an app deleted from its page: its page is gone, what happened is said here
        st.info("Select a row above (the box at its left) to see that app's page.", icon=":material/touch_app:")
        return
    if not rows:
        st.button("Close this app's page", key="apps_close", icon=":material/close:",
                  on_click=st.session_state.pop, args=(PAGE_KEY, None))
    render_app_page(reader, app)


def render_app_page(reader, app):
    app_id = app["app_id"]
    icon = shapes.https_icon(app.get("icon_url"))
    if icon:
        st.image(icon, width=64)
    name = app.get("display_name")
    st.subheader(text.literal(name or app_id))
    st.caption(f"App id {text.literal(app_id)} · every event name in "
               "this range with its count and share, by group (an event's group is its `group` property)")
    events = reader.top_events(limit=ALL_EVENT_NAMES, app_id=app_id)
    groups = states.unless_missing(lambda: reader.groups(app_id=app_id))
    aliases = reader.aliases_for_app(app_id)
    frame = shapes.groups_frame(groups or [], events, aliases)
    if frame.empty:
        states.nothing_in_range(f"events of {text.literal(app_id)}")
    else:
        st.dataframe(frame, hide_index=True, width="stretch", height=min(38 + 35 * len(frame), 640), column_config={
            "group": st.column_config.TextColumn("Group"),
            "event": st.column_config.TextColumn("Event", width="large",
                                                 help="An alias shows first, the real name in brackets"),
            "count": st.column_config.NumberColumn("Events", format="localized"),
            "share": st.column_config.ProgressColumn("Share", format="%.1f%%", min_value=0, max_value=100),
        })
    if reader.is_admin():
        admin.app_controls(reader, app, [e["event"] for e in events], aliases)


def trend_ceiling(trends):
    """One y scale for every sparkline, at least 1: with y_min = y_max = 0 (no events in the range) the
    column fails with "Invalid min/max y-axis configuration" instead of drawing a flat line."""
    return max([1, *(max(trend) for trend in trends if trend)])


def apps_frame(apps, trend_for, tz="UTC"):
    rows = []
    for index, app in enumerate(apps):
        trend = trend_for(app["app_id"]) if index < MAX_SPARKLINES else None
        rows.append({**app, "trend": trend, "icon": shapes.https_icon(app.get("icon_url")),
                     "first_seen": periods.parse_time(app["first_seen"], tz),
                     "last_seen": periods.parse_time(app["last_seen"], tz)})
    columns = ["icon", "app_id", "display_name", "trend", "events", "sessions", "users", "total_events",
               "first_seen", "last_seen"]
    return pd.DataFrame(rows, columns=columns)
