"""Overview: KPI cards with change vs the previous period, events over time, top events, weekday x hour."""
import pandas as pd
import streamlit as st

from dashboard import charts, periods
from dashboard.screens import states


def render(reader, range_params):
    tz = range_params["tz"]
    figures = reader.overview()
    render_kpis(figures, tz)
    if figures["events"] == 0:
        states.nothing_in_range()
        return
    interval = periods.interval_for(range_params)
    buckets = reader.timeline(interval)
    left, right = st.columns([3, 2], gap="large")
    with left:
        render_timeline(buckets, interval, tz)
    with right:
        render_top_events(reader.top_events(limit=10), figures["events"])
    render_heatmap(reader.heatmap(), tz)


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
    for column, (label, value, delta) in zip(st.columns(4), cards):
        column.metric(label, value, delta, help=help_text, border=True)


def render_timeline(buckets, interval, tz):
    st.subheader("Events over time")
    peak = max(buckets, key=lambda b: b["events"])
    when = periods.parse_time(peak["t"], tz)
    when_text = f"at {when:%d %b %H:%M} {tz}" if interval == "hour" else f"on {when:%a %d %b}"
    st.caption(f"Per {interval} · peak {periods.count(peak['events'])} events {when_text} · "
               "sessions dashed")
    st.altair_chart(charts.timeline(buckets, interval, tz), width="stretch")


def render_top_events(events, total):
    st.subheader("Top events")
    frame = pd.DataFrame(events, columns=["event", "count", "sessions"])
    frame["share"] = frame["count"] / total * 100 if total else 0
    st.dataframe(
        frame, hide_index=True, width="stretch", height=min(38 + 35 * len(frame), 400),
        column_config={
            "event": st.column_config.TextColumn("Event"),
            "count": st.column_config.NumberColumn("Events", format="localized"),
            "sessions": st.column_config.NumberColumn("Sessions", format="localized"),
            "share": st.column_config.ProgressColumn("Share", format="%.1f%%", min_value=0, max_value=100),
        },
    )


def render_heatmap(cells, tz):
    st.subheader("When people use your apps")
    busiest = max(cells, key=lambda c: c["events"])
    st.caption(f"Events by weekday and hour ({tz}) · busiest: {busiest['weekday']} "
               f"{busiest['hour']:02d}:00 with {periods.count(busiest['events'])} events")
    st.altair_chart(charts.heatmap(cells, tz), width="stretch")
