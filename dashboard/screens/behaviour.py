"""How people use the apps: session lengths, a funnel builder, and a retention grid."""
import streamlit as st

from dashboard import charts, periods, shapes, text
from dashboard.screens import states

WINDOWS = {"1 hour": "1h", "1 day": "1d", "7 days": "7d"}
FUNNEL_BY = {"User": "user", "Session": "session"}
# The worker's `window`: the whole funnel within the time of its first step, or each step within it of the one before.
WINDOW_FROM = {"the first step": "first", "the step before": "previous"}
MIN_STEPS, MAX_STEPS = 2, 6
COHORTS = {"Day": "day", "Week": "week"}
PERIODS = {"day": 14, "week": 8}
MAX_PERIODS = {"day": 31, "week": 26}  # the worker's limits
DAY_COHORTS_UP_TO_DAYS = 30
ANY_EVENT = "Any event"


def render_sessions(reader, range_params):
    body = reader.sessions()
    if not body["sessions"]:
        states.nothing_in_range("sessions")
        return
    cards = [("Sessions", periods.count(body["sessions"])),
             ("Median duration", shapes.duration_text(body["median_duration_s"])),
             ("90th percentile", shapes.duration_text(body["p90_duration_s"])),
             # From the counts, as on Overview: the API's ratio and share are rounded already.
             ("Events / session", periods.ratio(periods.per_session(body["events"], body["sessions"]))),
             ("One-event sessions", f"{shapes.percent(body['one_event_sessions'], body['sessions']):.1f}%")]
    for column, (label, value) in zip(st.container(key="cards_sessions").columns(len(cards)), cards):
        column.metric(label, value, border=True)
    st.subheader("Session duration")
    st.caption(f"Sessions that started in this range, by time from their first to their last event · "
               f"{text.plural(body['one_event_sessions'], 'session')} had one event (duration 0 s)")
    st.altair_chart(charts.histogram(body["histogram"]), width="stretch")


def render_funnel(reader, range_params):
    state = st.session_state
    steps = state.get("funnel_steps") or []
    within, by = state.get("funnel_within", list(WINDOWS)[1]), state.get("funnel_by", next(iter(FUNNEL_BY)))
    measured = state.get("funnel_window", next(iter(WINDOW_FROM)))
    reader.prefetch(lambda: reader.top_events(limit=1000), reader.aliases_for_app,
                    *([lambda: reader.funnel(steps, WINDOWS[within], FUNNEL_BY[by], WINDOW_FROM[measured])]
                      if len(steps) >= MIN_STEPS else []))
    names = [e["event"] for e in reader.top_events(limit=1000)]
    if len(names) < MIN_STEPS:
        states.nothing_in_range(f"at least {MIN_STEPS} event names")
        return
    aliases = reader.aliases_for_app()
    steps = st.multiselect(f"Steps, in order ({MIN_STEPS} to {MAX_STEPS} event names)", names,
                           max_selections=MAX_STEPS, key="funnel_steps",
                           format_func=lambda name: shapes.event_label(name, aliases),
                           placeholder="Pick the first step, then the next …")
    window, start, by = st.columns(3)
    within = window.selectbox("Every step within", list(WINDOWS), index=1, key="funnel_within")
    measured = start.radio("of", list(WINDOW_FROM), horizontal=True, key="funnel_window",
                           help="The first step: the whole funnel within that time of its first step. The step "
                                "before: each step within that time of the step before it.")
    counted = by.radio("Count", list(FUNNEL_BY), horizontal=True, key="funnel_by",
                       help="User: steps may span sessions. Session: all steps in one session.")
    if len(steps) < MIN_STEPS:
        st.info(f"Pick at least {MIN_STEPS} steps.", icon=":material/filter_alt:")
        return
    body = reader.funnel(steps, WINDOWS[within], FUNNEL_BY[counted], WINDOW_FROM[measured])
    states.raw_events_reach(body, range_params["tz"])
    frame = shapes.funnel_frame(body["steps"], aliases)
    first, last = frame.iloc[0], frame.iloc[-1]
    noun = "user" if FUNNEL_BY[counted] == "user" else "session"
    if not first["count"]:
        states.nothing_in_range(f"{noun}s that did {text.literal(shapes.event_label(steps[0], aliases))}"
                                + (" (events without a user id count only by session)" if noun == "user" else ""))
        return
    if WINDOW_FROM[measured] != body.get("window", "first"):
        st.warning("This worker measures every step from the first step only (it has no `window` parameter "
                   "yet): the figures below are for that rule. Deploy the worker of this dashboard's version.",
                   icon=":material/upgrade:")
        measured = next(label for label, value in WINDOW_FROM.items() if value == "first")
    sampled = " · figures from a sample" if body.get("sampled") else ""
    st.caption(f"{text.plural(int(first['count']), noun)} did the first step in this range; "
               f"{int(last['count']):,} ({last['from_first']:.1f}%) reached the last, every step within {within} "
               f"of {measured}{sampled}")
    st.altair_chart(charts.funnel(frame), width="stretch")
    table = frame.drop(columns="event").assign(median=frame["median_s"].map(shapes.duration_text))
    st.dataframe(table.drop(columns="median_s"), hide_index=True, width="stretch", column_config={
        "step": st.column_config.TextColumn("Step", width="medium"),
        "count": st.column_config.NumberColumn(f"{noun.capitalize()}s", format="localized"),
        "from_first": st.column_config.NumberColumn("% of the first", format="%.1f%%"),
        "from_previous": st.column_config.NumberColumn("% of the previous", format="%.1f%%"),
        "median": st.column_config.TextColumn("Median time from the previous"),
    })


def default_cohort(range_params):
    """Day cohorts up to 30 days (a week cohort of a short range is still running, so it shows nothing over
    yet), week cohorts beyond."""
    return "Day" if periods.range_days(range_params) <= DAY_COHORTS_UP_TO_DAYS else "Week"


def render_retention(reader, range_params):
    state = st.session_state
    cohort = COHORTS[state.get("retention_cohort", default_cohort(range_params))]
    count = state.get(f"retention_periods_{cohort}", PERIODS[cohort])
    returned = state.get("retention_event", ANY_EVENT)
    reader.prefetch(lambda: reader.top_events(limit=1000), reader.aliases_for_app,
                    lambda: reader.retention(cohort, count, event=None if returned == ANY_EVENT else returned))
    left, middle, right = st.columns(3)
    cohort = COHORTS[left.radio("Cohorts by first", list(COHORTS), index=list(COHORTS).index(default_cohort(range_params)),
                                horizontal=True, key="retention_cohort")]
    count = middle.number_input("Periods", 1, MAX_PERIODS[cohort], PERIODS[cohort], key=f"retention_periods_{cohort}")
    names = [e["event"] for e in reader.top_events(limit=1000)]
    aliases = reader.aliases_for_app()
    returned = right.selectbox("Coming back means", [ANY_EVENT, *names], key="retention_event",
                               format_func=lambda name: name if name == ANY_EVENT else shapes.event_label(name, aliases),
                               help="Any event, or one event name")
    body = reader.retention(cohort, count, event=None if returned == ANY_EVENT else returned)
    states.raw_events_reach(body, range_params["tz"])
    frame = shapes.retention_frame(body["cohorts"])
    if frame.empty:
        states.nothing_in_range("users with a user id")
        return
    sizes = [c["size"] for c in body["cohorts"] if c["size"]]
    empty = len(body["cohorts"]) - len(sizes)
    running = frame.groupby("cohort")["users"].apply(lambda users: users.isna().all()).sum()
    st.caption(f"{text.plural(sum(sizes), 'user')} first seen in this range, in "
               f"{text.plural(len(sizes), 'cohort')} by {cohort}"
               + (f" ({text.plural(empty, cohort)} without new users left out)" if empty else "")
               + (f" · weeks start on {body.get('week_start', 'monday').capitalize()}" if cohort == "week" else "")
               + f" · each row: the cohort and its size; "
               f"each cell: the share of its cohort active {cohort}s later (period 0 is the first {cohort}) · "
               f"…: not over yet"
               + (f" ({text.plural(int(running), 'cohort')} with no {cohort} over yet)" if running else ""))
    st.altair_chart(charts.retention(frame, f"First {cohort}"), width="stretch")
