"""How people use the apps: session lengths, a funnel builder, and a retention grid."""
import streamlit as st

from dashboard import charts, periods, shapes, text
from dashboard.screens import states

WINDOWS = {"1 hour": "1h", "1 day": "1d", "7 days": "7d"}
FUNNEL_BY = {"User": "user", "Session": "session"}
MIN_STEPS, MAX_STEPS = 2, 6
COHORTS = {"Day": "day", "Week": "week"}
PERIODS = {"day": 14, "week": 8}
MAX_PERIODS = {"day": 31, "week": 26}  # the worker's limits
ANY_EVENT = "Any event"


def render_sessions(reader, range_params):
    body = reader.sessions()
    if not body["sessions"]:
        states.nothing_in_range("sessions")
        return
    cards = [("Sessions", periods.count(body["sessions"])),
             ("Median duration", shapes.duration_text(body["median_duration_s"])),
             ("90th percentile", shapes.duration_text(body["p90_duration_s"])),
             ("Events / session", periods.ratio(body["events_per_session"])),
             ("One-event sessions", f"{body['one_event_share'] * 100:.1f}%")]
    for column, (label, value) in zip(st.columns(len(cards)), cards):
        column.metric(label, value, border=True)
    st.subheader("Session duration")
    st.caption(f"Sessions that started in this range, by time from their first to their last event · "
               f"{text.plural(body['one_event_sessions'], 'session')} had one event (duration 0 s)")
    st.altair_chart(charts.histogram(body["histogram"]), width="stretch")


def render_funnel(reader, range_params):
    names = [e["event"] for e in reader.top_events(limit=1000)]
    if len(names) < MIN_STEPS:
        states.nothing_in_range(f"at least {MIN_STEPS} event names")
        return
    aliases = reader.aliases_for_app()
    steps = st.multiselect(f"Steps, in order ({MIN_STEPS} to {MAX_STEPS} event names)", names,
                           max_selections=MAX_STEPS, key="funnel_steps",
                           format_func=lambda name: shapes.event_label(name, aliases),
                           placeholder="Pick the first step, then the next …")
    window, by = st.columns(2)
    within = window.selectbox("Each step within", list(WINDOWS), index=1, key="funnel_within",
                              help="of the step before it")
    counted = by.radio("Count", list(FUNNEL_BY), horizontal=True, key="funnel_by",
                       help="User: steps may span sessions. Session: all steps in one session.")
    if len(steps) < MIN_STEPS:
        st.info(f"Pick at least {MIN_STEPS} steps.", icon=":material/filter_alt:")
        return
    body = reader.funnel(steps, WINDOWS[within], FUNNEL_BY[counted])
    frame = shapes.funnel_frame(body["steps"])
    first, last = frame.iloc[0], frame.iloc[-1]
    noun = "user" if FUNNEL_BY[counted] == "user" else "session"
    if not first["count"]:
        states.nothing_in_range(f"{noun}s that did {text.literal(steps[0])}"
                                + (" (events without a user id count only by session)" if noun == "user" else ""))
        return
    sampled = " · figures from a sample" if body.get("sampled") else ""
    st.caption(f"{text.plural(int(first['count']), noun)} did the first step in this range; "
               f"{int(last['count']):,} ({last['from_first']:.1f}%) reached the last, each step within {within} "
               f"of the one before{sampled}")
    st.altair_chart(charts.funnel(frame), width="stretch")
    table = frame.drop(columns="event").assign(median=frame["median_s"].map(shapes.duration_text))
    st.dataframe(table.drop(columns="median_s"), hide_index=True, width="stretch", column_config={
        "step": st.column_config.TextColumn("Step", width="medium"),
        "count": st.column_config.NumberColumn(f"{noun.capitalize()}s", format="localized"),
        "from_first": st.column_config.NumberColumn("% of the first", format="%.1f%%"),
        "from_previous": st.column_config.NumberColumn("% of the previous", format="%.1f%%"),
        "median": st.column_config.TextColumn("Median time from the previous"),
    })


def render_retention(reader, range_params):
    left, middle, right = st.columns(3)
    cohort = COHORTS[left.radio("Cohorts by first", list(COHORTS), index=1, horizontal=True, key="retention_cohort")]
    count = middle.number_input("Periods", 1, MAX_PERIODS[cohort], PERIODS[cohort], key=f"retention_periods_{cohort}")
    names = [e["event"] for e in reader.top_events(limit=1000)]
    returned = right.selectbox("Coming back means", [ANY_EVENT, *names], key="retention_event",
                               help="Any event, or one event name")
    body = reader.retention(cohort, count, event=None if returned == ANY_EVENT else returned)
    frame = shapes.retention_frame(body["cohorts"])
    if frame.empty:
        states.nothing_in_range("users with a user id")
        return
    sizes = {c["start"]: c["size"] for c in body["cohorts"]}
    st.caption(f"{text.plural(sum(sizes.values()), 'user')} first seen in this range, in "
               f"{text.plural(len(sizes), 'cohort')} by {cohort}"
               f"{' (weeks start on Monday)' if cohort == 'week' else ''} · each cell: the share of its cohort "
               f"active {cohort}s later (period 0 is the first {cohort}) · empty: not over yet")
    st.altair_chart(charts.retention(frame, f"First {cohort}"), width="stretch")
