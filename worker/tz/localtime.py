"""Local days and hours of a time zone over hourly rollups. Pure: a zone is anything with
`offset_at(utc_seconds) -> seconds east of UTC` (JavaScript's Intl in the worker, zoneinfo in tests).

Rollups are hourly, so every offset is rounded up to a whole hour: a local midnight that falls inside
a UTC hour (Asia/Kolkata +5:30, Asia/Kathmandu +5:45, America/St_Johns -3:30) is moved to the start
of that hour, and that hour counts as the first of the local day.
"""
HOUR = 3600
DAY = 86400
# Offsets are sampled once a week, then a change is pinned to its hour by bisection. Zones keep an offset
# for weeks at least (the shortest recent spells, Ramadan suspensions of DST, last about a month), and one
# Intl call per local day cost ~50 ms of CPU for a ten-year range under local workerd (Free plan: 10 ms).
SAMPLE_DAYS = 7


class Utc:
    name = "UTC"

    def offset_at(self, seconds):
        return 0


UTC = Utc()


def hour_offset(offset):
    """Seconds east of UTC -> the whole-hour offset that puts local midnight in the hour containing it."""
    return -(-offset // HOUR) * HOUR


def local_midnight(zone, day_seconds):
    """A local date (its midnight as epoch seconds of the wall clock) -> the UTC hour where that day starts."""
    guess = day_seconds - hour_offset(zone.offset_at(day_seconds))
    return day_seconds - hour_offset(zone.offset_at(guess))


def offset_segments(zone, start, end, sample=SAMPLE_DAYS * DAY):
    """[start, end) in whole UTC hours -> [[from, to, offset], ...]: pieces with one whole-hour offset each (none for an
    empty range)."""
    if start >= end:
        return []
    segments = []
    offset = hour_offset(zone.offset_at(start))
    piece_start = known = start  # `known`: the latest hour seen with `offset`
    while known < end - HOUR:
        probe = min(known + sample, end - HOUR)
        if hour_offset(zone.offset_at(probe)) == offset:
            known = probe
            continue
        change = first_hour_with_new_offset(zone, known, probe, offset)
        segments.append([piece_start, change, offset])
        piece_start = known = change
        offset = hour_offset(zone.offset_at(change))
    segments.append([piece_start, end, offset])
    return segments


def first_hour_with_new_offset(zone, low, high, offset):
    """The first UTC hour in (low, high] whose offset is not `offset`, knowing that `high`'s is not."""
    while high - low > HOUR:
        middle = low + (high - low) // 2
        middle -= middle % HOUR
        if hour_offset(zone.offset_at(middle)) == offset:
            low = middle
        else:
            high = middle
    return high


def day_starts(segments):
    """Local days touched by the segments -> [(day key, UTC hour where that local day starts)], in order.

    The day key is the local midnight as epoch seconds of the wall clock, what the SQL groups by:
    `(hour + offset) - (hour + offset) % 86400`.
    """
    days = {}
    for start, end, offset in segments:
        first, last = start + offset, end - HOUR + offset
        for key in range(first - first % DAY, last - last % DAY + 1, DAY):
            days.setdefault(key, key - offset)
    return sorted(days.items())


def civil_date(seconds):
    """Epoch seconds -> (year, month, day) of its UTC date, by integer arithmetic (H. Hinnant's days_from_civil
    inverse): a year of day buckets formats 365+ dates a request, and datetime + strftime cost ~4 us each in
    CPython, several times that under Pyodide (/stats/active over a year: issue 16's CPU per request)."""
    days = seconds // DAY + 719468
    era = days // 146097
    day_of_era = days - era * 146097
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    return year_of_era + era * 400 + (month <= 2), month, day


def date_label(day_key):
    """'YYYY-MM-DD' of a day key (or any epoch seconds), in UTC."""
    year, month, day = civil_date(day_key)
    return f"{year:04d}-{month:02d}-{day:02d}"
