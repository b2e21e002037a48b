"""Deployment caps (issue 16): how many apps a deployment holds, and how many event names an app has. Pure:
builds the statements ingest runs (api/ingest.py) and the refusals; `routes/settings.py` reads and sets them.

Every all-app read goes app by app, and every per-app breakdown name by name: without these caps one
INGEST_KEY request of new app ids, or of new event names, made every later read pay for each of them. The
caps are stored in `meta` (`max_apps`, `max_event_names`); AUTH_KEY sets them (`PUT /settings/limits`).

What counts as known: an id in the catalog (`apps`, `event_names`: folded, and kept after retention) or in the
raw events (not yet folded, found through an index). So the count is exact between folds too, and since the
check runs in the insert's own transaction (D1 runs one at a time), two requests cannot both take the last place.

A debug twin (`debug:<app>`, debug_apps.py) counts with its release app: `x` and `debug:x` are one app, and a
debug event of an app past the cap is refused as its release events are. Event names count per stored app id
(a twin has its own names, as it has its own figures).

The check runs as the first statement of the insert's batch (one transaction, no extra subrequest): past a cap
it inserts a row fold_guard refuses (0 fails its CHECK: max_apps; NULL its NOT NULL: max_event_names), which
rolls the insert back and names the cap. In the common case (every (app, event name) pair known) it reads one catalog row per
distinct pair in the batch; counting, only when a pair is new, walks at most about twice the cap of ids.
"""
import json

import debug_apps
from errors import BadRequest, Forbidden, ServiceUnavailable, detail
from sql import Sql, bound_pairs

MAX_APPS = "max_apps"
MAX_EVENT_NAMES = "max_event_names"
DEFAULTS = {MAX_APPS: 100, MAX_EVENT_NAMES: 200}
# The most either may be raised to: a new app or name walks up to about twice its cap of index entries.
CEILING = 100_000
SETTINGS_ROUTE = "PUT /settings/limits"


def _cap(name):
    return Sql(f"COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '{name}'), ?)", [DEFAULTS[name]])


def _release(column):
    """SQL: the release app id of a stored app id (a twin's app, or the id itself)."""
    return Sql(f"CASE WHEN {column} >= ? AND {column} < ? THEN substr({column}, ?) ELSE {column} END",
               [debug_apps.PREFIX, debug_apps.PREFIX_END, len(debug_apps.PREFIX) + 1])


def batch_pairs(rows):
    """SQL rows (app_id, name): the batch's distinct (stored app id, event name) pairs."""
    return bound_pairs(sorted({(row["app_id"], row["event"]) for row in rows}), "app_id", "name")


def _ctes(rows):
    apps = sorted({debug_apps.release_id(row["app_id"]) for row in rows})
    return Sql("WITH RECURSIVE caps AS MATERIALIZED (SELECT ") + _cap(MAX_APPS) + " AS apps, " + _cap(MAX_EVENT_NAMES) + """ AS names),
batch (app_id, name) AS (""" + batch_pairs(rows) + Sql("""),
fresh AS NOT MATERIALIZED (SELECT app_id, name FROM batch AS b
  WHERE NOT EXISTS (SELECT 1 FROM event_names AS n WHERE n.app_id = b.app_id AND n.event_name = b.name)
    AND NOT EXISTS (SELECT 1 FROM events AS e INDEXED BY events_app_name WHERE e.app_id = b.app_id AND e.event_name = b.name)),
new_apps AS MATERIALIZED (SELECT j.value AS app_id FROM json_each(?) AS j
  WHERE j.value IN (SELECT """, [json.dumps(apps, ensure_ascii=False)]) + _release("app_id") + Sql(""" FROM fresh)
    AND NOT EXISTS (SELECT 1 FROM apps WHERE app_id = j.value) AND NOT EXISTS (SELECT 1 FROM events WHERE app_id = j.value)
    AND NOT EXISTS (SELECT 1 FROM apps WHERE app_id = ? || j.value)
    AND NOT EXISTS (SELECT 1 FROM events WHERE app_id = ? || j.value)),
app_walk (app_id, n) AS (SELECT (SELECT app_id FROM events ORDER BY app_id LIMIT 1), 1
  UNION ALL SELECT (SELECT e.app_id FROM events AS e WHERE e.app_id > w.app_id ORDER BY e.app_id LIMIT 1), w.n + 1
  FROM app_walk AS w WHERE w.app_id IS NOT NULL AND w.n <= (SELECT 2 * apps + 1 FROM caps)),
known_apps AS MATERIALIZED (SELECT COUNT(DISTINCT """, [debug_apps.PREFIX, debug_apps.PREFIX]) + _release("id") + Sql(""") AS n FROM (
  SELECT app_id AS id FROM (SELECT app_id FROM apps LIMIT (SELECT 2 * apps + 2 FROM caps))
  UNION SELECT app_id FROM app_walk WHERE app_id IS NOT NULL)),
name_apps AS MATERIALIZED (SELECT app_id, COUNT(*) AS fresh FROM fresh GROUP BY app_id),
name_walk (app_id, name, n) AS (
  SELECT a.app_id, (SELECT e.event_name FROM events AS e INDEXED BY events_app_name WHERE e.app_id = a.app_id
    ORDER BY e.event_name LIMIT 1), 1 FROM name_apps AS a
  UNION ALL SELECT w.app_id, (SELECT e.event_name FROM events AS e INDEXED BY events_app_name
    WHERE e.app_id = w.app_id AND e.event_name > w.name ORDER BY e.event_name LIMIT 1), w.n + 1
  FROM name_walk AS w WHERE w.name IS NOT NULL AND w.n <= (SELECT names FROM caps)),
known_names AS MATERIALIZED (SELECT a.app_id, a.fresh, (SELECT COUNT(*) FROM (
    SELECT event_name FROM (SELECT event_name FROM event_names WHERE app_id = a.app_id LIMIT (SELECT names + 1 FROM caps))
    UNION SELECT name FROM name_walk AS w WHERE w.app_id = a.app_id AND w.name IS NOT NULL)) AS known
  FROM name_apps AS a)
""")


APPS_OVER = """(EXISTS (SELECT 1 FROM new_apps)
  AND (SELECT n FROM known_apps) + (SELECT COUNT(*) FROM new_apps) > (SELECT apps FROM caps))"""
NAMES_OVER = "EXISTS (SELECT 1 FROM known_names, caps WHERE known + fresh > caps.names)"


def guard(rows):
    """The statement that goes first in the insert's batch: past a cap it inserts a row fold_guard refuses, which
    rolls the insert back: 0 (its CHECK fails) for max_apps, NULL (NOT NULL fails) for max_event_names. The
    conditions run in order and stop at the first that decides, so while every pair of the batch is known
    nothing is counted (the counts are materialized: computed once, whichever condition asks)."""
    return _ctes(rows) + (f"INSERT INTO fold_guard (ok) SELECT CASE WHEN {APPS_OVER} THEN 0 END\n"
                          f"WHERE EXISTS (SELECT 1 FROM fresh) AND ({APPS_OVER} OR {NAMES_OVER})")


def refused(error):
    """A D1Error from the guarded insert batch -> the setting whose cap refused it (nothing was stored), or None."""
    if "CHECK constraint failed" in error.reason:
        return MAX_APPS
    if "NOT NULL constraint failed: fold_guard" in error.reason:
        return MAX_EVENT_NAMES
    return None


def diagnosis(rows, setting):
    """What the refusal needs to say, without counting again where it can (a refused request costs the guard's
    count once): the caps, and the new apps, or each new (app, event name) pair. Names are counted again only
    when the batch names several apps, to tell which of them is past the cap."""
    columns = ["(SELECT apps FROM caps) AS max_apps", "(SELECT names FROM caps) AS max_event_names"]
    if setting == MAX_APPS:
        columns.append("(SELECT json_group_array(app_id) FROM new_apps) AS new_apps")
    else:
        columns.append("(SELECT json_group_array(json_array(app_id, name)) FROM fresh) AS fresh")
        if len({row["app_id"] for row in rows}) > 1:
            columns.append("(SELECT json_group_array(app_id) FROM known_names, caps WHERE known + fresh > caps.names) AS over")
    return _ctes(rows) + "SELECT " + ", ".join(columns)


def _changed_meanwhile():
    # The guard's refusal is not what the diagnosis (a statement of its own) sees: another request stored those
    # apps or names, or a cap was raised, in between. Nothing was stored: the sender tries again (a 503).
    raise ServiceUnavailable("the deployment's apps or event names changed while the batch was checked; nothing "
                             "was stored, send it again", [detail(None, "body", "retry")])


def raise_refusal(setting, found, rows):
    """`found`: the diagnosis row. Raises the refusal: 403 naming max_apps (nothing is wrong with the events:
    the SDK keeps them and retries, so raising the cap lets them in), or 400 naming max_event_names with each
    event that brings a new name past the cap (the SDK drops those and sends the rest)."""
    max_apps, max_names = int(found["max_apps"]), int(found["max_event_names"])
    if setting == MAX_APPS:
        new_apps = json.loads(found["new_apps"] or "[]")
        if not new_apps:
            _changed_meanwhile()
        shown = ", ".join(repr(app)[:80] for app in new_apps[:5])
        raise Forbidden(
            f"the deployment already holds its max_apps ({max_apps}) apps: a new app id ({shown}) is refused; nothing was "
            f"stored. An AUTH_KEY holder raises max_apps ({SETTINGS_ROUTE})",
            [detail(None, "app_id", f"new app past max_apps ({max_apps}): {app[:200]}") for app in new_apps[:20]])
    over = set(json.loads(found["over"])) if "over" in found else {row["app_id"] for row in rows}
    fresh = {(app_id, name) for app_id, name in json.loads(found["fresh"] or "[]") if app_id in over}
    problems = [detail(index, "event", f"is a new event name for app {row['app_id'][:100]!r}, which holds "
                                       f"max_event_names ({max_names}) names")
                for position, row in enumerate(rows) if (row["app_id"], row["event"]) in fresh
                for index in [row.get("index", position)]]
    if not problems:
        _changed_meanwhile()
    apps = ", ".join(repr(app)[:80] for app in sorted(over)[:3])
    verb = "event brings a new event name" if len(problems) == 1 else "events bring new event names"
    raise BadRequest(f"{len(problems)} {verb} past max_event_names ({max_names}) to "
                     f"{apps}; nothing was stored. An AUTH_KEY holder raises max_event_names ({SETTINGS_ROUTE})",
                     problems[:100])
