-- Oddlytics schema: the whole current schema, the single source of truth for new databases.
-- Existing databases upgrade through migrations/ (`wrangler d1 migrations apply oddlytics-db`), which
-- end in exactly this schema (tests/test_migrations.py compares the two).
-- Times are UTC: `ts`/`received_at`/`first_seen`... in epoch milliseconds, rollup `hour`/`day` in epoch
-- seconds (start of the UTC hour or day).

CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '3');

-- Raw events. Ingest writes only this table (one statement); stats read the rollups below.
-- user_mark: 1 on one event per app, session and user in each request (its latest), NULL on the others: a user's
-- sessions are found through those marks (events_user_marks), their events through the session spans. Every
-- event of a user in a session has a mark of that session at or after its time (api/ingest.py, rollups/marks.py).
-- span_first: set on one event per app and session in each request (its head: the latest, whose id is the run's
-- last), the first id of that run of consecutive ids, NULL on the others: a session's events are the id ranges
-- [span_first, id] of its heads (the view session_events; rollups/spans.py).
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,        -- increasing: rollups are folded in from a watermark on id
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
, user_mark INTEGER, span_first INTEGER);
-- Each index costs a row written per event: only what exactly-once ingest, the explorer's filters
-- (one page read through an index) and deletions need. There is no index on (app_id, ts): a read by time alone
-- (the explorer's unfiltered page, a purge, the first and last event of an app) goes name by name through
-- events_app_name, the app's names found by a loose walk of that index (migrations/0012_no_time_index.sql).
-- There is no index on (user_id, ts) either: a user's events are their sessions' (migrations/0013_user_marks.sql),
-- nor one entry per event on (app_id, session_id): a session's events are its spans' (migrations/0017).
-- Exactly once: an SDK retry sends the same app, session, time and event_id again, and ingest looks for the first copy
-- among the session's spans that end at or after that time (api/ingest.py; NULL event_ids never collide). Events
-- whose time is the moment they were received (no timestamp, or one ahead of the worker's clock) get a new time on
-- every retry: only those are also unique on (app_id, event_id), in a partial index the others never write.
CREATE UNIQUE INDEX IF NOT EXISTS events_received_event_id ON events (app_id, event_id)
  WHERE event_id IS NOT NULL AND ts = received_at;
CREATE INDEX IF NOT EXISTS events_app_name ON events (app_id, event_name, ts);
-- A user's sessions: an entry per request and session the user sent events in, not per event.
CREATE INDEX IF NOT EXISTS events_user_marks ON events (user_id, ts, app_id, session_id) WHERE user_mark = 1;
-- A session's spans: an entry per request and session, not per event; `ts` is the span's latest time (covering: a span
-- is read from its entry, then its rows).
CREATE INDEX IF NOT EXISTS events_session_spans ON events (app_id, session_id, ts, span_first)
  WHERE span_first IS NOT NULL;
-- A session's events, read as rows: each head's span by id (a range of the table itself), its rows of the session.
-- Columns app_id and session_id are the head's, so a condition on them seeks events_session_spans; `span_ts` is the
-- head's time, the latest of its span: `span_ts >= t` skips spans that end before t.
CREATE VIEW IF NOT EXISTS session_events AS
  SELECT e.id AS id, e.event_id AS event_id, h.app_id AS app_id, e.event_name AS event_name,
    h.session_id AS session_id, e.user_id AS user_id, e.ts AS ts, e.received_at AS received_at,
    e.platform AS platform, e.app_version AS app_version, e.country AS country, e.properties AS properties,
    e.user_mark AS user_mark, e.span_first AS span_first, h.ts AS span_ts
  FROM events AS h INDEXED BY events_session_spans CROSS JOIN events AS e NOT INDEXED
    ON e.id BETWEEN h.span_first AND h.id AND e.app_id = h.app_id AND e.session_id = h.session_id
  WHERE h.span_first IS NOT NULL;

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

-- The users each session had but its least, which is sessions.user_id (most sessions have one user, and no row
-- here): a user's sessions are the sessions they have events in (rollups/sessions.py, users_of_sessions).
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

-- Who was active when: exact distinct users per day and per hour, and the source sketches are rebuilt from after
-- a deletion. One row per user and UTC day: `events` that day, `hours` the same per hour of the day, a JSON object
-- {"<hour of the UTC day, 0-23>": events} (hours without events left out), `uh` the user's HyperLogLog register and
-- rank (rollups/hll.py). A table of hour rows beside it (migrations/0016) cost a row written per user and hour at
-- every fold step and another deleted at retention: 6,000 of the reference day's rows written.
CREATE TABLE IF NOT EXISTS daily_users (
  app_id TEXT NOT NULL,
  day INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  events INTEGER NOT NULL,
  uh INTEGER,
  hours TEXT,
  PRIMARY KEY (app_id, day, user_id)
) WITHOUT ROWID;
-- The user-hours, read as rows: a read names the days that hold its hours too (`day`), the only bounds the table's
-- key can seek by (rollups/grains.py: bounded).
CREATE VIEW IF NOT EXISTS hourly_users AS
  SELECT d.app_id AS app_id, d.day AS day, d.day + CAST(h.key AS INTEGER) * 3600 AS hour, d.user_id AS user_id,
    d.uh AS uh, h.value AS events
  FROM daily_users AS d CROSS JOIN json_each(d.hours) AS h;

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
-- /suggest: an app's user ids by prefix, one range (routes/suggest.py).
CREATE INDEX IF NOT EXISTS users_app_user ON users (app_id, user_id);

-- Breakdowns (worker/dims.py): each event counted under keys (event_name, dim, kind, value): event_name ''
-- for any event, or the event's own name for `group` and `property:<key>`; kind 0 a value, 1 "(none)",
-- 2 "other" (past the cap of values per field). The admitted values and markers of each field:
CREATE TABLE IF NOT EXISTS dim_values (
  app_id TEXT NOT NULL,
  event_name TEXT NOT NULL,
  dim TEXT NOT NULL,
  kind INTEGER NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (app_id, event_name, dim, kind, value)
) WITHOUT ROWID;

-- Per UTC day: events with the key; sessions that had it, counted at the session's start (as names); users:
-- distinct users with the key that day (keys of daily_user_dims). `hours`: the same events and sessions per hour of
-- the day, a JSON object {"<hour of the day, 0-23>": [events, sessions]} (hours at zero left out), which the ends of
-- a local-zone range read. A table of hour rows (hourly_dims, migrations/0015) cost a row written per key and hour
-- beside the day row, and half the storage of two years of aggregates.
CREATE TABLE IF NOT EXISTS daily_dims (
  app_id TEXT NOT NULL,
  event_name TEXT NOT NULL,
  dim TEXT NOT NULL,
  kind INTEGER NOT NULL,
  value TEXT NOT NULL,
  day INTEGER NOT NULL,
  events INTEGER NOT NULL,
  sessions INTEGER NOT NULL,
  users INTEGER NOT NULL DEFAULT 0,
  hours TEXT,
  PRIMARY KEY (app_id, event_name, dim, kind, value, day)
) WITHOUT ROWID;

-- Who had which breakdown keys each UTC day (kept for the fields of any event: platform, version, country, event
-- name, group): one row per user and day, `dims` a JSON object {key: the user's events with it that day}, the key
-- a letter per field, the kind and the value, "e0=App Opened", or its hex where it has other characters than
-- [A-Za-z0-9 ._-], "e0#C3A9" (rollups/dims.py: user_key_of; no value can spell a JSON path; migrations/0018). One row per
-- user, day *and key* cost a row written per key whenever a fold step saw the user (1.3 per event) and a deletion
-- per key at retention: together a fifth of the reference day's rows written. `sample` (0..63, from the user's hash) comes
-- before the user, so a range too large to count exactly reads only the users of a few samples.
CREATE TABLE IF NOT EXISTS daily_user_dims (
  app_id TEXT NOT NULL,
  day INTEGER NOT NULL,
  sample INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  dims TEXT NOT NULL,
  PRIMARY KEY (app_id, day, sample, user_id)
) WITHOUT ROWID;

-- The fold admits new breakdown values, adds the chunk to the day counters (and their hours) and the per-user sets
-- and adds the markers from one statement (rollups/dims.py: counters_sql): one expansion of the chunk into its keys
-- instead of six. This view takes those rows and its trigger sends each to its table: `day` adds to the counters
-- and merges its `hours` into the row's (rollups/dims.py: merged_hours spells the same expression), `user` replaces
-- a user's day in daily_user_dims (its `value` is the merged JSON), `dim_value` adds an admitted value or a marker
-- to dim_values. Nothing is ever stored in the view.
CREATE VIEW IF NOT EXISTS dims_fold AS
  SELECT '' AS grain, app_id, event_name, dim, kind, value, day AS bucket, events, sessions, users, 0 AS sample,
    '' AS user_id, hours FROM daily_dims WHERE 0;
CREATE TRIGGER IF NOT EXISTS dims_fold_insert INSTEAD OF INSERT ON dims_fold
BEGIN
  INSERT INTO daily_dims (app_id, event_name, dim, kind, value, day, events, sessions, users, hours)
    SELECT NEW.app_id, NEW.event_name, NEW.dim, NEW.kind, NEW.value, NEW.bucket, NEW.events, NEW.sessions, NEW.users,
      NEW.hours
    WHERE NEW.grain = 'day'
    ON CONFLICT (app_id, event_name, dim, kind, value, day) DO UPDATE SET events = events + excluded.events,
      sessions = sessions + excluded.sessions, users = users + excluded.users, hours =
        CASE WHEN excluded.hours = '{}' THEN daily_dims.hours
        WHEN (SELECT COUNT(*) FROM json_each(excluded.hours)) = 1 THEN (SELECT CASE WHEN e = 0 AND s = 0 THEN json_remove(COALESCE(daily_dims.hours, '{}'), p)
        ELSE json_set(COALESCE(daily_dims.hours, '{}'), p, json_array(e, s)) END FROM (SELECT '$."' || key || '"' AS p,
        COALESCE(json_extract(daily_dims.hours, '$."' || key || '"' || '[0]'), 0) + json_extract(value, '$[0]') AS e,
        COALESCE(json_extract(daily_dims.hours, '$."' || key || '"' || '[1]'), 0) + json_extract(value, '$[1]') AS s FROM json_each(excluded.hours))) ELSE (SELECT json_group_object(h, json_array(e, s)) FROM (SELECT key AS h,
        SUM(json_extract(value, '$[0]')) AS e, SUM(json_extract(value, '$[1]')) AS s FROM (
        SELECT key, value FROM json_each(daily_dims.hours) UNION ALL SELECT key, value FROM json_each(excluded.hours)) GROUP BY key)
        WHERE e != 0 OR s != 0) END;
  INSERT INTO daily_user_dims (app_id, day, sample, user_id, dims)
    SELECT NEW.app_id, NEW.bucket, NEW.sample, NEW.user_id, NEW.value WHERE NEW.grain = 'user'
    ON CONFLICT (app_id, day, sample, user_id) DO UPDATE SET dims = excluded.dims;
  INSERT INTO dim_values (app_id, event_name, dim, kind, value)
    SELECT NEW.app_id, NEW.event_name, NEW.dim, NEW.kind, NEW.value WHERE NEW.grain = 'dim_value'
    ON CONFLICT DO NOTHING;
END;

-- The fold writes each counter family's hour and day rows from one statement (rollups/chunk.py: both_grains):
-- the chunk, its sessions and users are read once for both grains. This view takes the rows, `target` naming the
-- table, and its trigger adds each to its table. Nothing is ever stored in the view.
CREATE VIEW IF NOT EXISTS counts_fold AS
  SELECT '' AS target, app_id, '' AS event_name, day AS bucket, 0 AS length_s, events, sessions, users,
    0 AS one_event FROM daily WHERE 0;
CREATE TRIGGER IF NOT EXISTS counts_fold_insert INSTEAD OF INSERT ON counts_fold
BEGIN
  INSERT INTO hourly (app_id, hour, events, sessions, users)
    SELECT NEW.app_id, NEW.bucket, NEW.events, NEW.sessions, NEW.users WHERE NEW.target = 'hourly'
    ON CONFLICT (app_id, hour) DO UPDATE SET events = events + excluded.events,
      sessions = sessions + excluded.sessions, users = users + excluded.users;
  INSERT INTO daily (app_id, day, events, sessions, users)
    SELECT NEW.app_id, NEW.bucket, NEW.events, NEW.sessions, NEW.users WHERE NEW.target = 'daily'
    ON CONFLICT (app_id, day) DO UPDATE SET events = events + excluded.events,
      sessions = sessions + excluded.sessions, users = users + excluded.users;
  INSERT INTO hourly_names (app_id, event_name, hour, events, sessions)
    SELECT NEW.app_id, NEW.event_name, NEW.bucket, NEW.events, NEW.sessions WHERE NEW.target = 'hourly_names'
    ON CONFLICT (app_id, event_name, hour) DO UPDATE SET events = events + excluded.events,
      sessions = sessions + excluded.sessions;
  INSERT INTO daily_names (app_id, day, event_name, events, sessions)
    SELECT NEW.app_id, NEW.bucket, NEW.event_name, NEW.events, NEW.sessions WHERE NEW.target = 'daily_names'
    ON CONFLICT (app_id, day, event_name) DO UPDATE SET events = events + excluded.events,
      sessions = sessions + excluded.sessions;
  INSERT INTO hourly_session_lengths (app_id, hour, length_s, sessions, events, one_event)
    SELECT NEW.app_id, NEW.bucket, NEW.length_s, NEW.sessions, NEW.events, NEW.one_event
    WHERE NEW.target = 'hourly_session_lengths'
    ON CONFLICT (app_id, hour, length_s) DO UPDATE SET sessions = sessions + excluded.sessions,
      events = events + excluded.events, one_event = one_event + excluded.one_event;
  INSERT INTO daily_session_lengths (app_id, day, length_s, sessions, events, one_event)
    SELECT NEW.app_id, NEW.bucket, NEW.length_s, NEW.sessions, NEW.events, NEW.one_event
    WHERE NEW.target = 'daily_session_lengths'
    ON CONFLICT (app_id, day, length_s) DO UPDATE SET sessions = sessions + excluded.sessions,
      events = events + excluded.events, one_event = one_event + excluded.one_event;
  INSERT INTO hourly_new_users (app_id, hour, users)
    SELECT NEW.app_id, NEW.bucket, NEW.users WHERE NEW.target = 'hourly_new_users'
    ON CONFLICT (app_id, hour) DO UPDATE SET users = users + excluded.users;
  INSERT INTO daily_new_users (app_id, day, users)
    SELECT NEW.app_id, NEW.bucket, NEW.users WHERE NEW.target = 'daily_new_users'
    ON CONFLICT (app_id, day) DO UPDATE SET users = users + excluded.users;
  INSERT INTO hourly_new_users_any (hour, users)
    SELECT NEW.bucket, NEW.users WHERE NEW.target = 'hourly_new_users_any'
    ON CONFLICT (hour) DO UPDATE SET users = users + excluded.users;
  INSERT INTO daily_new_users_any (day, users)
    SELECT NEW.bucket, NEW.users WHERE NEW.target = 'daily_new_users_any'
    ON CONFLICT (day) DO UPDATE SET users = users + excluded.users;
END;

-- A purge step (rollups/purge.py) forgets the sessions that ended before the cutoff and the per-user sets of whole
-- days before it (their hours inside) in one statement: each of those DELETEs read the step's events again. The statement
-- inserts here what goes, `target` naming it, and the trigger deletes it. Nothing is ever stored in the view.
CREATE VIEW IF NOT EXISTS purge_rows AS
  SELECT '' AS target, app_id, '' AS session_id, event_name, dim, kind, value, day AS bucket FROM daily_dims WHERE 0;
CREATE TRIGGER IF NOT EXISTS purge_rows_insert INSTEAD OF INSERT ON purge_rows
BEGIN
  DELETE FROM session_users WHERE NEW.target = 'session' AND app_id = NEW.app_id AND session_id = NEW.session_id;
  DELETE FROM sessions WHERE NEW.target = 'session' AND app_id = NEW.app_id AND session_id = NEW.session_id;
  DELETE FROM daily_users WHERE NEW.target = 'day' AND app_id = NEW.app_id AND day = NEW.bucket;
  DELETE FROM daily_user_dims WHERE NEW.target = 'day' AND app_id = NEW.app_id AND day = NEW.bucket;
END;

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

-- daily_users (issue 17, migration 0005): 1 counts the app's /track events without user_id as daily visitors.
-- Spelled as SQLite writes an added column (before the closing parenthesis), so both paths end in one schema.
CREATE TABLE IF NOT EXISTS app_settings (
  app_id TEXT PRIMARY KEY,
  icon_url TEXT,
  display_name TEXT
, daily_users INTEGER);

-- Issue 8: sessions and active users (worker/session_rollups.py). Session lengths by the session's start
-- bucket and length bucket (`length_s`: the lower bound in seconds of its bucket, see LENGTH_BOUNDS), with
-- their events and how many had one event; a range reads days x length buckets rows.
CREATE TABLE IF NOT EXISTS hourly_session_lengths (
  app_id TEXT NOT NULL,
  hour INTEGER NOT NULL,
  length_s INTEGER NOT NULL,
  sessions INTEGER NOT NULL,
  events INTEGER NOT NULL,
  one_event INTEGER NOT NULL,
  PRIMARY KEY (app_id, hour, length_s)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS daily_session_lengths (
  app_id TEXT NOT NULL,
  day INTEGER NOT NULL,
  length_s INTEGER NOT NULL,
  sessions INTEGER NOT NULL,
  events INTEGER NOT NULL,
  one_event INTEGER NOT NULL,
  PRIMARY KEY (app_id, day, length_s)
) WITHOUT ROWID;

-- Users first seen in the bucket: in the app (users.first_seen), and in any app (their earliest first_seen).
CREATE TABLE IF NOT EXISTS hourly_new_users (
  app_id TEXT NOT NULL,
  hour INTEGER NOT NULL,
  users INTEGER NOT NULL,
  PRIMARY KEY (app_id, hour)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS daily_new_users (
  app_id TEXT NOT NULL,
  day INTEGER NOT NULL,
  users INTEGER NOT NULL,
  PRIMARY KEY (app_id, day)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS hourly_new_users_any (
  hour INTEGER PRIMARY KEY,
  users INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS daily_new_users_any (
  day INTEGER PRIMARY KEY,
  users INTEGER NOT NULL
) WITHOUT ROWID;

-- Issue 17: App-Keys (the Aptabase protocol, routes/aptabase.py) and the daily salts of users counted without
-- a user id (a per-app daily hash of salt, client address and User-Agent; neither is stored).
CREATE TABLE IF NOT EXISTS app_keys (
  app_key TEXT PRIMARY KEY,      -- A-SH-##########: public, write-only, for its one app
  app_id TEXT NOT NULL UNIQUE,   -- the release app id; debug events go to its debug twin (worker/debug_apps.py)
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS daily_salts (
  day INTEGER PRIMARY KEY,       -- start of the UTC day, epoch seconds; older days are deleted
  salt TEXT NOT NULL
) WITHOUT ROWID;

-- Issue 19: an SDK's anonymous id linked to the user it identified (worker/rollups/links.py). One anonymous id
-- links to one user (the first asked); `moved` counts the events moved to that user, capped per anonymous id.
CREATE TABLE IF NOT EXISTS identity_links (
  app_id TEXT NOT NULL,
  anonymous_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  linked_at INTEGER NOT NULL,    -- epoch ms of the first link; the retention period forgets older links
  moved INTEGER NOT NULL,
  PRIMARY KEY (anonymous_id, app_id)   -- erasing an id finds it as an anonymous id too
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS identity_links_user ON identity_links (user_id, app_id);
CREATE INDEX IF NOT EXISTS identity_links_app ON identity_links (app_id);
CREATE INDEX IF NOT EXISTS identity_links_linked_at ON identity_links (linked_at);

-- Issue 16: merged users sketches of local days, kept by /stats/active (routes/active.py, rollups/unit_cache.py).
-- A local day outside UTC is 24 hourly sketches of two UTC days; merging them was most of the worker's CPU for 30
-- days of active users in Berlin (~26 ms a request). A read that merged a complete local day keeps the result here,
-- so later reads merge one stored sketch per past day (and one per span of days merged together: migration 0020).
-- A row is a pure function of the hourly and daily sketches
-- in [lo, hi) of its scope: the triggers below delete it whenever one of those changes (a fold, a late event, a
-- rebuild after an erasure, a deletion of rollup rows), whoever changes it. Scope: an app id, '' for every release
-- app, 'debug:' for every debug twin (no app id is empty, so no twin is 'debug:').
CREATE TABLE IF NOT EXISTS unit_sketches (
  scope TEXT NOT NULL,
  hi INTEGER NOT NULL,        -- end of the unit, epoch seconds (exclusive, a whole hour)
  lo INTEGER NOT NULL,        -- start of the unit, epoch seconds (a whole hour; a unit spans at most 32 days)
  sketch TEXT NOT NULL,       -- hll.Sketch.encode() of the merge
  users INTEGER NOT NULL,     -- its estimate (hll.Sketch.estimate), the unit's own active users
  PRIMARY KEY (scope, hi, lo)
) WITHOUT ROWID;

-- A changed hour [h, h + 1 hour) invalidates the units overlapping it: hi > h AND lo < h + 1 hour; a changed day
-- [d, d + 1 day) the units that hold it whole (a unit reads a daily row only for a whole UTC day inside it, its other
-- hours from `hourly`): lo <= d AND hi >= d + 1 day. Units are at most 32 days long (a local day, or a span of the
-- local days a WAU or MAU window or a week merges: unit_cache.MAX_UNIT_SECONDS), which bounds the seek of the primary
-- key (hi < the hour's or day's start + 32 days + 1 hour).
CREATE TRIGGER IF NOT EXISTS unit_sketches_hourly_update AFTER UPDATE OF sketch ON hourly
BEGIN
  DELETE FROM unit_sketches WHERE scope IN (NEW.app_id, '', 'debug:')
    AND hi > NEW.hour AND hi < NEW.hour + 2768400 AND lo < NEW.hour + 3600;
END;
CREATE TRIGGER IF NOT EXISTS unit_sketches_hourly_delete AFTER DELETE ON hourly
BEGIN
  DELETE FROM unit_sketches WHERE scope IN (OLD.app_id, '', 'debug:')
    AND hi > OLD.hour AND hi < OLD.hour + 2768400 AND lo < OLD.hour + 3600;
END;
CREATE TRIGGER IF NOT EXISTS unit_sketches_daily_update AFTER UPDATE OF sketch ON daily
BEGIN
  DELETE FROM unit_sketches WHERE scope IN (NEW.app_id, '', 'debug:')
    AND hi >= NEW.day + 86400 AND hi < NEW.day + 2768400 AND lo <= NEW.day;
END;
CREATE TRIGGER IF NOT EXISTS unit_sketches_daily_delete AFTER DELETE ON daily
BEGIN
  DELETE FROM unit_sketches WHERE scope IN (OLD.app_id, '', 'debug:')
    AND hi >= OLD.day + 86400 AND hi < OLD.day + 2768400 AND lo <= OLD.day;
END;
