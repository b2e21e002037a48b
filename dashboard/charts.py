"""Altair charts: quiet axes, one accent colour, tooltips with exact figures."""
import functools

import altair as alt
import pandas as pd

ACCENT = "#6C5CE7"
SECONDARY = "#00B894"
# Sunday first, as in the sidebar's date picker: Streamlit 1.51's calendar always starts on Sunday.
WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
MUTED = "#A4B0BE"
ACTIVE_COLOUR = "#E17055"
SERIES = {"Events": ACCENT, "Sessions": SECONDARY, "Active users": ACTIVE_COLOUR, "Previous period": MUTED}
SERIES_COLUMNS = {"events": "Events", "sessions": "Sessions", "active": "Active users"}


def checked_in_tests(build):
    """Each chart this builds converts to its Vega-Lite spec without Altair's validation against the JSON schema:
    Streamlit converts every chart on every run, and that validation took ~30 ms a chart (a tenth of a cold Overview,
    which draws three) for shapes fixed in this module. tests/unit/test_charts.py validates every chart instead."""
    @functools.wraps(build)
    def unchecked(*args, **kwargs):
        chart = build(*args, **kwargs)
        # Altair's SchemaBase keeps attributes it is given as spec properties: bypass its __setattr__.
        object.__setattr__(chart, "to_dict", functools.partial(chart.to_dict, validate=False))
        return chart
    unchecked.validated = build  # the same chart, validated when converted (the unit tests)
    return unchecked


def wall_clock(values, tz):
    # Vega-Lite shows datetimes in the browser's zone; naive values keep the wall clock of `tz` everywhere.
    return pd.to_datetime(values, utc=True).dt.tz_convert(tz).dt.tz_localize(None)


def _frame(buckets, tz, columns=("events", "sessions")):
    frame = pd.DataFrame(buckets, columns=["t", *columns])
    frame["t"] = wall_clock(frame["t"], tz)
    return frame


@checked_in_tests
def timeline(buckets, interval, tz="UTC", unfinished=False, previous=None, active=None):
    """Events (area) and sessions per bucket, straight segments between the real counts (a smoothed curve
    invents shapes); when the last bucket is still running, the segment into it is dashed. `previous`
    ([{t, previous}]): the previous period's events at the same offsets, dotted grey. `active`
    ({t: users}): active users per bucket, a third line."""
    columns = ["events", "sessions"] + (["active"] if active is not None else [])
    rows = [{**b, "active": active.get(b["t"], 0)} if active is not None else b for b in buckets]
    frame = _frame(rows, tz, columns)
    finished = frame.iloc[:-1] if unfinished and len(frame) > 1 else frame
    shown = [SERIES_COLUMNS[c] for c in columns] + (["Previous period"] if previous else [])
    series = alt.Color("series:N", title=None,
                       scale=alt.Scale(domain=shown, range=[SERIES[name] for name in shown]),
                       # Two columns: one row of four is cut ("Previous p…") on a phone-wide chart.
                       legend=alt.Legend(orient="top", direction="horizontal", columns=2, labelLimit=0))
    x = alt.X("t:T", title=None, axis=alt.Axis(format="%H:%M" if interval == "hour" else "%d %b", grid=False))
    y = alt.Y("count:Q", title=None, axis=alt.Axis(format=",d", tickMinStep=1))
    area = alt.Chart(finished).mark_area(
        interpolate="linear",
        color=alt.Gradient(gradient="linear", x1=1, x2=1, y1=1, y2=0,
                           stops=[alt.GradientStop(color="rgba(108,92,231,0.02)", offset=0),
                                  alt.GradientStop(color="rgba(108,92,231,0.30)", offset=1)]),
    ).encode(x=x, y=alt.Y("events:Q", title=None))
    layers = [area, _lines(finished, x, y, series, columns)]
    if finished is not frame:
        layers.append(_lines(frame.iloc[-2:], x, y, series, columns, dashed=True))
    if previous:
        layers.append(_previous_line(previous, tz, x, y, series))
    time_format = "%d %b %H:%M" if interval == "hour" else "%a %d %b"
    hover = alt.Chart(frame).mark_circle(size=120, opacity=0).encode(
        x=x, y=alt.Y("events:Q", title=None),
        tooltip=[alt.Tooltip("t:T", title=f"From ({tz})", format=time_format),
                 *(alt.Tooltip(f"{c}:Q", title=SERIES_COLUMNS[c], format=",") for c in columns)])
    return alt.layer(*layers, hover).properties(height=300).configure_view(strokeWidth=0)


def _previous_line(previous, tz, x, y, series):
    frame = pd.DataFrame(previous, columns=["t", "previous"])
    frame["t"] = wall_clock(frame["t"], tz)
    frame = frame.rename(columns={"previous": "count"}).assign(series="Previous period")
    return alt.Chart(frame).mark_line(strokeWidth=1.5, strokeDash=[2, 3], interpolate="linear").encode(
        x=x, y=y, color=series,
        tooltip=[alt.Tooltip("count:Q", title="Previous period, events", format=",")])


def _lines(frame, x, y, series, columns, dashed=False):
    names = [SERIES_COLUMNS[c] for c in columns]
    long = frame.rename(columns=SERIES_COLUMNS).melt(id_vars="t", value_vars=names, var_name="series",
                                                     value_name="count")
    mark = {"strokeWidth": 2, "interpolate": "linear"}
    if dashed:
        mark.update(strokeDash=[5, 4], opacity=0.8)
    return alt.Chart(long).mark_line(**mark).encode(x=x, y=y, color=series)


@checked_in_tests
def heatmap(cells, tz="UTC"):
    frame = pd.DataFrame(cells, columns=["weekday", "day", "hour", "events"])
    return alt.Chart(frame).mark_rect(cornerRadius=3, stroke="white", strokeWidth=2).encode(
        x=alt.X("hour:O", title=f"Hour of day ({tz})", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("weekday:O", title=None, sort=WEEKDAYS),
        color=alt.Color("events:Q", title="Events", scale=alt.Scale(scheme="purples"), legend=None),
        tooltip=[alt.Tooltip("weekday:N", title="Day"), alt.Tooltip("hour:O", title=f"Hour ({tz})"),
                 alt.Tooltip("events:Q", title="Events", format=",")],
    ).properties(height=230).configure_view(strokeWidth=0)


@checked_in_tests
def user_activity(events, tz="UTC"):
    frame = pd.DataFrame(events, columns=["timestamp", "event", "session_id", "app_id"])
    frame["timestamp"] = wall_clock(frame["timestamp"], tz)
    return alt.Chart(frame).mark_circle(size=90, opacity=0.8).encode(
        x=alt.X("timestamp:T", title=None, axis=alt.Axis(format="%d %b %H:%M", labelOverlap=True)),
        # labelLimit 0: event names are shown whole (Vega cuts labels at 180 px by default).
        y=alt.Y("event:N", title=None, axis=alt.Axis(labelLimit=0)),
        color=alt.Color("event:N", legend=None, scale=alt.Scale(scheme="tableau10")),
        tooltip=[alt.Tooltip("timestamp:T", title=f"When ({tz})", format="%d %b %Y %H:%M:%S"),
                 "event:N", alt.Tooltip("session_id:N", title="Session"), alt.Tooltip("app_id:N", title="App")],
    ).properties(height=max(120, 34 * frame["event"].nunique())).configure_view(strokeWidth=0)


# A week column is labelled with its month when its Sunday is one of the month's first 7 days: one label a month.
MONTH_STARTS = "utcdate(toDate(datum.value)) <= 7 ? utcFormat(toDate(datum.value), '%b') : ''"


@checked_in_tests
def calendar(cells):
    """A year of daily active users, GitHub style: a column per week, a row per weekday (Sunday first)."""
    return alt.Chart(cells).mark_rect(cornerRadius=2, stroke="white", strokeWidth=1.5).encode(
        x=alt.X("week:O", title=None, axis=alt.Axis(labelExpr=MONTH_STARTS,
                                                      labelAngle=0, labelOverlap=True, ticks=False, domain=False)),
        y=alt.Y("weekday:O", title=None, sort=WEEKDAYS, axis=alt.Axis(ticks=False, domain=False)),
        color=alt.Color("active:Q", title="Active users", scale=alt.Scale(scheme="purples"), legend=None),
        tooltip=[alt.Tooltip("date:N", title="Day"), alt.Tooltip("active:Q", title="Active users", format=","),
                 alt.Tooltip("new:Q", title="New users", format=",")],
    ).properties(height=150).configure_view(strokeWidth=0)


@checked_in_tests
def bars(frame, label, value="events", title="Events"):
    """Horizontal bars in the frame's order, labels whole (Vega cuts them at 180 px by default)."""
    return alt.Chart(frame).mark_bar(color=ACCENT, cornerRadiusEnd=3).encode(
        x=alt.X(f"{value}:Q", title=title, axis=alt.Axis(format=",d", tickMinStep=1)),
        y=alt.Y(f"{label}:N", title=None, sort=None, axis=alt.Axis(labelLimit=0)),
        tooltip=[alt.Tooltip(f"{label}:N", title="Value"), alt.Tooltip(f"{value}:Q", title=title, format=",")],
    ).properties(height=alt.Step(30)).configure_view(strokeWidth=0)


@checked_in_tests
def funnel(frame):
    base = alt.Chart(frame).encode(
        y=alt.Y("step:N", title=None, sort=None, axis=alt.Axis(labelLimit=0)),
        x=alt.X("count:Q", title=None, axis=alt.Axis(format=",d", tickMinStep=1)))
    bars_layer = base.mark_bar(color=ACCENT, cornerRadiusEnd=3).encode(
        tooltip=[alt.Tooltip("event:N", title="Event"), alt.Tooltip("count:Q", title="Did it", format=","),
                 alt.Tooltip("from_first:Q", title="% of the first step", format=".1f"),
                 alt.Tooltip("from_previous:Q", title="% of the previous step", format=".1f")])
    labels = base.mark_text(align="left", dx=4).encode(text=alt.Text("from_first:Q", format=".1f"))
    return alt.layer(bars_layer, labels).properties(height=alt.Step(44)).configure_view(strokeWidth=0)


@checked_in_tests
def retention(frame, cohort_title):
    """Cohorts (labelled with their size) by period; a period still running is a grey cell marked "…"."""
    base = alt.Chart(frame).encode(
        x=alt.X("period:O", title="Periods after the first", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("cohort:O", title=cohort_title, sort=None, axis=alt.Axis(labelLimit=0)))
    tooltip = [alt.Tooltip("start:N", title=cohort_title), alt.Tooltip("size:Q", title="Cohort size", format=","),
               alt.Tooltip("period:O", title="Period"), alt.Tooltip("users:Q", title="Active users", format=","),
               alt.Tooltip("share:Q", title="Active (%)", format=".1f"), alt.Tooltip("state:N", title="Period")]
    over = base.transform_filter("datum.state == 'over'")
    cells = over.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color("share:Q", title="Active (%)", scale=alt.Scale(scheme="purples", domain=[0, 100]),
                        # Above the grid: at its right it takes a phone-wide chart's room from the cells.
                        legend=alt.Legend(orient="top", direction="horizontal", gradientLength=160)),
        tooltip=tooltip)
    running = base.transform_filter("datum.state != 'over'").mark_rect(
        stroke="white", strokeWidth=1, color="#EEF0F3").encode(tooltip=tooltip)
    labels = base.mark_text(fontSize=11).encode(
        text="label:N",
        color=alt.condition("datum.share > 55", alt.value("white"), alt.value("#2d3436")))
    return alt.layer(cells, running, labels).properties(height=alt.Step(28)).configure_view(strokeWidth=0)


@checked_in_tests
def histogram(rows):
    frame = pd.DataFrame(rows, columns=["label", "sessions"])
    return alt.Chart(frame).mark_bar(color=SECONDARY, cornerRadiusEnd=3).encode(
        x=alt.X("label:N", title="Session duration", sort=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("sessions:Q", title="Sessions", axis=alt.Axis(format=",d", tickMinStep=1)),
        tooltip=[alt.Tooltip("label:N", title="Duration"), alt.Tooltip("sessions:Q", title="Sessions", format=",")],
    ).properties(height=240).configure_view(strokeWidth=0)
