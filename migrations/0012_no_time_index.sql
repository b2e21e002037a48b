-- Issue 16: one row written per event less. The index on (app_id, ts) served reads by time alone: the explorer's
-- unfiltered page, a purge step, the first and last event of an app. They now read name by name through
-- events_app_name (app_id, event_name, ts), the app's names listed by event_names: a page merges each name's newest
-- events, a purge takes each name's oldest. Dropping an index keeps every row.
DROP INDEX IF EXISTS events_app_ts;
