-- Oddlytics schema version 1, as first released (hourly rollups per session-hour).
-- Every statement is idempotent, so a database created from the old schema.sql adopts the migrations.

CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');

-- Raw events, for the event explorer and exports. Stats never scan this table (D1 bills rows read).
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  event_id TEXT,                 -- optional client idempotency key
  app_id TEXT NOT NULL,
  event_name TEXT NOT NULL,
  session_id TEXT NOT NULL,
  user_id TEXT,
  ts INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  platform TEXT,
  app_version TEXT,
  country TEXT,                  -- two-letter code from request.cf; the IP is never stored
  properties TEXT                -- JSON object
);
-- Each index costs a row written per event, so only those the read API needs.
CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON events (app_id, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_app_ts ON events (app_id, ts);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE INDEX IF NOT EXISTS events_user_ts ON events (user_id, ts) WHERE user_id IS NOT NULL;

-- Rollups, maintained in the same transaction as each insert. Keyed by hour first so any
-- range query reads only the hours it covers.
CREATE TABLE IF NOT EXISTS hourly_events (
  hour INTEGER NOT NULL,
  app_id TEXT NOT NULL,
  event_name TEXT NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY (hour, app_id, event_name)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS hourly_sessions (
  hour INTEGER NOT NULL,
  app_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  user_id TEXT,
  events INTEGER NOT NULL,
  PRIMARY KEY (hour, app_id, session_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS hourly_event_sessions (
  hour INTEGER NOT NULL,
  app_id TEXT NOT NULL,
  event_name TEXT NOT NULL,
  session_id TEXT NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY (hour, app_id, event_name, session_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS apps (
  app_id TEXT PRIMARY KEY,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  events INTEGER NOT NULL
) WITHOUT ROWID;
