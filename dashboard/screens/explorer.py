"""Events explorer: filter by event, session and user; raw events newest first, paged; CSV download."""
import pandas as pd
import streamlit as st

from dashboard import exports, periods
from dashboard.screens import states
from dashboard.screens.paging import Pager

ANY_EVENT = "Any event"
PAGE_SIZES = [25, 50, 100, 250]
EXPORT_PAGE = 1000
EXPORT_MAX_PAGES = 50


def render(reader, range_params):
    filters = render_filters(reader)
    signature = (tuple(sorted(reader.scope.items())), tuple(sorted(filters.items())))
    size = st.session_state.get("explorer_page_size", 50)
    pager = Pager("explorer", signature + (size,))
    body = reader.events(limit=size, cursor=pager.cursor, **filters)
    if not body["events"] and pager.page == 1:
        states.nothing_in_range("events matching these filters")
        return
    tz = range_params["tz"]
    time_column = st.column_config.DatetimeColumn(f"Time ({tz})", format="D MMM YYYY, HH:mm:ss")
    st.dataframe(events_frame(body["events"], tz), hide_index=True, width="stretch", height=min(38 + 35 * size, 640),
                 column_config={"timestamp": time_column,
                                "event": "Event", "app_id": "App", "user_id": "User", "session_id": "Session",
                                "platform": "Platform", "app_version": "Version", "country": "Country",
                                "properties": "Properties"})
    pager.controls(body["next_cursor"], len(body["events"]))
    render_export(reader, filters, signature)


def render_filters(reader):
    names = [e["event"] for e in reader.top_events(limit=1000)]
    event, session, user, size = st.columns([2, 2, 2, 1])
    chosen = event.selectbox("Event", [ANY_EVENT, *names], key="explorer_event")
    session_id = session.text_input("Session", key="explorer_session", placeholder="session id").strip()
    user_id = user.text_input("User", key="explorer_user", placeholder="user id").strip()
    size.selectbox("Per page", PAGE_SIZES, index=1, key="explorer_page_size")
    filters = {"event": None if chosen == ANY_EVENT else chosen, "session_id": session_id, "user_id": user_id}
    return {k: v for k, v in filters.items() if v}


def events_frame(events, tz="UTC"):
    rows = [{**e, "timestamp": periods.parse_time(e["timestamp"], tz),
             "properties": exports.properties_text(e["properties"])} for e in events]
    columns = ["timestamp", "event", "app_id", "user_id", "session_id", "platform", "app_version", "country",
               "properties"]
    return pd.DataFrame(rows, columns=columns)


def all_events(reader, filters):
    events, cursor = [], None
    for _ in range(EXPORT_MAX_PAGES):
        body = reader.events(limit=EXPORT_PAGE, cursor=cursor, **filters)
        events += body["events"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    return events, cursor is not None


def render_export(reader, filters, signature):
    prepared = st.session_state.get("explorer_csv")
    if prepared is None or prepared["signature"] != signature:
        if st.button("Prepare CSV of all matching events", key="explorer_prepare_csv", icon=":material/download:"):
            events, truncated = all_events(reader, filters)
            prepared = {"signature": signature, "csv": exports.events_csv(events), "count": len(events),
                        "truncated": truncated}
            st.session_state["explorer_csv"] = prepared
        else:
            return
    note = f" (the first {prepared['count']:,}; narrow the filters for the rest)" if prepared["truncated"] else ""
    st.download_button(f"Download {prepared['count']:,} events as CSV{note}", prepared["csv"],
                       file_name="oddlytics-events.csv", mime="text/csv", key="explorer_download",
                       icon=":material/download:", type="primary")
