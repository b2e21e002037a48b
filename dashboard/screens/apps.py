"""Apps: every app with its figures for the range, when it was first and last seen, and a sparkline."""
import pandas as pd
import streamlit as st

from dashboard import periods, text
from dashboard.screens import states

MAX_SPARKLINES = 30  # one timeline request per app; beyond this the column stays empty


def render(reader, range_params):
    apps = reader.apps()
    if not apps:
        states.nothing_in_range("apps")
        return
    interval, tz = periods.interval_for(range_params), range_params["tz"]
    frame = apps_frame(apps, lambda app_id: [b["events"] for b in reader.timeline(interval, app_id=app_id)], tz)
    active = int((frame["events"] > 0).sum())
    st.caption(f"{text.plural(len(frame), 'app')} · {active} active in this range · trend per {interval}, "
               "on one scale for every app")
    st.dataframe(
        frame, hide_index=True, width="stretch",
        column_config={
            "app_id": st.column_config.TextColumn("App", pinned=True),
            "trend": st.column_config.LineChartColumn(f"Events per {interval}", width="medium", y_min=0,
                                                     y_max=trend_ceiling(frame["trend"])),
            "events": st.column_config.NumberColumn("Events", format="localized"),
            "sessions": st.column_config.NumberColumn("Sessions", format="localized"),
            "users": st.column_config.NumberColumn("Users", format="localized"),
            "total_events": st.column_config.NumberColumn("All-time events", format="localized"),
            "first_seen": st.column_config.DatetimeColumn(f"First seen ({tz})", format="D MMM YYYY, HH:mm"),
            "last_seen": st.column_config.DatetimeColumn(f"Last seen ({tz})", format="D MMM YYYY, HH:mm"),
        },
    )


def trend_ceiling(trends):
    """One y scale for every sparkline, at least 1: with y_min = y_max = 0 (no events in the range) the
    column fails with "Invalid min/max y-axis configuration" instead of drawing a flat line."""
    return max([1, *(max(trend) for trend in trends if trend)])


def apps_frame(apps, trend_for, tz="UTC"):
    rows = []
    for index, app in enumerate(apps):
        trend = trend_for(app["app_id"]) if index < MAX_SPARKLINES else None
        rows.append({**app, "trend": trend,
                     "first_seen": periods.parse_time(app["first_seen"], tz),
                     "last_seen": periods.parse_time(app["last_seen"], tz)})
    columns = ["app_id", "trend", "events", "sessions", "users", "total_events", "first_seen", "last_seen"]
    return pd.DataFrame(rows, columns=columns)
