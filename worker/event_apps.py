"""Every app_id that has raw events, folded or not, for queries that go app by app over `events`.

The `apps` rollup lists folded apps only. This walks `events_app_ts` from one app to the next (a loose
index scan SQLite does not do on its own): one index seek, so about one row read, per app.
"""
EVENT_APPS = """(WITH RECURSIVE app_ids(app_id) AS (
  SELECT (SELECT MIN(app_id) FROM events)
  UNION ALL SELECT (SELECT MIN(app_id) FROM events WHERE app_id > app_ids.app_id) FROM app_ids WHERE app_id IS NOT NULL)
SELECT app_id FROM app_ids WHERE app_id IS NOT NULL)"""
