"""Altair charts: quiet axes, one accent colour, tooltips with exact figures."""
import altair as alt
import pandas as pd

ACCENT = "#6C5CE7"
SECONDARY = "#00B894"
# Sunday first, as in the sidebar's date picker: Streamlit 1.51's calendar always starts on Sunday.
WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
SERIES = {"Events": ACCENT, "Sessions": SECONDARY}
SERIES_COLUMNS = {"events": "Events", "sessions": "Sessions"}


def wall_clock(values, tz):
    # Vega-Lite shows datetimes in the browser's zone; naive values keep the wall clock of `tz` everywhere.
    return pd.to_datetime(values, utc=True).dt.tz_convert(tz).dt.tz_localize(None)


def _frame(buckets, tz):
    frame = pd.DataFrame(buckets, columns=["t", "events", "sessions"])
    frame["t"] = wall_clock(frame["t"], tz)
    return frame


def timeline(buckets, interval, tz="UTC", unfinished=False):
    """Events (area) and sessions per bucket, straight segments between the real counts (a smoothed curve
    invents shapes); when the last bucket is still running, the segment into it is dashed."""
    frame = _frame(buckets, tz)
    finished = frame.iloc[:-1] if unfinished and len(frame) > 1 else frame
    series = alt.Color("series:N", title=None, scale=alt.Scale(domain=list(SERIES), range=list(SERIES.values())),
                       legend=alt.Legend(orient="top", direction="horizontal"))
    x = alt.X("t:T", title=None, axis=alt.Axis(format="%H:%M" if interval == "hour" else "%d %b", grid=False))
    y = alt.Y("count:Q", title=None, axis=alt.Axis(format=",d", tickMinStep=1))
    area = alt.Chart(finished).mark_area(
        interpolate="linear",
        color=alt.Gradient(gradient="linear", x1=1, x2=1, y1=1, y2=0,
                           stops=[alt.GradientStop(color="rgba(108,92,231,0.02)", offset=0),
                                  alt.GradientStop(color="rgba(108,92,231,0.30)", offset=1)]),
    ).encode(x=x, y=alt.Y("events:Q", title=None))
    layers = [area, _lines(finished, x, y, series)]
    if finished is not frame:
        layers.append(_lines(frame.iloc[-2:], x, y, series, dashed=True))
    time_format = "%d %b %H:%M" if interval == "hour" else "%a %d %b"
    hover = alt.Chart(frame).mark_circle(size=120, opacity=0).encode(
        x=x, y=alt.Y("events:Q", title=None),
        tooltip=[alt.Tooltip("t:T", title=f"From ({tz})", format=time_format),
                 alt.Tooltip("events:Q", title="Events", format=","),
                 alt.Tooltip("sessions:Q", title="Sessions", format=",")])
    return alt.layer(*layers, hover).properties(height=300).configure_view(strokeWidth=0)


def _lines(frame, x, y, series, dashed=False):
    long = frame.rename(columns=SERIES_COLUMNS).melt(id_vars="t", value_vars=list(SERIES), var_name="series",
                                                     value_name="count")
    mark = {"strokeWidth": 2, "interpolate": "linear"}
    if dashed:
        mark.update(strokeDash=[5, 4], opacity=0.8)
    return alt.Chart(long).mark_line(**mark).encode(x=x, y=y, color=series)


def heatmap(cells, tz="UTC"):
    frame = pd.DataFrame(cells, columns=["weekday", "day", "hour", "events"])
    return alt.Chart(frame).mark_rect(cornerRadius=3, stroke="white", strokeWidth=2).encode(
        x=alt.X("hour:O", title=f"Hour of day ({tz})", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("weekday:O", title=None, sort=WEEKDAYS),
        color=alt.Color("events:Q", title="Events", scale=alt.Scale(scheme="purples"), legend=None),
        tooltip=[alt.Tooltip("weekday:N", title="Day"), alt.Tooltip("hour:O", title=f"Hour ({tz})"),
                 alt.Tooltip("events:Q", title="Events", format=",")],
    ).properties(height=230).configure_view(strokeWidth=0)


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
