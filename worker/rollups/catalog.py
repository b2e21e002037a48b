"""The catalog family: every app with its all-time events and first/last seen (`apps`), and every event name
of an app with its events (`event_names`). All-app reads go app by app through `apps`."""
from rollups.chunk import FOLDED
from sql import UPSERT_WHERE, Sql

TABLES = ("apps", "event_names")


def fold(chunk):
    return ["WITH " + chunk + f"""
INSERT INTO event_names (app_id, event_name, events)
SELECT app_id, event_name, COUNT(*) FROM chunk {UPSERT_WHERE} GROUP BY app_id, event_name
ON CONFLICT (app_id, event_name) DO UPDATE SET events = events + excluded.events""",
            "WITH " + chunk + f"""
INSERT INTO apps (app_id, first_seen, last_seen, events)
SELECT app_id, MIN(ts), MAX(ts), COUNT(*) FROM chunk {UPSERT_WHERE} GROUP BY app_id
ON CONFLICT (app_id) DO UPDATE SET first_seen = MIN(apps.first_seen, excluded.first_seen),
  last_seen = MAX(apps.last_seen, excluded.last_seen), events = apps.events + excluded.events"""]


def erase(erasing):
    counted, gone_ids = erasing.counted, erasing.gone_ids
    # The app's folded names (only counted events decide first/last seen), after this step's counts came off.
    app_names = "event_names AS n WHERE n.app_id = apps.app_id"
    return [Sql(text) for text in (
        f"""UPDATE event_names SET events = event_names.events - g.n
FROM (SELECT app_id, event_name, COUNT(*) AS n FROM events WHERE {counted} GROUP BY 1, 2) AS g
WHERE event_names.app_id = g.app_id AND event_names.event_name = g.event_name""",
        f"DELETE FROM event_names WHERE events <= 0 AND (app_id, event_name) IN (SELECT app_id, event_name FROM events WHERE {counted})",
        # first_seen/last_seen come from the remaining counted events: each of the app's names' first and last,
        # through events_app_name (there is no index on (app_id, ts)).
        f"""UPDATE apps SET events = apps.events - gone.n,
  first_seen = COALESCE((SELECT MIN((SELECT e.ts FROM events AS e INDEXED BY events_app_name
    WHERE e.app_id = n.app_id AND e.event_name = n.event_name AND e.id <= {FOLDED} AND e.id NOT IN ({gone_ids})
    ORDER BY e.ts LIMIT 1)) FROM {app_names}), apps.first_seen),
  last_seen = COALESCE((SELECT MAX((SELECT e.ts FROM events AS e INDEXED BY events_app_name
    WHERE e.app_id = n.app_id AND e.event_name = n.event_name AND e.id <= {FOLDED} AND e.id NOT IN ({gone_ids})
    ORDER BY e.ts DESC LIMIT 1)) FROM {app_names}), apps.last_seen)
FROM (SELECT app_id, COUNT(*) AS n FROM events WHERE {counted} GROUP BY app_id) AS gone
WHERE apps.app_id = gone.app_id""",
        f"DELETE FROM apps WHERE events <= 0 AND app_id IN (SELECT app_id FROM events WHERE {counted})",
    )]
