"""Apps: every app with its figures for the range, when it was first and last seen, and a sparkline."""
import pandas as pd
import streamlit as st

from dashboard import periods
from dashboard.screens import states

MAX_SPARKLINES = 30  # one timeline request per app; beyond this the column stays empty


def render(reader, range_params):
    apps = reader.apps()
    if not apps:
        states.nothing_in_range("apps")
        return
    interval = periods.interval_for(range_params)
    frame = apps_frame(apps, lambda app_id: [b["events"] for b in reader.timeline(interval, app_id=app_id)],
                       range_params["tz"])
    active = int((frame["events"] > 0).sum())
    st.caption(f"{len(frame)} app{'s' if len(frame) != 1 else ''} · {active} active in this range · "
               f"trend per {interval}")
    st.dataframe(
        frame, hide_index=True, width="stretch",
        column_config={
            "app_id": st.column_config.TextColumn("App", pinned=True),
            "trend": st.column_config.LineChartColumn(f"Events per {interval}", width="medium", y_min=0),
            "events": st.column_config.NumberColumn("Events", format="localized"),
            "sessions": st.column_config.NumberColumn("Sessions", format="localized"),
            "users": st.column_config.NumberColumn("Users", format="localized"),
            "total_events": st.column_config.NumberColumn("All-time events", format="localized"),
            "first_seen": st.column_config.DatetimeColumn("First seen", format="D MMM YYYY, HH:mm"),
            "last_seen": st.column_config.DatetimeColumn("Last seen", format="D MMM YYYY, HH:mm"),
        },
    )


def apps_frame(apps, trend_for, tz="UTC"):
    rows = []
    for index, app in enumerate(apps):
        trend = trend_for(app["app_id"]) if index < MAX_SPARKLINES else None
        rows.append({**app, "trend": trend,
                     "first_seen": periods.parse_time(app["first_seen"], tz),
                     "last_seen": periods.parse_time(app["last_seen"], tz)})
    columns = ["app_id", "trend", "events", "sessions", "users", "total_events", "first_seen", "last_seen"]
    return pd.DataFrame(rows, columns=columns)
