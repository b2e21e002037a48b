"""Users sketches: a HyperLogLog (rollups/hll.py) per app and hour/day in the counters' `sketch` column, for
distinct users over ranges too large to count exactly.

Hashing needs Python, so a fold step reads a snapshot first (its users, the sketches it touches: one query), merges,
and writes the merged sketches in its guarded batch (rollups/chunk.py). A sketch cannot forget a user:
erasure queues the hours and days it touched in `stale_sketches`, rebuilt here, hours from `hourly_users`
and then days from their hours, before the next fold.
"""
import json

from d1 import D1Error
from rollups import hll
from rollups.chunk import guard, lost_race, release
from rollups.grains import DAILY, HOURLY, bounded
from sql import Sql

TABLES = ("stale_sketches",)
STALE_LIMIT = 200
KEYS = ("(SELECT json_extract(value, '$[0]') AS app_id, json_extract(value, '$[1]') AS bucket "
        "FROM json_each(?)) AS k")


def update(grain, sketches):
    """Write [[app_id, bucket, sketch text]] into `grain`'s counters."""
    return Sql(f"""UPDATE {grain.counters} SET sketch = new.sketch
FROM (SELECT json_extract(value, '$[0]') AS app_id, json_extract(value, '$[1]') AS bucket,
             json_extract(value, '$[2]') AS sketch FROM json_each(?)) AS new
WHERE {grain.counters}.app_id = new.app_id AND {grain.counters}.{grain.column} = new.bucket""",
               [json.dumps(sketches, ensure_ascii=False)])


def snapshot(folded, upto):
    """One query for what a fold step's sketches need: the (app, hour, user) triples of the events (folded, upto],
    and the stored sketches of the hours and days they fall in, as three JSON texts (users, hours, days). One D1 call
    where there were three (the users, then each grain's sketches by their keys): each costs the worker 1-3 ms of CPU
    under Pyodide. The triples are materialised once and read three times (~150 rows a step of live traffic)."""
    hour_keys = "SELECT DISTINCT app_id, hour FROM chunk_users"
    day_keys = f"SELECT DISTINCT app_id, hour - hour % {DAILY.seconds} FROM chunk_users"
    return Sql(f"""WITH chunk_users AS MATERIALIZED (
  SELECT DISTINCT app_id, {HOURLY.bucket('ts')} AS hour, user_id FROM events WHERE id > ? AND id <= ?
  AND user_id IS NOT NULL)
SELECT (SELECT json_group_array(json_array(app_id, hour, user_id)) FROM chunk_users) AS users,
  (SELECT json_group_array(json_array(t.app_id, t.hour, t.sketch)) FROM {HOURLY.counters} t
   WHERE (t.app_id, t.hour) IN ({hour_keys})) AS hours,
  (SELECT json_group_array(json_array(t.app_id, t.day, t.sketch)) FROM {DAILY.counters} t
   WHERE (t.app_id, t.day) IN ({day_keys})) AS days""", [folded, upto])


def merged(stored_json, additions):
    """{(app_id, bucket): [uh...]} and the stored sketches (JSON [[app_id, bucket, sketch text]]) -> [[app_id,
    bucket, sketch text]] with the stored sketches merged in."""
    stored = {(a, b): text for a, b, text in json.loads(stored_json)}
    return [[app_id, bucket, hll.Sketch().merge(stored.get((app_id, bucket))).add_all(uhs).encode()]
            for (app_id, bucket), uhs in additions.items()]


async def fold_step(db, folded, upto):
    """What a fold step needs: the chunk's users' registers as JSON {user_id: uh} (bound by the families'
    statements) and the statements writing the merged sketches."""
    row = await db.first(snapshot(folded, upto))
    user_hours = json.loads(row["users"])
    hashes = {user_id: hll.user_register(user_id) for user_id in {u for _, _, u in user_hours}}
    by_hour, by_day = {}, {}
    for app_id, hour, user_id in user_hours:
        by_hour.setdefault((app_id, hour), []).append(hashes[user_id])
        by_day.setdefault((app_id, hour - hour % DAILY.seconds), []).append(hashes[user_id])
    updates = [update(grain, merged(row[column], additions))
               for grain, column, additions in ((HOURLY, "hours", by_hour), (DAILY, "days", by_day)) if additions]
    return json.dumps(hashes, ensure_ascii=False), updates


STALE_SQL = "SELECT app_id, grain, bucket FROM stale_sketches WHERE grain = ? LIMIT ?"
HOUR_USERS_SQL = f"""SELECT json_group_array(json_array(k.app_id, k.bucket, u.uh)) AS users
FROM {KEYS} JOIN hourly_users u ON u.app_id = k.app_id AND u.hour = k.bucket""" + bounded(
    HOURLY.users, "u", "k.bucket", "k.bucket + 1").text
DAY_HOURS_SQL = f"""SELECT json_group_array(json_array(k.app_id, k.bucket, h.sketch)) AS sketches
FROM {KEYS} JOIN hourly h ON h.app_id = k.app_id AND h.hour >= k.bucket AND h.hour < k.bucket + {DAILY.seconds}
  AND h.users > 0"""


def unstale(keys, grain):
    return Sql("""DELETE FROM stale_sketches WHERE (app_id, grain, bucket) IN
  (SELECT json_extract(value, '$[0]'), ?, json_extract(value, '$[1]') FROM json_each(?))""", [grain.name, keys])


async def rebuild_stale(db, folded, version):
    """Rebuild the sketches deletions left stale: hours from hourly_users, then days from their hours.
    Returns False if there was nothing to do or another writer came first."""
    grain = HOURLY
    stale = await db.query(STALE_SQL, "hour", STALE_LIMIT)
    if not stale:
        grain = DAILY
        stale = await db.query(STALE_SQL, "day", STALE_LIMIT)
    if not stale:
        return False
    keys = json.dumps([[row["app_id"], row["bucket"]] for row in stale], ensure_ascii=False)
    sketches = {(row["app_id"], row["bucket"]): hll.Sketch() for row in stale}
    if grain is HOURLY:
        for app_id, bucket, uh in json.loads((await db.first(HOUR_USERS_SQL, keys))["users"]):
            sketches[(app_id, bucket)].add(uh)
    else:
        for app_id, bucket, text in json.loads((await db.first(DAY_HOURS_SQL, keys))["sketches"]):
            sketches[(app_id, bucket)].merge(text)
    rebuilt = [[app_id, bucket, sketch.encode()] for (app_id, bucket), sketch in sketches.items()]
    try:
        await db.batch([guard(folded, version), update(grain, rebuilt), unstale(keys, grain), *release(folded)])
    except D1Error as error:
        if lost_race(error):
            return False
        raise
    return True
