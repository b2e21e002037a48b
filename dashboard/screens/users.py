"""Users: who was active in the range (search, paging); pick one for their page: all-time figures per app,
activity in the range with repeats folded and properties readable, and (admin) deletion."""
import zlib

import pandas as pd
import streamlit as st

from dashboard import charts, periods, shapes, text
from dashboard.api import ApiError, MissingRoute
from dashboard.screens import admin, states
from dashboard.screens.explorer import alias_label, events_table
from dashboard.screens.paging import Pager

PAGE_SIZE = 25
ACTIVITY_LIMIT = 500
RUNS_SHOWN = 50
PAGE_KEY = "user_page"  # the user whose page is open (a row picked, or ?user= in a link)
TABLE_KEY = "users_table"
LINKED_KEY = "user_page_linked"  # the user whose page a link opened (shown above the list)
USER_COLUMN = 300  # px: a UUID (36 characters) whole
# The table and the cards show first/last seen alike (the cards take them from the selected row).
SEEN_FORMAT = "D MMM YYYY, HH:mm"


def render(reader, range_params):
    search = st.text_input("Search users", key="users_search", placeholder="part of a user id",
                           icon=":material/search:").strip()
    pager = Pager("users", (tuple(sorted(reader.scope.items())), search))
    linked = st.session_state.get(PAGE_KEY)
    reader.prefetch(lambda: reader.users(limit=PAGE_SIZE, cursor=pager.cursor, search=search),
                    *([lambda: reader.user(linked), lambda: reader.events(limit=ACTIVITY_LIMIT, user_id=linked),
                       reader.alias_map] if linked else []))
    body = reader.users(limit=PAGE_SIZE, cursor=pager.cursor, search=search)
    tz = range_params["tz"]
    # A page opened by a link (?user=) comes first, where the browser opens; the list follows it. It is drawn
    # once the table has said whether a row was picked instead (a pick shows that user below, as usual).
    top = st.container()
    if not body["users"] and pager.page == 1 and not linked:
        states.nothing_in_range("identified users" + (f" whose id contains {text.literal(search)}" if search else ""))
        return
    matching = f" whose id contains {text.literal(search)}" if search else ""
    st.caption(f"{text.plural(body['total'], 'user')}{matching} with a user id seen in this range · events, "
               "sessions and first/last seen are all-time · select a row (the box at its left) for that user's page")
    if any(str(u["user_id"]).startswith(states.DAILY) for u in body["users"]):
        st.caption(states.DAILY_NOTE)
    frame = users_frame(body["users"], tz)
    picked = users_table(frame, tz, (pager.signature, pager.page))
    pager.controls(body["next_cursor"], len(body["users"]))
    listed = next((u for u in body["users"] if u["user_id"] == linked), None)
    if picked is None and linked and st.session_state.get(LINKED_KEY) == linked:
        with top:
            render_user_page(reader, linked, tz, listed)
            st.button("Close this user's page", key="users_close_linked", icon=":material/close:",
                      on_click=close_linked_page)
            st.divider()
        return
    st.divider()
    if picked is not None:
        st.session_state.pop(LINKED_KEY, None)
        linked = st.session_state[PAGE_KEY] = frame.iloc[picked]["user_id"]
    if not linked:
        st.info("Select a row above (the box at its left) to see that user's page.", icon=":material/touch_app:")
        return
    if picked is None:
        st.button("Close this user's page", key="users_close", icon=":material/close:",
                  on_click=st.session_state.pop, args=(PAGE_KEY, None))
    render_user_page(reader, linked, tz, next((u for u in body["users"] if u["user_id"] == linked), None))


def close_linked_page():
    st.session_state.pop(PAGE_KEY, None)
    st.session_state.pop(LINKED_KEY, None)


def seen_text(moment):
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def users_table(frame, tz, listing):
    """The table, one row selectable; returns the picked row's position on this page, or None."""
    # A selection belongs to one page of one listing (app, range, search); another starts unselected.
    key = f"{TABLE_KEY}_{zlib.crc32(repr(listing).encode())}"
    selection = st.dataframe(
        frame, hide_index=True, width="stretch", key=key, on_select="rerun", selection_mode="single-row",
        column_config={
            "user_id": st.column_config.TextColumn("User", pinned=True, width=USER_COLUMN),
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


def render_user_page(reader, user_id, tz, listed=None):
    """`listed`: the user's row of the list, whose all-time figures stand in on a worker without /user."""
    st.subheader("User")
    st.code(user_id, language=None)  # literal, with a copy button
    if str(user_id).startswith(states.DAILY):
        st.caption(states.DAILY_NOTE)
    try:
        detail = reader.user(user_id)
    except MissingRoute as missing:
        states.needs_worker(missing)  # the cards can come from the list, the activity needs only GET /events
        detail = {**listed, "apps": None} if listed else None
    except ApiError as error:
        if error.status != 404:
            raise
        st.info(f"No events of the user {text.literal(user_id)} are stored.", icon=":material/person_off:")
        return
    if detail:
        render_cards(detail, tz)
    if detail and detail["apps"] is not None:
        render_apps(reader, detail, tz)
    render_activity(reader, user_id, tz)
    if detail and reader.is_admin():
        st.subheader("Admin")
        admin.show_outcome()
        admin.delete_user(reader, user_id, detail["events"])


def render_cards(detail, tz):
    first, last = (periods.parse_time(detail[k], tz) for k in ("first_seen", "last_seen"))
    st.caption("All-time figures of this user" + "".join(
        f" · {label}: " + ", ".join(text.literal(v) for v in detail.get(key) or []) for label, key in
        (("platforms", "platforms"), ("app versions", "app_versions")) if detail.get(key)))
    cards = [("Events", periods.count(detail["events"])), ("Sessions", periods.count(detail["sessions"])),
             (f"First seen ({tz})", seen_text(first)), (f"Last seen ({tz})", seen_text(last))]
    # Wider cards for the dates, which are written out as in the table.
    for column, (label, value) in zip(st.container(key="cards_user").columns([1, 1, 2, 2]), cards):
        column.metric(label, value, border=True)


def filter_by_app(app_id):
    st.session_state["app"] = app_id


def render_apps(reader, detail, tz):
    apps = detail["apps"]
    names = reader.app_names()
    frame = pd.DataFrame([{**a, "icon": names.get(a["app_id"], (None, None))[1],
                           "display_name": names.get(a["app_id"], (None, None))[0],
                           "first_seen": periods.parse_time(a.get("first_seen"), tz),
                           "last_seen": periods.parse_time(a.get("last_seen"), tz)} for a in apps],
                         columns=["icon", "app_id", "display_name", "events", "sessions", "first_seen", "last_seen"])
    frame = shapes.with_dashes(shapes.without_empty(frame), ("display_name",))
    # The worker pages this list (issue 18): the first page is its most recently seen apps.
    shown = (f" · the {len(apps)} most recently seen of {periods.count(detail['apps_total'])} apps"
             if detail.get("apps_next_cursor") and detail.get("apps_total") else "")
    st.caption(f"Per app, all-time{shown} · select an app to filter every screen by it")
    selection = st.dataframe(
        frame, hide_index=True, width="stretch", key=f"user_apps_{zlib.crc32(detail['user_id'].encode())}",
        on_select="rerun", selection_mode="single-row", column_config={
            "icon": st.column_config.ImageColumn("", width="small"),
            "app_id": st.column_config.TextColumn("App"),
            "display_name": st.column_config.TextColumn("Name"),
            "events": st.column_config.NumberColumn("Events", format="localized"),
            "sessions": st.column_config.NumberColumn("Sessions", format="localized"),
            "first_seen": st.column_config.DatetimeColumn(f"First seen ({tz})", format=SEEN_FORMAT),
            "last_seen": st.column_config.DatetimeColumn(f"Last seen ({tz})", format=SEEN_FORMAT)})
    rows = selection.selection.rows if selection else []
    if rows and rows[0] < len(apps):
        app = apps[rows[0]]
        st.button(f"Show only {text.literal(app['app_id'])}", key="user_filter_app", icon=":material/filter_alt:",
                  on_click=filter_by_app, args=(app["app_id"],))
        if reader.is_admin():
            admin.delete_user(reader, detail["user_id"], app["events"], app_id=app["app_id"])


def render_activity(reader, user_id, tz):
    st.subheader("Activity")
    body = reader.events(limit=ACTIVITY_LIMIT, user_id=user_id)
    states.raw_events_reach(body, tz)
    events = body["events"]
    if not events:
        states.nothing_in_range(f"events carrying the user id {text.literal(user_id)}")
        return
    st.caption(f"Events in this range{f' (the latest {ACTIVITY_LIMIT:,})' if body['next_cursor'] else ''}")
    aliases = reader.alias_map()
    st.altair_chart(charts.user_activity([{**e, "event": alias_label(e, aliases)} for e in events], tz),
                    width="stretch")
    render_event_runs(events, tz, aliases)
    with st.expander(f"Events of {text.literal(user_id)}, newest first", expanded=False):
        events_table(events, tz, aliases=aliases)


def render_event_runs(events, tz, aliases=None):
    """Newest first, repeats folded ("3× within 5 min"); each opens to its properties, shown as JSON."""
    runs = shapes.fold_repeats(events)
    st.caption(f"{text.plural(len(events), 'event')} as {text.plural(len(runs), 'entry', 'entries')}: the same "
               f"event repeated in one session within {shapes.REPEAT_WINDOW_LABEL} is folded · open one for its "
               "properties")
    for run in runs[:RUNS_SHOWN]:
        when = periods.parse_time(run["events"][0]["timestamp"], tz)
        repeat = f" · {shapes.run_label(run)}" if len(run["events"]) > 1 else ""
        name = alias_label(run["events"][0], aliases)
        with st.expander(f"{when:%d %b %H:%M:%S} · {text.literal(name)}{repeat} · app "
                         f"{text.literal(run['app_id'])}"):
            for event in run["events"]:
                st.caption(f"{periods.parse_time(event['timestamp'], tz):%d %b %Y %H:%M:%S} {tz} · session "
                           f"{text.literal(event['session_id'])}" + "".join(
                               f" · {label} {text.literal(event[key])}" for label, key in
                               (("platform", "platform"), ("version", "app_version"), ("country", "country"))
                               if event.get(key)))
                st.json(event["properties"] or {}, expanded=True)
    if len(runs) > RUNS_SHOWN:
        st.caption(f"The latest {RUNS_SHOWN} entries are shown; the table below has every event.")
