"""Range choices, bucket sizes and the small formatting rules of the dashboard. Pure."""
from datetime import date, datetime, timedelta

PRESETS = {"Last 24 hours": 1, "Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90}
CUSTOM = "Custom"
RANGE_CHOICES = [*PRESETS, CUSTOM]
DEFAULT_RANGE = "Last 30 days"
HOURLY_UP_TO_DAYS = 2


def range_params(choice, custom=None):
    """A sidebar choice -> the worker's range query parameters. A custom `to` date is inclusive."""
    if choice in PRESETS:
        return {"days": str(PRESETS[choice])}
    start, end = custom
    return {"from": start.isoformat(), "to": end.isoformat()}


def range_days(params):
    if "days" in params:
        return int(params["days"])
    return (date.fromisoformat(params["to"]) - date.fromisoformat(params["from"])).days + 1


def interval_for(params):
    return "hour" if range_days(params) <= HOURLY_UP_TO_DAYS else "day"


def change(current, previous):
    """Percent change as st.metric's delta text, or None when there is nothing to compare with."""
    if not previous:
        return None
    return f"{(current - previous) / previous * 100:+.1f}%"


def per_session(events, sessions):
    return events / sessions if sessions else 0.0


def count(n):
    return f"{n:,}"


def ratio(x):
    return f"{x:,.1f}"


def parse_time(text):
    """The worker's ISO timestamps ('...Z') -> aware datetimes; None stays None."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def default_custom_range(today):
    return today - timedelta(days=6), today


def range_label(range_json):
    start, end = parse_time(range_json["from"]), parse_time(range_json["to"])
    return f"{start:%d %b %Y %H:%M} → {end:%d %b %Y %H:%M} UTC"
