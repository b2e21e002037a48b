-- Schema version 2: rollups whose size does not grow with sessions or users, folded in off the ingest path.
-- The old rollups are dropped and rebuilt from the raw events by folding from id 0: after applying this,
-- call `POST /admin/fold` until it answers "complete": true (reads and the cron also fold, a chunk at a time).
-- A database of the original Oddlytics (TypeScript) arrives here with its events renamed to original_events
-- (upgrade/from-oddlytics-typescript.sql, which scripts/migrate.py applies when it detects that schema):
-- they are converted into events below. Elsewhere original_events is created empty and dropped again.

DROP TABLE IF EXISTS hourly_events;
DROP TABLE IF EXISTS hourly_sessions;
DROP TABLE IF EXISTS hourly_event_sessions;
DROP TABLE IF EXISTS apps;
DROP INDEX IF EXISTS events_ts;
CREATE INDEX IF NOT EXISTS events_app_session ON events (app_id, session_id, ts);
CREATE INDEX IF NOT EXISTS events_app_name ON events (app_id, event_name, ts);

CREATE TABLE IF NOT EXISTS original_events (
  id INTEGER PRIMARY KEY,
  event_name TEXT NOT NULL,
  app_id TEXT NOT NULL,
  timestamp DATETIME DEFAULT CURRENT_TIMESTAMP,
  platform TEXT,
  metadata TEXT,
  session_id TEXT,
  user_id TEXT
);
-- `timestamp` held SQLite's CURRENT_TIMESTAMP text (UTC) or a client's ISO-8601 string; both parse here.
-- metadata that is not a JSON object is kept under {"metadata": ...}; a missing session becomes "legacy".
INSERT INTO events (app_id, event_name, session_id, user_id, ts, received_at, platform, properties)
SELECT substr(app_id, 1, 255), substr(event_name, 1, 255),
  substr(COALESCE(NULLIF(session_id, ''), 'legacy'), 1, 255), NULLIF(substr(user_id, 1, 255), ''), ts, ts,
  substr(platform, 1, 64),
  CASE WHEN json_valid(metadata) AND json_type(metadata) = 'object' THEN json(metadata)
       WHEN metadata IS NULL OR metadata = '' THEN NULL
       ELSE json_object('metadata', metadata) END
FROM (SELECT *, CAST(round((julianday(timestamp) - 2440587.5) * 86400000) AS INTEGER) AS ts FROM original_events)
WHERE ts IS NOT NULL AND app_id <> '' AND event_name <> ''
ORDER BY id;
DROP TABLE original_events;

-- Folding: every event with id <= folded is counted in the rollups; `version` changes with every
-- transaction that changes rollups, so a fold computed from a snapshot commits only onto that snapshot
-- (a fold_guard row with ok = 0 fails its CHECK and rolls the whole batch back).
CREATE TABLE IF NOT EXISTS fold_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  folded INTEGER NOT NULL,
  version INTEGER NOT NULL
);
INSERT OR IGNORE INTO fold_state (id, folded, version) VALUES (1, 0, 0);
CREATE TABLE IF NOT EXISTS fold_guard (ok INTEGER NOT NULL CHECK (ok = 1));

-- Rollups: keyed by app first, so a per-app read touches only that app's rows and an all-app read
-- goes app by app. None grows with sessions or users per read: ranges read hours x names at most.
CREATE TABLE IF NOT EXISTS apps (
  app_id TEXT PRIMARY KEY,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  events INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS event_names (
  app_id TEXT NOT NULL,
  event_name TEXT NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY (app_id, event_name)
) WITHOUT ROWID;

-- One row per session. A session counts once, in the hour it starts (its first event). user_id,
-- platform, app_version, country: the smallest seen in the session, so the row does not depend on the
-- order events arrive in.
CREATE TABLE IF NOT EXISTS sessions (
  app_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  first_ts INTEGER NOT NULL,
  last_ts INTEGER NOT NULL,
  events INTEGER NOT NULL,
  user_id TEXT,
  platform TEXT,
  app_version TEXT,
  country TEXT,
  first_event TEXT NOT NULL,
  last_event TEXT NOT NULL,
  PRIMARY KEY (app_id, session_id)
) WITHOUT ROWID;

-- The event names each session did: "sessions that did X" counts each pair once, at the session's start.
CREATE TABLE IF NOT EXISTS session_events (
  app_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  event_name TEXT NOT NULL,
  PRIMARY KEY (app_id, session_id, event_name)
) WITHOUT ROWID;

-- The users each session had: a user's sessions are the sessions they have events in.
CREATE TABLE IF NOT EXISTS session_users (
  app_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  PRIMARY KEY (app_id, session_id, user_id)
) WITHOUT ROWID;

-- events: in the hour; sessions: starting in the hour; users: distinct in the hour (exact);
-- sketch: HyperLogLog registers of those users (worker/hll.py), merged for multi-day ranges.
CREATE TABLE IF NOT EXISTS hourly (
  app_id TEXT NOT NULL,
  hour INTEGER NOT NULL,
  events INTEGER NOT NULL,
  sessions INTEGER NOT NULL,
  users INTEGER NOT NULL,
  sketch TEXT,
  PRIMARY KEY (app_id, hour)
) WITHOUT ROWID;

-- The same per UTC day: long ranges read days, with hours only at their ends.
CREATE TABLE IF NOT EXISTS daily (
  app_id TEXT NOT NULL,
  day INTEGER NOT NULL,
  events INTEGER NOT NULL,
  sessions INTEGER NOT NULL,
  users INTEGER NOT NULL,
  sketch TEXT,
  PRIMARY KEY (app_id, day)
) WITHOUT ROWID;

-- Per event name: events in the hour; sessions that did it, counted at the session's start hour.
CREATE TABLE IF NOT EXISTS hourly_names (
  app_id TEXT NOT NULL,
  event_name TEXT NOT NULL,
  hour INTEGER NOT NULL,
  events INTEGER NOT NULL,
  sessions INTEGER NOT NULL,
  PRIMARY KEY (app_id, event_name, hour)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS daily_names (
  app_id TEXT NOT NULL,
  day INTEGER NOT NULL,
  event_name TEXT NOT NULL,
  events INTEGER NOT NULL,
  sessions INTEGER NOT NULL,
  PRIMARY KEY (app_id, day, event_name)
) WITHOUT ROWID;

-- Who was active when: exact distinct users per hour and per day, and the source sketches are
-- rebuilt from after a deletion. `uh` is the user's HyperLogLog register and rank (worker/hll.py).
CREATE TABLE IF NOT EXISTS hourly_users (
  app_id TEXT NOT NULL,
  hour INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  uh INTEGER NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY (app_id, hour, user_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS daily_users (
  app_id TEXT NOT NULL,
  day INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY (app_id, day, user_id)
) WITHOUT ROWID;

-- Sketches to rebuild from *_users after a deletion (HyperLogLog cannot remove a user).
CREATE TABLE IF NOT EXISTS stale_sketches (
  app_id TEXT NOT NULL,
  grain TEXT NOT NULL,           -- 'hour' or 'day'
  bucket INTEGER NOT NULL,
  PRIMARY KEY (app_id, grain, bucket)
) WITHOUT ROWID;

-- One row per user and app, all-time: the Users list pages through (app_id, last_seen).
CREATE TABLE IF NOT EXISTS users (
  user_id TEXT NOT NULL,
  app_id TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  events INTEGER NOT NULL,
  sessions INTEGER NOT NULL,     -- sessions the user has events in
  PRIMARY KEY (user_id, app_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS users_app_last_seen ON users (app_id, last_seen);

-- Scratch: the ids of the chunk one deletion transaction removes (worker/erasure.py); empty between them.
CREATE TABLE IF NOT EXISTS erase_chunk (id INTEGER PRIMARY KEY);

-- Kept from the original Oddlytics (TypeScript): display names for event names, and per app a
-- display name and icon.
CREATE TABLE IF NOT EXISTS event_aliases (
  app_id TEXT NOT NULL,
  event_name TEXT NOT NULL,
  alias TEXT NOT NULL,
  PRIMARY KEY (app_id, event_name)
);

CREATE TABLE IF NOT EXISTS app_settings (
  app_id TEXT PRIMARY KEY,
  icon_url TEXT,
  display_name TEXT
);

UPDATE meta SET value = '2' WHERE key = 'schema_version';
