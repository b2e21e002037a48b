"""The rollups' two granularities and the tables each keeps. A leaf: readers and writers both look here.

Every time-bucketed rollup exists once per grain, keyed by app and the bucket's start (epoch seconds, UTC):
`hour` rows for the ends of a range and for local-zone reads, `day` rows for the whole UTC days between.
"""
from sql import Sql
from tz.timeutil import DAY, HOUR


class Grain:
    """Hour or day: its tables and how a timestamp (ms) maps to a bucket."""

    def __init__(self, name, seconds, tables):
        self.name = self.column = name
        self.seconds = seconds
        # counters: events, sessions (at their start), users per bucket, with a users sketch;
        # names: the same per event name; users: who was active (user-buckets: hours are a view of the days' rows,
        # see `bounded`); dims: breakdown keys (days only: each day row holds its hours, rollups/dims.py);
        # lengths: sessions by length; new_users, new_users_any: users first seen in an app / in any app.
        self.counters, self.names, self.users, self.dims = tables[:4]
        self.lengths, self.new_users, self.new_users_any = tables[4:]

    def bucket(self, ts_column):
        """SQL: the bucket of a timestamp column in ms."""
        return f"({ts_column} / 1000 - {ts_column} / 1000 % {self.seconds})"

    def __repr__(self):
        return f"Grain({self.name})"


HOURLY = Grain("hour", HOUR, ("hourly", "hourly_names", "hourly_users", None, "hourly_session_lengths",
                              "hourly_new_users", "hourly_new_users_any"))
DAILY = Grain("day", DAY, ("daily", "daily_names", "daily_users", "daily_dims", "daily_session_lengths",
                           "daily_new_users", "daily_new_users_any"))
GRAINS = (HOURLY, DAILY)


def hour_of_day(bucket_sql):
    """SQL: the key, in a day row's `hours` JSON (daily_dims, daily_users), of an hour bucket (epoch seconds): its
    hour of the UTC day, as text."""
    return f"CAST(({bucket_sql} % {DAILY.seconds}) / {HOURLY.seconds} AS TEXT)"


def bounded(table, alias, lo, hi):
    """Sql to add to a read of `table` (as `alias`) over the hours [lo, hi): for `hourly_users`, a view of the hours
    inside the daily_users rows (schema.sql), the days holding them, the only bounds its key can seek by (an `hour`
    alone would read every day of the app); for a table, nothing. `lo`, `hi`: ints, bound; or SQL text."""
    if table != HOURLY.users:
        return Sql("")
    if isinstance(lo, int):
        return Sql(f" AND {alias}.day >= ? AND {alias}.day < ?", [lo - lo % DAY, hi])
    return Sql(f" AND {alias}.day >= {lo} - {lo} % {DAY} AND {alias}.day < {hi}")
