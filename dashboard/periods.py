"""Range choices, bucket sizes, the viewer's zone and the small formatting rules of the dashboard. Pure."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PRESETS = {"Last 24 hours": 1, "Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90}
ROLLING = "Last 24 hours"
CUSTOM = "Custom"
RANGE_CHOICES = [*PRESETS, CUSTOM]
DEFAULT_RANGE = "Last 30 days"
HOURLY_UP_TO_DAYS = 2
EARLIEST_DAY = date(2000, 1, 1)  # the worker refuses older timestamps


def zone_name(*candidates):
    """The first IANA zone name among the candidates this Python knows (setting, browser), else UTC."""
    for name in candidates:
        if not name:
            continue
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return name
    return "UTC"


def today_in(tz, now=None):
    return (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(tz)).date()


def range_params(choice, tz, today, custom=None):
    """A sidebar choice -> the worker's range query parameters, in the viewer's zone `tz`.

    "Last N days" are whole local days, today included, so no day bucket is a partial day; the last
    24 hours stay rolling. A custom `to` date is inclusive.
    """
    if choice == ROLLING:
        return {"days": "1", "tz": tz}
    start, end = (today - timedelta(days=PRESETS[choice] - 1), today) if choice in PRESETS else custom
    return {"from": start.isoformat(), "to": end.isoformat(), "tz": tz}


def range_days(params):
    if "days" in params:
        return int(params["days"])
    return (date.fromisoformat(params["to"]) - date.fromisoformat(params["from"])).days + 1


def interval_for(params):
    return "hour" if range_days(params) <= HOURLY_UP_TO_DAYS else "day"


FLAT = "0.0%"


def change(current, previous):
    """Percent change as st.metric's delta text, or None when there is nothing to compare with. A change that
    shows as zero is FLAT, without a sign (st.metric would draw "+0.0%" as a green rise)."""
    if not previous:
        return None
    text = f"{(current - previous) / previous * 100:+.1f}%"
    return FLAT if text in ("+0.0%", "-0.0%") else text


def is_flat(delta):
    return delta == FLAT


def per_session(events, sessions):
    return events / sessions if sessions else 0.0


def count(n):
    return f"{n:,}"


def ratio(x):
    return f"{x:,.1f}"


def parse_time(text, tz="UTC"):
    """The worker's ISO timestamps ('...Z') -> aware datetimes in `tz`; None stays None."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(ZoneInfo(tz))


def default_custom_range(today):
    return today - timedelta(days=6), today


def custom_dates(start_text, end_text, today):
    """A link's ?from=&to= -> (start, end) dates within what the picker offers, or None."""
    try:
        start, end = date.fromisoformat(start_text or ""), date.fromisoformat(end_text or "")
    except ValueError:
        return None
    start, end = (min(max(day, EARLIEST_DAY), today) for day in (start, end))
    return (start, end) if start <= end else (end, start)


def started_by(buckets, now):
    """The buckets that have begun: a range that ends later today (custom dates, hourly) has zero-filled
    future hours, which would draw a drop that has not happened."""
    return [bucket for bucket in buckets if parse_time(bucket["t"]) <= now] or buckets[:1]


def is_unfinished(bucket, interval, tz, now):
    """Whether a timeline bucket still runs at `now`, so its count is not final: the current UTC hour,
    or today's local date in `tz` (day buckets carry their local `date`)."""
    if interval == "day":
        return bucket["date"] == today_in(tz, now).isoformat()
    start = parse_time(bucket["t"])
    return start <= now < start + timedelta(hours=1)


def range_label(range_json, tz="UTC"):
    start, end = parse_time(range_json["from"], tz), parse_time(range_json["to"], tz)
    return f"{start:%d %b %Y %H:%M} → {end:%d %b %Y %H:%M} {tz}"


def previous_params(params, previous_json):
    """The range just before `params`, as long, for the previous period's timeline: the same number of whole
    local days before a date range (day buckets then align with the current ones, across a DST change too);
    the overview's previous instants for a rolling range."""
    if "days" in params:
        return {"from": previous_json["from"], "to": previous_json["to"], "tz": params["tz"]}
    days = range_days(params)
    start = date.fromisoformat(params["from"])
    return {"from": (start - timedelta(days=days)).isoformat(), "to": (start - timedelta(days=1)).isoformat(),
            "tz": params["tz"]}


def year_params(today_utc):
    """The 365 whole UTC days ending today (the calendar heatmap). UTC days, whatever the viewer's zone: in a
    zone off UTC the worker reads active users per app and hour (8,760 rows a year per app), in UTC per day."""
    return {"from": (today_utc - timedelta(days=364)).isoformat(), "to": today_utc.isoformat(), "tz": "UTC"}
