"""Overview: KPI cards with change vs the previous period, active users, events over time against the previous
period, top events, weekday x hour, and a year of daily active users."""
from datetime import date, datetime, timezone

import pandas as pd
import streamlit as st

from dashboard import charts, periods, shapes, text
from dashboard.screens import states


TOP_SHOWN = 10
SMALL_COLUMN = 80  # px
ALL_EVENT_NAMES = 1000  # the worker's largest /stats/events limit


def render(reader, range_params):
    tz = range_params["tz"]
    interval = periods.interval_for(range_params)
    year = periods.year_params(periods.today_in("UTC"))
    # Every read below starts now, together; the previous period's timeline once the overview has said which.
    reader.prefetch(reader.overview, lambda: reader.active("day"), lambda: reader.suggest("user_id", states.DAILY, limit=1),
                    lambda: reader.timeline(interval), lambda: reader.top_events(limit=ALL_EVENT_NAMES),
                    reader.aliases_for_app, reader.heatmap, lambda: reader.calendar(year))
    figures = reader.overview()
    previous_span = periods.previous_params(range_params, figures["previous"])
    if figures["events"]:
        reader.prefetch(lambda: reader.timeline(interval, span=previous_span))
    render_kpis(figures, tz)
    active = states.unless_missing(lambda: reader.active("day"))
    if active:
        render_active_cards(active)
    if figures["users"] and states.unless_missing(lambda: reader.suggest("user_id", states.DAILY, limit=1)):
        st.caption(states.DAILY_NOTE)  # some users of these apps are daily visitors (issue 17)
    if figures["events"] == 0:
        states.nothing_in_range()
        return
    buckets = reader.timeline(interval)
    previous = reader.timeline(interval, span=previous_span)
    # Equal halves: at 1440 px the top events table (name, two counts, share bar) fits without clipping.
    left, right = st.columns(2, gap="large")
    with left:
        render_timeline(buckets, interval, tz, previous, active if interval == "day" else None)
    with right:
        render_top_events(reader.top_events(limit=ALL_EVENT_NAMES), figures["events"], reader.aliases_for_app())
    render_heatmap(reader.heatmap(), tz)
    render_calendar(reader, year)


def render_active_cards(active):
    day = active["buckets"][-1]["date"] if active["buckets"] else None
    cards = [("Daily active users", active["dau"], f"Users with an event on {day}"),
             ("Weekly active users", active["wau"], f"Users with an event in the 7 days ending {day}"),
             ("Monthly active users", active["mau"], f"Users with an event in the 30 days ending {day}")]
    for column, (label, value, help_text) in zip(st.container(key="cards_active").columns(4), cards):
        column.metric(label, periods.count(value), help=help_text, border=True)


def render_kpis(figures, tz):
    previous = figures["previous"]
    ratio, previous_ratio = (periods.per_session(f["events"], f["sessions"]) for f in (figures, previous))
    cards = [
        ("Events", periods.count(figures["events"]), periods.change(figures["events"], previous["events"])),
        ("Sessions", periods.count(figures["sessions"]), periods.change(figures["sessions"], previous["sessions"])),
        ("Users", periods.count(figures["users"]), periods.change(figures["users"], previous["users"])),
        ("Events / session", periods.ratio(ratio), periods.change(ratio, previous_ratio)),
    ]
    help_text = f"Change against the previous period, {periods.range_label(previous, tz)}"
    for column, (label, value, delta) in zip(st.container(key="cards_totals").columns(4), cards):
        kpi(column, label, value, delta, help_text)


def kpi(column, label, value, delta, help_text):
    """A card; no change is grey and without an arrow (app.STYLE hides it inside `flat_delta` containers:
    st.metric has no neutral direction for a delta it is given)."""
    if periods.is_flat(delta):
        flat = column.container(key=f"flat_delta_{label.lower().replace(' ', '_').replace('/', '')}")
        flat.metric(label, value, delta, delta_color="off", help=help_text, border=True)
    else:
        column.metric(label, value, delta, help=help_text, border=True)


def render_timeline(buckets, interval, tz, previous=None, active=None):
    st.subheader("Events over time")
    now = datetime.now(timezone.utc)
    buckets = periods.started_by(buckets, now)
    peak = max(buckets, key=lambda b: b["events"])
    when = periods.parse_time(peak["t"], tz)
    when_text = f"at {when:%d %b %H:%M} {tz}" if interval == "hour" else f"on {when:%a %d %b}"
    unfinished = periods.is_unfinished(buckets[-1], interval, tz, now)
    overlay = shapes.previous_overlay(buckets, previous) if previous else None
    earlier = f" · previous period: {text.plural(sum(b['events'] for b in previous), 'event')} (dotted)" \
        if previous else ""
    st.caption(f"Per {interval} · peak {text.plural(peak['events'], 'event')} {when_text}{earlier}"
               + (f" · the current {interval} is still running (dashed)" if unfinished else ""))
    by_date = {b["date"]: b["active"] for b in active["buckets"]} if active else None
    active_by_t = {b["t"]: by_date.get(b["date"], 0) for b in buckets} if by_date is not None else None
    st.altair_chart(charts.timeline(buckets, interval, tz, unfinished, overlay, active_by_t), width="stretch")


def top_events_frame(events, total, shown=TOP_SHOWN, aliases=None):
    """The `shown` most frequent names, and one "Other" row for the rest so the shares add up to 100%.
    `aliases` ({name: alias}) shows an alias with its real name."""
    named = [{**e, "event": shapes.event_label(e["event"], aliases or {})} for e in events[:shown]]
    frame = pd.DataFrame(named, columns=["event", "count", "sessions"])
    rest = events[shown:]
    other = total - int(frame["count"].sum())
    if other > 0:
        label = f"Other ({text.plural(len(rest), 'event name')})" if rest else "Other"
        # Sessions of different names overlap, so the rest has no session count to show.
        frame.loc[len(frame)] = [label, other, float("nan")]
    frame["share"] = frame["count"] / total * 100 if total else 0
    return frame


def top_events_table(frame, height):
    st.dataframe(
        frame, hide_index=True, width="stretch", height=height,
        column_config={
            "event": st.column_config.TextColumn("Event", width="medium"),
            "count": st.column_config.NumberColumn("Events", format="localized", width=SMALL_COLUMN),
            "sessions": st.column_config.NumberColumn(
                "Sessions", format="localized", width=SMALL_COLUMN,
                help="Distinct sessions with this event. None for Other: one session can hold several of its names."),
            "share": st.column_config.ProgressColumn("Share", format="%.1f%%", min_value=0, max_value=100,
                                                     width=SMALL_COLUMN),
        },
    )


def render_top_events(events, total, aliases=None):
    st.subheader("Top events")
    frame = top_events_frame(events, total, aliases=aliases)
    top_events_table(frame, min(38 + 35 * len(frame), 440))
    if aliases:
        st.caption("An event with an alias shows it first, its real name in brackets.")
    if len(events) > TOP_SHOWN:
        with st.expander(f"All {text.plural(len(events), 'event name')}"):
            top_events_table(top_events_frame(events, total, shown=len(events), aliases=aliases),
                             min(38 + 35 * len(events), 600))


def render_heatmap(cells, tz):
    st.subheader("When people use your apps")
    busiest = max(cells, key=lambda c: c["events"])
    st.caption(f"Events by weekday and hour ({tz}) · busiest: {busiest['weekday']} "
               f"{busiest['hour']:02d}:00 with {text.plural(busiest['events'], 'event')}")
    st.altair_chart(charts.heatmap(cells, tz), width="stretch")


def render_calendar(reader, span):
    st.subheader("Daily active users, last 365 days")
    year = states.unless_missing(lambda: reader.calendar(span))
    if not year:
        return
    cells = shapes.calendar_frame(year["days"], date.fromisoformat(span["from"]), date.fromisoformat(span["to"]))
    busiest = cells.loc[cells["active"].idxmax()] if len(cells) else None
    days_active = int((cells["active"] > 0).sum())
    st.caption(f"{text.plural(days_active, 'day')} with active users (UTC days, weeks start on Sunday)"
               + (f" · busiest: {busiest['date']} with {text.plural(int(busiest['active']), 'user')}"
                  if busiest is not None and busiest["active"] else ""))
    st.altair_chart(charts.calendar(cells), width="stretch")
