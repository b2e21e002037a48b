"""Breakdown rollups: events, sessions and users per value of a field (platform, version, property...).

Every event expands into keys (event_name, dim, kind, value):
- dims platform, app_version, country, event, group with event_name '' (any event);
- group also under the event's own name (events per group and event), and `property:<key>` (each top-level
  scalar property) only under it, because a property means something per event.
kind 0 is a value, 1 the event lacks the field ("(none)"), 2 a value past the cap ("other"), 4 a forgotten value; properties
also count under kind 3, any value, so listing property keys reads one row per key and bucket.

Values are capped because the INGEST_KEY ships inside apps: per (app, event_name, dim) the first
VALUE_CAP values seen are kept in `dim_values` and later ones count as "other"; per (app, event_name) the
first KEY_CAP property keys are rolled up and later keys are not. Admission only ever grows: a value no
event has any more is forgotten in place (kind FORGOTTEN, its text replaced), keeping its slot, so a value
counted as "other" stays "other" and deletions subtract from the key they were added to. Property keys of more than KEY_MAX_LENGTH characters are not rolled up; values are cut to
VALUE_MAX_LENGTH characters. Objects, arrays and nulls are not values.

Rollups mirror the event-name ones (rollups/counters.names_sql): `daily_dims` holds events per key and UTC day, and
sessions that had the key counted at the session's start, and inside each row the same per hour of that day
(`hours`, a JSON object {"<hour of the day, 0-23>": [events, sessions]}, hours at zero left out), which the ends of a
local-zone range read. A table of hour rows (`hourly_dims`) cost a row written per key and hour beside the day row each
fold step touches, and half the storage of two years of aggregates (issue 16). Which keys a session had is not stored
(a row per session and key was half the fold's writes and a third of the storage): it is recomputed from the
session's raw events, which the fold and erasure reach through their spans (the view session_events).
`daily_user_dims` holds who had which keys each UTC day: a row per user and day, its keys (`user_key`) in a JSON
object with the user's events under each, and `sample` = 6 bits of the user's hash, so a range too big to count
exactly is counted over a fraction of the samples (routes/breakdown.py). A row per user, day and key cost a row
written per key at every fold step that saw the user; now the step writes the user's day once, merged in SQL
(`json_each` of the old object, billed as rows read: ~17 a user) and `json_extract` finds one key without that.
"""
from rollups.chunk import FOLDED, MOVES_CTE, SESSION_EVENTS, events_where
from rollups.grains import DAILY, HOURLY, hour_of_day
from sql import UPSERT_WHERE, Sql

VALUE_CAP = 50
KEY_CAP = 50
KEY_MAX_LENGTH = 64
VALUE_MAX_LENGTH = 100
SAMPLES = 64
ANY_VALUE = 3
# A value no event has any more, forgotten (it may be personal data) while it keeps its slot under the cap: a
# freed slot would admit a value whose earlier events were counted as "other", and erasing those would then
# subtract from the value instead.
FORGOTTEN = 4
BASE_DIMS = ("platform", "app_version", "country", "event")
PROPERTY_PREFIX = "property:"
PROPERTY_END = "property;"  # the first text after every PROPERTY_PREFIX field: a range over the primary key
KEY = "event_name, dim, kind, value"
TABLES = ("dim_values", "daily_dims", "daily_user_dims")


def qualified(alias):
    """KEY's columns of table `alias`."""
    return ", ".join(f"{alias}.{column}" for column in KEY.split(", "))


def is_property(column):
    return f"({column} >= '{PROPERTY_PREFIX}' AND {column} < '{PROPERTY_END}')"

# Which keys keep sets (a row per session, or per user and day, and key): sessions for every field of any
# event and for property values per event; users for the fields of any event only. Each set row is a row
# written; group per event name only feeds /stats/groups (events).
SESSIONS_KEPT = "({ev} = '' OR {property})"
SCALAR_TYPES = "('text', 'integer', 'real', 'true', 'false')"
# A JSON atom as the text a value is grouped by: true/false spelled out (json_each gives 1/0).
ATOM_TEXT = "CASE {t} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST({a} AS TEXT) END"


# A user-day's keys (daily_user_dims.dims) are one letter per field (user sets keep only these five), the kind, then
# the value: as it is after '=' when it has no character outside [A-Za-z0-9 ._-] (most values: "e0=App Opened"), else
# as hex after '#' ("e0#C3A9"). Neither form can spell the other ('=' and '#' are not hex digits), and a key is
# letters, digits and ' ._-=#' only: a JSON path label needs no escaping. Hex for every value (migrations/0011)
# doubled each key: the keys were half of daily_user_dims, which took 33 bytes per event of the reference app (18
# since: migrations/0018).
USER_DIM_LETTERS = {"platform": "p", "app_version": "v", "country": "c", "event": "e", "group": "g"}
UNSAFE_VALUE_GLOB = "*[^A-Za-z0-9 ._-]*"


def user_key_of(dim_sql, kind_sql, value_sql):
    """SQL: the key of (dim, kind, value) in daily_user_dims' JSON. Values are event data (any text, quotes and dots
    included): a JSON path is never read from them. migrations/0018 spells the same expression."""
    letters = " ".join(f"WHEN '{dim}' THEN '{letter}'" for dim, letter in USER_DIM_LETTERS.items())
    return (f"(CASE {dim_sql} {letters} ELSE {dim_sql} || ':' END || {kind_sql} || "
            f"CASE WHEN {value_sql} GLOB '{UNSAFE_VALUE_GLOB}' THEN '#' || hex({value_sql}) ELSE '=' || {value_sql} END)")


def user_key(alias):
    """SQL: the key of `alias`'s (dim, kind, value) in daily_user_dims' JSON (`user_key_of`)."""
    return user_key_of(f"{alias}.dim", f"{alias}.kind", f"{alias}.value")


def key_path(key_sql):
    """SQL: the JSON path of a user_key (a quoted label: the key holds no quote or backslash)."""
    return f"('$.\"' || {key_sql} || '\"')"


def merged_hours(old, delta):
    """SQL: `daily_dims.hours` JSON `old` plus `delta` (the same form), an hour that comes to [0, 0] left out. D1
    bills each `json_each` element as a row read: a delta of one hour (a fold step of live traffic, mostly) is set
    by its path, reading 2; a longer one merges both objects. The schema's trigger `dims_fold_insert` spells the
    same expression (schema.sql)."""
    path = "'$.\"' || key || '\"'"
    one = f"""(SELECT CASE WHEN e = 0 AND s = 0 THEN json_remove(COALESCE({old}, '{{}}'), p)
    ELSE json_set(COALESCE({old}, '{{}}'), p, json_array(e, s)) END FROM (SELECT {path} AS p,
    COALESCE(json_extract({old}, {path} || '[0]'), 0) + json_extract(value, '$[0]') AS e,
    COALESCE(json_extract({old}, {path} || '[1]'), 0) + json_extract(value, '$[1]') AS s FROM json_each({delta})))"""
    every = f"""(SELECT json_group_object(h, json_array(e, s)) FROM (SELECT key AS h,
    SUM(json_extract(value, '$[0]')) AS e, SUM(json_extract(value, '$[1]')) AS s FROM (
      SELECT key, value FROM json_each({old}) UNION ALL SELECT key, value FROM json_each({delta})) GROUP BY key)
    WHERE e != 0 OR s != 0)"""
    return f"""CASE WHEN {delta} = '{{}}' THEN {old}
  WHEN (SELECT COUNT(*) FROM json_each({delta})) = 1 THEN {one} ELSE {every} END"""


def sample_of(uh_column):
    """The user's sample (0..63) from their packed HyperLogLog register (rollups/hll.py): uniform bits."""
    return f"(({uh_column} >> 6) & {SAMPLES - 1})"


def expanded_cte(chunk, p="", any_values=True, any_event_only=False):
    """`chunk` (Sql) defines `{p}chunk` (events); adds `{p}keyed`: every key of every event, before the cap, with
    each property also under kind ANY_VALUE unless `any_values` is False; with `any_event_only`, only the keys of
    any event (event name ''): the fields users are counted for, without reading the properties. `p` prefixes every CTE name, so one
    statement can expand two sets of events. The ANY_VALUE rows come from the same pass over `json_each` (a cross
    join with the two kinds): a second pass over a CTE materialises it, which D1 bills as rows read again."""
    base = " UNION ALL ".join(
        f"SELECT id, app_id, session_id, user_id, ts, '' AS ev, '{dim}' AS dim, {column} AS v FROM {p}chunk"
        for dim, column in zip(BASE_DIMS, ("platform", "app_version", "country", "event_name")))
    group_text = ATOM_TEXT.format(t="json_type(c.props, '$.group')", a="json_extract(c.props, '$.group')")
    # With ANY_VALUE rows, a cross join with the two kinds; without, no join at all (a one-row join is read too).
    kind, value, kinds_join = (("k.kind", f"CASE k.kind WHEN 0 THEN {{atom}} ELSE '' END", f" CROSS JOIN {p}property_kinds k")
                               if any_values else ("0", "{atom}", ""))
    substr_atom = f"substr({ATOM_TEXT.format(t='j.type', a='j.atom')}, 1, {VALUE_MAX_LENGTH})"
    # The group counts under any event ('') and, unless `any_event_only`, under the event's own name too.
    group_name, group_join = (("''", "") if any_event_only
                              else ("COALESCE(p.any_name, c.event_name)", f" CROSS JOIN {p}per_event p"))
    return chunk + f""",
{p}objects AS (SELECT *, CASE WHEN json_valid(properties) AND json_type(properties) = 'object' THEN properties END AS props
  FROM {p}chunk),
{p}per_event AS (SELECT '' AS any_name UNION ALL SELECT NULL),  -- NULL: the event's own name
{p}property_kinds AS (SELECT 0 AS kind UNION ALL SELECT {ANY_VALUE}),
{p}keyed AS (
  SELECT id, app_id, session_id, user_id, ts, ev, dim, v IS NULL AS kind, COALESCE(substr(v, 1, {VALUE_MAX_LENGTH}), '') AS value
    FROM ({base})
  UNION ALL SELECT c.id, c.app_id, c.session_id, c.user_id, c.ts, {group_name}, 'group',
    json_type(c.props, '$.group') NOT IN {SCALAR_TYPES} OR json_type(c.props, '$.group') IS NULL,
    CASE WHEN json_type(c.props, '$.group') IN {SCALAR_TYPES} THEN substr({group_text}, 1, {VALUE_MAX_LENGTH}) ELSE '' END
    FROM {p}objects c{group_join}""" + ("" if any_event_only else f"""
  UNION ALL SELECT c.id, c.app_id, c.session_id, c.user_id, c.ts, c.event_name,
    '{PROPERTY_PREFIX}' || j.key, {kind}, {value.format(atom=substr_atom)}
    FROM {p}objects c CROSS JOIN json_each(c.props) j{kinds_join}
    WHERE c.props IS NOT NULL AND j.type IN {SCALAR_TYPES} AND j.key != 'group' AND length(j.key) BETWEEN 1 AND {KEY_MAX_LENGTH}""") + ")"


def mapped_cte(chunk, p=""):
    """Adds `{p}mapped`: the keys as counted, once the cap is applied (admitted value, "(none)" or "other");
    property keys past KEY_CAP are left out. Reads `dim_values` as the admission statement left it. Admission
    only grows (a full field never gets room again), so an event maps to the same keys whenever it is mapped:
    the keys a session had are recomputed from its raw events instead of being stored per session."""
    return expanded_cte(chunk, p) + f""",
{p}mapped AS (SELECT c.id, c.app_id, c.session_id, c.user_id, c.ts, c.ev AS event_name, c.dim,
    CASE WHEN c.kind != 0 THEN c.kind WHEN k.value IS NOT NULL THEN 0 ELSE 2 END AS kind,
    CASE WHEN k.value IS NOT NULL THEN c.value ELSE '' END AS value,
    {SESSIONS_KEPT.format(ev='c.ev', property=is_property('c.dim'))} AND c.kind != {ANY_VALUE} AS sessions_kept, c.ev = '' AS users_kept
  FROM {p}keyed c LEFT JOIN dim_values k ON c.kind = 0 AND k.app_id = c.app_id AND k.event_name = c.ev AND k.dim = c.dim
    AND k.kind = 0 AND k.value = c.value
  WHERE NOT {is_property('c.dim')} OR EXISTS (SELECT 1 FROM dim_values x WHERE x.app_id = c.app_id
    AND x.event_name = c.ev AND x.dim = c.dim))"""


def session_pairs_cte(events, p):
    """`events` (Sql) defines `{p}chunk`; adds `{p}pairs`: each session's keys that count sessions."""
    return mapped_cte(events, p) + f""",
{p}pairs AS (SELECT DISTINCT app_id, session_id, {KEY} FROM {p}mapped WHERE sessions_kept)"""


def mapped_groups(source, columns="", admitting=False):
    """SELECT of `source`'s rows (a CTE with app_id, ev, dim, kind, value, and `columns`, e.g. ", r.n") as the keys
    they count under: mapped_cte's mapping, applied after the chunk's keys are grouped. Each dim_values lookup is a
    row read, so mapping groups instead of every key of every event is most of what a fold step reads less. With
    `admitting`, the CTE `admitted` (values and keys the same statement admits) counts as admitted too."""
    value_admitted = "k.value IS NOT NULL"
    key_admitted = f"""EXISTS (SELECT 1 FROM dim_values x WHERE x.app_id = r.app_id
    AND x.event_name = r.ev AND x.dim = r.dim)"""
    if admitting:
        value_admitted = f"""({value_admitted} OR (r.kind = 0 AND EXISTS (SELECT 1 FROM admitted a WHERE a.app_id = r.app_id
      AND a.ev = r.ev AND a.dim = r.dim AND a.value = r.value)))"""
        key_admitted += """ OR EXISTS (SELECT 1 FROM admitted a WHERE a.app_id = r.app_id AND a.ev = r.ev AND a.dim = r.dim)"""
    return f"""SELECT r.app_id, r.ev AS event_name, r.dim,
    CASE WHEN r.kind != 0 THEN r.kind WHEN {value_admitted} THEN 0 ELSE 2 END AS kind,
    CASE WHEN r.kind = 0 AND {value_admitted} THEN r.value ELSE '' END AS value{columns}
  FROM {source} r LEFT JOIN dim_values k ON r.kind = 0 AND k.app_id = r.app_id AND k.event_name = r.ev AND k.dim = r.dim
    AND k.kind = 0 AND k.value = r.value
  WHERE NOT {is_property('r.dim')} OR {key_admitted}"""


def admission_ctes(groups):
    """CTEs ending in `admitted`: the chunk's new values to admit while their key has room, most frequent first,
    and new property keys while their event has room. `groups`: a CTE of the chunk's keys with their counts
    (app_id, ev, dim, kind, value, n), several rows per key allowed."""
    return f"""seen AS (SELECT app_id, ev, dim, value, SUM(n) AS n FROM {groups} WHERE kind = 0 GROUP BY 1, 2, 3, 4),
fresh AS (SELECT s.*, EXISTS (SELECT 1 FROM dim_values k WHERE k.app_id = s.app_id AND k.event_name = s.ev
    AND k.dim = s.dim) AS known_key
  FROM seen s WHERE NOT EXISTS (SELECT 1 FROM dim_values k WHERE k.app_id = s.app_id AND k.event_name = s.ev
    AND k.dim = s.dim AND k.kind = 0 AND k.value = s.value)),
new_keys AS (SELECT app_id, ev, dim, ROW_NUMBER() OVER (PARTITION BY app_id, ev ORDER BY SUM(n) DESC, dim) AS key_rank
  FROM fresh WHERE NOT known_key AND {is_property('dim')} GROUP BY 1, 2, 3),
ranked AS (SELECT f.*, ROW_NUMBER() OVER (PARTITION BY f.app_id, f.ev, f.dim ORDER BY f.n DESC, f.value) AS value_rank,
    nk.key_rank FROM fresh f LEFT JOIN new_keys nk ON nk.app_id = f.app_id AND nk.ev = f.ev AND nk.dim = f.dim),
admitted AS MATERIALIZED (SELECT app_id, ev, dim, value FROM ranked r
  WHERE r.value_rank <= {VALUE_CAP} - (SELECT COUNT(*) FROM dim_values k WHERE k.app_id = r.app_id AND k.event_name = r.ev
      AND k.dim = r.dim AND k.kind IN (0, {FORGOTTEN}))
    AND (r.key_rank IS NULL OR r.key_rank <= {KEY_CAP} - (SELECT COUNT(DISTINCT k.dim) FROM dim_values k
      WHERE k.app_id = r.app_id AND k.event_name = r.ev AND {is_property('k.dim')})))"""


# The chunk's sessions' events counted before it (ids up to the watermark), found through their spans
# (session_events). Only sessions with a row already can have any (`moves.old_ts`): with live traffic a session
# mostly arrives in one request, so this reads a few sessions at a chunk's edges.
PRIOR_EVENTS = Sql(f"""prior_chunk AS (SELECT * FROM {SESSION_EVENTS}
  WHERE (app_id, session_id) IN (SELECT app_id, session_id FROM moves WHERE old_ts IS NOT NULL) AND id <= {FOLDED})""")


# One statement admits the chunk's new values, counts the chunk into both grains and the per-user sets, and adds
# the markers ("(none)", "other" and any-value keys, which reads find in `dim_values` beside the admitted values):
# each expansion of the chunk into its keys is read again in full (~70 rows read per event), so it is done once.
# One INSERT writes one table, so the rows go into the view `dims_fold`, whose INSTEAD OF trigger (schema.sql) sends
# each to its table. With a trigger on the target, SQLite computes the whole SELECT into a temporary table before
# the first row goes in: what the statement reads (dim_values, daily_user_dims) is the state before it. The mapping
# counts what the statement admits (`admitted`) as admitted.
DIMS_FOLD = "dims_fold"


def counters_sql(chunk, hashes):
    """New values admitted (admission_ctes); events per key in the day and each of its hours (one `daily_dims`
    row: the day's totals and the chunk's hours as a JSON object its trigger merges); sessions that had the key,
    at the session's start (as names). A session counts a key once: at the first folded event that has it, found by recomputing the keys of the
    session's earlier events (`prior_pairs`); when a late event moves the session's start to another bucket,
    every key it had moves with it. Days are the sums of the chunk's hours (a move within a day changes only its hours),
    with the users new to the key that day; the markers are the keys of kind != 0 among them. Who had which keys
    each day (`daily_user_dims`: the user's day, old keys and the chunk's merged) carries each user's sample from
    the hashes the fold computed (`hashes` binds
    JSON {user_id: uh}; MATERIALIZED: SQLite then indexes the samples for the join, instead of scanning the JSON
    once per event)."""
    b = HOURLY.bucket
    moved_pairs = (f"FROM moves m JOIN prior_pairs pp ON pp.app_id = m.app_id AND pp.session_id = m.session_id "
                   f"WHERE m.old_ts IS NOT NULL AND {b('m.new_ts')} != {b('m.old_ts')}")
    pp_key = qualified("pp")
    sessions_kept = SESSIONS_KEPT.format(ev="ev", property=is_property("dim"))
    day = f"(bucket - bucket % {DAILY.seconds})"
    # Without the ANY_VALUE rows: a property's events under any value are the sum of its values' (an event has one
    # value per key), added after grouping. Every row of `keyed` is billed once per pass over it (four passes).
    return ("WITH " + expanded_cte(chunk, any_values=False) + f""", {MOVES_CTE},
""" + session_pairs_cte(PRIOR_EVENTS, "prior_") + f""",
value_groups AS (SELECT app_id, ev, dim, kind, value, {b('ts')} AS bucket, COUNT(*) AS n FROM keyed GROUP BY 1, 2, 3, 4, 5, 6),
event_groups AS (SELECT * FROM value_groups UNION ALL SELECT app_id, ev, dim, {ANY_VALUE}, '', bucket, SUM(n) FROM value_groups
  WHERE {is_property('dim')} GROUP BY app_id, ev, dim, bucket),
{admission_ctes('event_groups')},
session_groups AS (SELECT DISTINCT app_id, session_id, ev, dim, kind, value FROM keyed
  WHERE {sessions_kept} AND kind != {ANY_VALUE}),
chunk_pairs AS (SELECT DISTINCT app_id, session_id, {KEY} FROM ({mapped_groups('session_groups', ', r.session_id', True)})),
contributions AS (
  SELECT app_id, {KEY}, bucket, n AS e, 0 AS s FROM ({mapped_groups('event_groups', ', r.bucket, r.n', True)})
  UNION ALL SELECT m.app_id, {pp_key}, {b('m.old_ts')}, 0, -1 {moved_pairs}
  UNION ALL SELECT m.app_id, {pp_key}, {b('m.new_ts')}, 0, 1 {moved_pairs}
  UNION ALL SELECT p.app_id, p.event_name, p.dim, p.kind, p.value, {b('m.new_ts')}, 0, 1
    FROM chunk_pairs p JOIN moves m ON m.app_id = p.app_id AND m.session_id = p.session_id
    WHERE NOT EXISTS (SELECT 1 FROM prior_pairs pp WHERE pp.app_id = p.app_id AND pp.session_id = p.session_id
      AND pp.event_name = p.event_name AND pp.dim = p.dim AND pp.kind = p.kind AND pp.value = p.value)),
hours AS (SELECT app_id, {KEY}, bucket, SUM(e) AS e, SUM(s) AS s FROM contributions GROUP BY app_id, {KEY}, bucket),
user_samples AS MATERIALIZED (SELECT key AS user_id, {sample_of('value')} AS sample FROM json_each(""" + hashes + f""")),
user_groups AS (SELECT app_id, ev, dim, kind, value, {DAILY.bucket('ts')} AS day, user_id, COUNT(*) AS n FROM keyed
  WHERE ev = '' AND user_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7),
user_rows AS (SELECT m.app_id, m.event_name, m.dim, m.kind, m.value, m.day, us.sample, m.user_id, {user_key('m')} AS k,
    SUM(m.n) AS n
  FROM ({mapped_groups('user_groups', ', r.day, r.user_id, r.n', True)}) m JOIN user_samples us ON us.user_id = m.user_id
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8),
old_user_days AS MATERIALIZED (SELECT * FROM daily_user_dims
  WHERE (app_id, day, sample, user_id) IN (SELECT app_id, day, sample, user_id FROM user_rows)),
user_days AS (SELECT app_id, day, sample, user_id, json_group_object(k, n) AS dims FROM (
    SELECT app_id, day, sample, user_id, k, SUM(n) AS n FROM (
      SELECT app_id, day, sample, user_id, k, n FROM user_rows
      UNION ALL SELECT o.app_id, o.day, o.sample, o.user_id, j.key, j.value FROM old_user_days o, json_each(o.dims) j)
    GROUP BY 1, 2, 3, 4, 5)
  GROUP BY 1, 2, 3, 4),
days AS (SELECT app_id, {KEY}, day, SUM(e) AS e, SUM(s) AS s, SUM(u) AS u,
    json_group_object(h, json_array(e, s)) FILTER (WHERE h IS NOT NULL AND (e != 0 OR s != 0)) AS by_hour FROM (
    SELECT app_id, {KEY}, {day} AS day, {hour_of_day('bucket')} AS h, e, s, 0 AS u FROM hours
    UNION ALL SELECT app_id, {KEY}, day, NULL, 0, 0, 1 FROM user_rows r WHERE NOT EXISTS (SELECT 1 FROM old_user_days x
      WHERE x.app_id = r.app_id AND x.day = r.day AND x.sample = r.sample AND x.user_id = r.user_id
      AND json_extract(x.dims, {key_path('r.k')}) IS NOT NULL))
  GROUP BY app_id, {KEY}, day HAVING SUM(e) != 0 OR SUM(s) != 0 OR SUM(u) != 0 OR by_hour != '{{}}')
INSERT INTO {DIMS_FOLD} (grain, app_id, {KEY}, bucket, events, sessions, users, sample, user_id, hours)
SELECT '{DAILY.name}', app_id, {KEY}, day, e, s, u, 0, '', by_hour FROM days
UNION ALL SELECT 'user', app_id, '', '', 0, dims, day, 0, 0, 0, sample, user_id, NULL FROM user_days
UNION ALL SELECT 'dim_value', app_id, ev, dim, 0, value, 0, 0, 0, 0, 0, '', NULL FROM admitted
UNION ALL SELECT DISTINCT 'dim_value', app_id, {KEY}, 0, 0, 0, 0, 0, '', NULL FROM hours WHERE kind != 0""")


def fold(chunk, hashes):
    """The fold's statements for one chunk, in order; `hashes` binds the chunk's users' registers."""
    return [counters_sql(chunk, hashes)]


def erase_out(erasing):
    """Subtract the chunk's counted events and take the touched sessions out. Runs before daily_users rows
    go: the users' samples are read from there."""
    gone = erasing.going
    # Every counted event of the touched sessions (the going ones included): the keys the sessions counted.
    touched = events_where(f"{erasing.touched_sessions} AND id <= {FOLDED}", SESSION_EVENTS)
    # Each key's day row loses the going events, its hours theirs in the same UPDATE (the hours are inside the
    # row); then the touched sessions' starts, from another selection.
    out = [
        "WITH " + mapped_cte(gone) + f"""
UPDATE daily_dims SET events = daily_dims.events - g.n, hours = {merged_hours('daily_dims.hours', 'g.by_hour')}
FROM (SELECT app_id, {KEY}, day, SUM(n) AS n, json_group_object(h, json_array(-n, 0)) AS by_hour FROM (
    SELECT app_id, {KEY}, {DAILY.bucket('ts')} AS day, {hour_of_day(HOURLY.bucket('ts'))} AS h, COUNT(*) AS n
    FROM mapped GROUP BY 1, 2, 3, 4, 5, 6, 7) GROUP BY 1, 2, 3, 4, 5, 6) AS g
WHERE {_key_match('daily_dims', 'g')} AND daily_dims.day = g.day""",
        "WITH " + session_pairs_cte(touched, "") + f"""
UPDATE daily_dims SET sessions = daily_dims.sessions - g.n, hours = {merged_hours('daily_dims.hours', 'g.by_hour')}
FROM (SELECT app_id, {KEY}, day, SUM(n) AS n, json_group_object(h, json_array(0, -n)) AS by_hour FROM (
    {session_starts()}) GROUP BY 1, 2, 3, 4, 5, 6) AS g
WHERE {_key_match('daily_dims', 'g')} AND daily_dims.day = g.day""",
    ]
    day = DAILY.bucket("m.ts")
    # The going events' keys per user-day, with the users' samples (from daily_users, still there).
    with_gone_keys = "WITH " + mapped_cte(gone) + f""",
gone_keys AS MATERIALIZED (SELECT m.app_id, m.event_name, m.dim, m.kind, m.value, {day} AS day,
    {sample_of('du.uh')} AS sample, m.user_id, {user_key('m')} AS k, COUNT(*) AS n
  FROM mapped m JOIN daily_users du ON du.app_id = m.app_id AND du.day = {day} AND du.user_id = m.user_id
  WHERE m.users_kept GROUP BY 1, 2, 3, 4, 5, 6, 7, 8)"""
    same_day = ("{t}.app_id = g.app_id AND {t}.day = g.day AND {t}.sample = g.sample AND {t}.user_id = g.user_id")
    touched_days = "(app_id, day, sample, user_id) IN (SELECT app_id, day, sample, user_id FROM gone_keys)"
    out += [
        # A user whose last events with a key go leaves the key's day count: read before the user's day changes.
        with_gone_keys + f"""
UPDATE daily_dims SET users = daily_dims.users - g.n
FROM (SELECT g.app_id, {qualified('g')}, g.day, COUNT(*) AS n FROM gone_keys g JOIN daily_user_dims t
      ON {same_day.format(t='t')} WHERE json_extract(t.dims, {key_path('g.k')}) <= g.n GROUP BY 1, 2, 3, 4, 5, 6) AS g
WHERE {_key_match('daily_dims', 'g')} AND daily_dims.day = g.day""",
        # Each touched user-day keeps its keys less the going events; keys left with none are dropped.
        with_gone_keys + f""",
kept AS (SELECT t.app_id, t.day, t.sample, t.user_id,
    json_group_object(j.key, j.value - COALESCE(g.n, 0)) FILTER (WHERE j.value - COALESCE(g.n, 0) > 0) AS dims
  FROM daily_user_dims t CROSS JOIN json_each(t.dims) j LEFT JOIN gone_keys g ON {same_day.format(t='t')} AND g.k = j.key
  WHERE (t.app_id, t.day, t.sample, t.user_id) IN (SELECT app_id, day, sample, user_id FROM gone_keys)
  GROUP BY 1, 2, 3, 4)
UPDATE daily_user_dims SET dims = COALESCE(g.dims, '{{}}') FROM kept g WHERE {same_day.format(t='daily_user_dims')}""",
        with_gone_keys + "\nDELETE FROM daily_user_dims WHERE dims = '{}' AND " + touched_days,
    ]
    return out


def erase_in(erasing):
    """Put the touched sessions back from their remaining events (`erasing.remaining`), at their start; then
    drop emptied rows, and values no event has any more (they may be personal data). Runs after the
    sessions table holds the sessions again."""
    gone = erasing.going
    back = ["WITH " + session_pairs_cte(erasing.remaining, "") + f"""
INSERT INTO daily_dims (app_id, {KEY}, day, events, sessions, hours)
SELECT app_id, {KEY}, day, 0, SUM(n), json_group_object(h, json_array(0, n)) FROM ({session_starts()})
{UPSERT_WHERE} GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT (app_id, {KEY}, day) DO UPDATE SET sessions = sessions + excluded.sessions,
  hours = {merged_hours('daily_dims.hours', 'excluded.hours')}""",
            "WITH " + mapped_cte(gone) + f"""
DELETE FROM daily_dims WHERE events <= 0 AND sessions <= 0
  AND (app_id, {KEY}, day) IN (SELECT app_id, {KEY}, {DAILY.bucket('ts')} FROM mapped)"""]
    unused = f"""(app_id, {KEY}) IN (SELECT app_id, {KEY} FROM mapped)
  AND NOT EXISTS (SELECT 1 FROM daily_dims d WHERE {_key_match('d', 'dim_values')} AND (d.events > 0 OR d.sessions > 0))"""
    # Values are forgotten in place (random text in the slot); markers ("(none)", "other", any value) just go.
    back += ["WITH " + mapped_cte(gone) + f"""
UPDATE dim_values SET kind = {FORGOTTEN}, value = lower(hex(randomblob(16))) WHERE kind = 0 AND {unused}""",
             "WITH " + mapped_cte(gone) + f"\nDELETE FROM dim_values WHERE kind != 0 AND {unused}"]
    return back


def session_starts():
    """SELECT over `pairs sp` (session_pairs_cte): the sessions per key, UTC day and hour of the day of their start."""
    return f"""SELECT s.app_id, {qualified('sp')}, {DAILY.bucket('s.first_ts')} AS day,
    {hour_of_day(HOURLY.bucket('s.first_ts'))} AS h, COUNT(*) AS n
    FROM pairs sp JOIN sessions s ON s.app_id = sp.app_id AND s.session_id = sp.session_id GROUP BY 1, 2, 3, 4, 5, 6, 7"""


def _key_match(table, alias):
    return " AND ".join(f"{table}.{column} = {alias}.{column}" for column in ("app_id", *KEY.split(", ")))
