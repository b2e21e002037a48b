"""Users: who was active in the range (search, paging), and one user's activity timeline."""
import pandas as pd
import streamlit as st

from dashboard import charts, periods
from dashboard.screens import states
from dashboard.screens.explorer import events_frame
from dashboard.screens.paging import Pager

PAGE_SIZE = 25
ACTIVITY_LIMIT = 500


def render(reader, range_params):
    search = st.text_input("Search users", key="users_search", placeholder="part of a user id",
                           icon=":material/search:").strip()
    pager = Pager("users", (tuple(sorted(reader.scope.items())), search))
    body = reader.users(limit=PAGE_SIZE, cursor=pager.cursor, search=search)
    if not body["users"] and pager.page == 1:
        states.nothing_in_range("identified users" + (f" matching “{search}”" if search else ""))
        return
    st.caption(f"{periods.count(body['total'])} user{'s' if body['total'] != 1 else ''} with a user id in this range"
               " · first/last seen to the hour")
    tz = range_params["tz"]
    st.dataframe(users_frame(body["users"], tz), hide_index=True, width="stretch",
                 column_config={
                     "user_id": st.column_config.TextColumn("User", pinned=True),
                     "events": st.column_config.NumberColumn("Events", format="localized"),
                     "sessions": st.column_config.NumberColumn("Sessions", format="localized"),
                     "apps": st.column_config.NumberColumn("Apps"),
                     "first_seen": st.column_config.DatetimeColumn(f"First seen ({tz})", format="D MMM YYYY, HH:mm"),
                     "last_seen": st.column_config.DatetimeColumn(f"Last seen ({tz})", format="D MMM YYYY, HH:mm"),
                 })
    pager.controls(body["next_cursor"], len(body["users"]))
    st.divider()
    user_id = st.selectbox("Activity of", [u["user_id"] for u in body["users"]], key="users_pick")
    render_activity(reader, user_id, tz)


def users_frame(users, tz="UTC"):
    rows = [{**u, "first_seen": periods.parse_time(u["first_seen"], tz),
             "last_seen": periods.parse_time(u["last_seen"], tz)} for u in users]
    return pd.DataFrame(rows, columns=["user_id", "events", "sessions", "apps", "first_seen", "last_seen"])


def render_activity(reader, user_id, tz):
    body = reader.events(limit=ACTIVITY_LIMIT, user_id=user_id)
    events = body["events"]
    if not events:
        states.nothing_in_range(f"events carrying the user id {user_id}")
        return
    sessions = {(e["app_id"], e["session_id"]) for e in events}
    more = "+" if body["next_cursor"] else ""
    first, last = periods.parse_time(events[-1]["timestamp"], tz), periods.parse_time(events[0]["timestamp"], tz)
    cards = [("Events", f"{len(events):,}{more}"), ("Sessions", f"{len(sessions):,}{more}"),
             ("First event", f"{first:%d %b %H:%M}"), ("Latest event", f"{last:%d %b %H:%M}")]
    for column, (label, value) in zip(st.columns(4), cards):
        column.metric(label, value, border=True)
    st.altair_chart(charts.user_activity(events, tz), width="stretch")
    with st.expander(f"Events of {user_id}, newest first", expanded=False):
        st.dataframe(events_frame(events, tz), hide_index=True, width="stretch")
