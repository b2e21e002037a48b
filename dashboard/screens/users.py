"""Users: who was active in the range (search, paging); click a row for that user's activity."""
import zlib

import pandas as pd
import streamlit as st

from dashboard import charts, periods, text
from dashboard.screens import states
from dashboard.screens.explorer import events_table
from dashboard.screens.paging import Pager

PAGE_SIZE = 25
ACTIVITY_LIMIT = 500
TABLE_KEY = "users_table"
# The table and the cards show first/last seen alike (the cards take them from the selected row).
SEEN_FORMAT = "D MMM YYYY, HH:mm"


def render(reader, range_params):
    search = st.text_input("Search users", key="users_search", placeholder="part of a user id",
                           icon=":material/search:").strip()
    pager = Pager("users", (tuple(sorted(reader.scope.items())), search))
    body = reader.users(limit=PAGE_SIZE, cursor=pager.cursor, search=search)
    if not body["users"] and pager.page == 1:
        states.nothing_in_range("identified users" + (f" whose id contains {text.literal(search)}" if search else ""))
        return
    matching = f" whose id contains {text.literal(search)}" if search else ""
    st.caption(f"{text.plural(body['total'], 'user')}{matching} with a user id seen in this range · events, "
               "sessions and first/last seen are all-time · select a row (the box at its left) for that user's activity")
    tz = range_params["tz"]
    frame = users_frame(body["users"], tz)
    picked = users_table(frame, tz, (pager.signature, pager.page))
    pager.controls(body["next_cursor"], len(body["users"]))
    st.divider()
    if picked is None:
        st.info("Select a row above (the box at its left) to see that user's activity.", icon=":material/touch_app:")
        return
    render_activity(reader, frame.iloc[picked], tz)


def seen_text(moment):
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def users_table(frame, tz, listing):
    """The table, one row selectable; returns the picked row's position on this page, or None."""
    # A selection belongs to one page of one listing (app, range, search); another starts unselected.
    key = f"{TABLE_KEY}_{zlib.crc32(repr(listing).encode())}"
    selection = st.dataframe(
        frame, hide_index=True, width="stretch", key=key, on_select="rerun", selection_mode="single-row",
        column_config={
            "user_id": st.column_config.TextColumn("User", pinned=True),
            "events": st.column_config.NumberColumn("Events", format="localized"),
            "sessions": st.column_config.NumberColumn("Sessions", format="localized"),
            "apps": st.column_config.NumberColumn("Apps"),
            "first_seen": st.column_config.DatetimeColumn(f"First seen ({tz})", format=SEEN_FORMAT),
            "last_seen": st.column_config.DatetimeColumn(f"Last seen ({tz})", format=SEEN_FORMAT),
        })
    rows = selection.selection.rows if selection else []
    return rows[0] if rows and rows[0] < len(frame) else None


def users_frame(users, tz="UTC"):
    rows = [{**u, "first_seen": periods.parse_time(u["first_seen"], tz),
             "last_seen": periods.parse_time(u["last_seen"], tz)} for u in users]
    return pd.DataFrame(rows, columns=["user_id", "events", "sessions", "apps", "first_seen", "last_seen"])


def render_activity(reader, user, tz):
    user_id = user["user_id"]
    st.subheader("Activity")
    st.caption(f"User {text.literal(user_id)}: all-time figures; the chart and table show the events in this range")
    cards = [("Events", periods.count(int(user["events"]))), ("Sessions", periods.count(int(user["sessions"]))),
             (f"First seen ({tz})", seen_text(user["first_seen"])), (f"Last seen ({tz})", seen_text(user["last_seen"]))]
    # Wider cards for the dates, which are written out as in the table.
    for column, (label, value) in zip(st.columns([1, 1, 2, 2]), cards):
        column.metric(label, value, border=True)
    body = reader.events(limit=ACTIVITY_LIMIT, user_id=user_id)
    events = body["events"]
    if not events:
        states.nothing_in_range(f"events carrying the user id {text.literal(user_id)}")
        return
    if body["next_cursor"]:
        st.caption(f"The chart and the table show the latest {ACTIVITY_LIMIT:,} events.")
    st.altair_chart(charts.user_activity(events, tz), width="stretch")
    with st.expander(f"Events of {text.literal(user_id)}, newest first", expanded=False):
        events_table(events, tz)
