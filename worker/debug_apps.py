"""Debug builds apart: an app's debug events are stored under its debug twin, `debug:<app_id>`. Pure.

Why a twin app id rather than a column: every rollup is keyed by app first, so the twin gets figures of its
own from the same fold with no new table, no new column in any rollup, and a debug event can never be summed
into a release figure of its app. Release reads of one app name the app, debug reads its twin; reads over
every app take the release apps or the twins by one range of the app key (`debug:` up to `debug;`, the next
text), so the exclusion is an index range, not a scan. `/track` refuses app ids in that range (it sends debug
events with `"debug": true`), so no real app can collide with a twin.
"""
from sql import Sql

PREFIX = "debug:"
PREFIX_END = "debug;"  # the first text after every PREFIX id
# A twin is an id like any other (255 characters at most, so the admin routes can erase it): its app's id is
# at most this long.
MAX_APP_ID = 255 - len(PREFIX)


def twin(app_id):
    return PREFIX + app_id


def is_twin(app_id):
    return isinstance(app_id, str) and app_id.startswith(PREFIX)


def release_id(app_id):
    """A stored app id -> the app it belongs to (a twin's app, or the id itself)."""
    return app_id[len(PREFIX):] if is_twin(app_id) else app_id


def release_id_sql(column):
    """SQL: release_id of an app id column (the prefix bounds are constants of this module, not data)."""
    return (f"(CASE WHEN {column} >= '{PREFIX}' AND {column} < '{PREFIX_END}' "
            f"THEN substr({column}, {len(PREFIX) + 1}) ELSE {column} END)")


def condition(column, debug):
    """SQL condition on an app id column: the twins when `debug`, else every other app. Binds its bounds."""
    if debug:
        return Sql(f"({column} >= ? AND {column} < ?)", [PREFIX, PREFIX_END])
    return Sql(f"({column} < ? OR {column} >= ?)", [PREFIX, PREFIX_END])
