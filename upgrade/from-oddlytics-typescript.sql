-- Only for a database created by the original Oddlytics (TypeScript): run once, before
-- `wrangler d1 migrations apply` (scripts/migrate.py does both, and runs this only when it detects that
-- schema). Its `events` table has other columns; it is set aside as original_events, which migration 0002
-- converts into the new events table (metadata -> properties, timestamp -> UTC epoch ms) and drops.
-- event_aliases and app_settings are kept as they are.
DROP VIEW IF EXISTS event_counts_by_app;
DROP VIEW IF EXISTS top_events;
DROP INDEX IF EXISTS idx_timestamp;
DROP INDEX IF EXISTS idx_app_id;
DROP INDEX IF EXISTS idx_event_name;
DROP INDEX IF EXISTS idx_session_id;
DROP INDEX IF EXISTS idx_user_id;
ALTER TABLE events RENAME TO original_events;
