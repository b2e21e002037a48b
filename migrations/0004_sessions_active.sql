-- Issue 8: session lengths and new users (worker/session_rollups.py), filled from what is folded so far
-- (`sessions` and `users`), so no refold is needed; the fold and deletions keep them up to date from here.
-- The INSERTs are worker/session_rollups.backfill_statements() (tests/unit/test_sessions_active_pure.py checks).

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

INSERT INTO hourly_session_lengths (app_id, hour, length_s, sessions, events, one_event)
SELECT app_id, (first_ts / 1000 - first_ts / 1000 % 3600), (CASE WHEN ((last_ts - first_ts) / 1000) < 1 THEN 0 WHEN ((last_ts - first_ts) / 1000) < 2 THEN 1 WHEN ((last_ts - first_ts) / 1000) < 3 THEN 2 WHEN ((last_ts - first_ts) / 1000) < 4 THEN 3 WHEN ((last_ts - first_ts) / 1000) < 5 THEN 4 WHEN ((last_ts - first_ts) / 1000) < 6 THEN 5 WHEN ((last_ts - first_ts) / 1000) < 7 THEN 6 WHEN ((last_ts - first_ts) / 1000) < 8 THEN 7 WHEN ((last_ts - first_ts) / 1000) < 9 THEN 8 WHEN ((last_ts - first_ts) / 1000) < 10 THEN 9 WHEN ((last_ts - first_ts) / 1000) < 12 THEN 10 WHEN ((last_ts - first_ts) / 1000) < 15 THEN 12 WHEN ((last_ts - first_ts) / 1000) < 20 THEN 15 WHEN ((last_ts - first_ts) / 1000) < 25 THEN 20 WHEN ((last_ts - first_ts) / 1000) < 30 THEN 25 WHEN ((last_ts - first_ts) / 1000) < 40 THEN 30 WHEN ((last_ts - first_ts) / 1000) < 50 THEN 40 WHEN ((last_ts - first_ts) / 1000) < 60 THEN 50 WHEN ((last_ts - first_ts) / 1000) < 75 THEN 60 WHEN ((last_ts - first_ts) / 1000) < 90 THEN 75 WHEN ((last_ts - first_ts) / 1000) < 120 THEN 90 WHEN ((last_ts - first_ts) / 1000) < 150 THEN 120 WHEN ((last_ts - first_ts) / 1000) < 180 THEN 150 WHEN ((last_ts - first_ts) / 1000) < 240 THEN 180 WHEN ((last_ts - first_ts) / 1000) < 300 THEN 240 WHEN ((last_ts - first_ts) / 1000) < 360 THEN 300 WHEN ((last_ts - first_ts) / 1000) < 450 THEN 360 WHEN ((last_ts - first_ts) / 1000) < 600 THEN 450 WHEN ((last_ts - first_ts) / 1000) < 750 THEN 600 WHEN ((last_ts - first_ts) / 1000) < 900 THEN 750 WHEN ((last_ts - first_ts) / 1000) < 1200 THEN 900 WHEN ((last_ts - first_ts) / 1000) < 1500 THEN 1200 WHEN ((last_ts - first_ts) / 1000) < 1800 THEN 1500 WHEN ((last_ts - first_ts) / 1000) < 2400 THEN 1800 WHEN ((last_ts - first_ts) / 1000) < 3000 THEN 2400 WHEN ((last_ts - first_ts) / 1000) < 3600 THEN 3000 WHEN ((last_ts - first_ts) / 1000) < 4800 THEN 3600 WHEN ((last_ts - first_ts) / 1000) < 6000 THEN 4800 WHEN ((last_ts - first_ts) / 1000) < 7200 THEN 6000 WHEN ((last_ts - first_ts) / 1000) < 10800 THEN 7200 WHEN ((last_ts - first_ts) / 1000) < 14400 THEN 10800 WHEN ((last_ts - first_ts) / 1000) < 21600 THEN 14400 WHEN ((last_ts - first_ts) / 1000) < 28800 THEN 21600 WHEN ((last_ts - first_ts) / 1000) < 43200 THEN 28800 WHEN ((last_ts - first_ts) / 1000) < 86400 THEN 43200 ELSE 86400 END), COUNT(*), SUM(events), SUM(events = 1)
FROM sessions GROUP BY 1, 2, 3;

INSERT INTO hourly_new_users (app_id, hour, users)
SELECT app_id, (first_seen / 1000 - first_seen / 1000 % 3600), COUNT(*) FROM users GROUP BY 1, 2;

INSERT INTO hourly_new_users_any (hour, users)
SELECT (first_seen / 1000 - first_seen / 1000 % 3600), COUNT(*) FROM (SELECT MIN(first_seen) AS first_seen FROM users GROUP BY user_id) GROUP BY 1;

INSERT INTO daily_session_lengths (app_id, day, length_s, sessions, events, one_event)
SELECT app_id, (first_ts / 1000 - first_ts / 1000 % 86400), (CASE WHEN ((last_ts - first_ts) / 1000) < 1 THEN 0 WHEN ((last_ts - first_ts) / 1000) < 2 THEN 1 WHEN ((last_ts - first_ts) / 1000) < 3 THEN 2 WHEN ((last_ts - first_ts) / 1000) < 4 THEN 3 WHEN ((last_ts - first_ts) / 1000) < 5 THEN 4 WHEN ((last_ts - first_ts) / 1000) < 6 THEN 5 WHEN ((last_ts - first_ts) / 1000) < 7 THEN 6 WHEN ((last_ts - first_ts) / 1000) < 8 THEN 7 WHEN ((last_ts - first_ts) / 1000) < 9 THEN 8 WHEN ((last_ts - first_ts) / 1000) < 10 THEN 9 WHEN ((last_ts - first_ts) / 1000) < 12 THEN 10 WHEN ((last_ts - first_ts) / 1000) < 15 THEN 12 WHEN ((last_ts - first_ts) / 1000) < 20 THEN 15 WHEN ((last_ts - first_ts) / 1000) < 25 THEN 20 WHEN ((last_ts - first_ts) / 1000) < 30 THEN 25 WHEN ((last_ts - first_ts) / 1000) < 40 THEN 30 WHEN ((last_ts - first_ts) / 1000) < 50 THEN 40 WHEN ((last_ts - first_ts) / 1000) < 60 THEN 50 WHEN ((last_ts - first_ts) / 1000) < 75 THEN 60 WHEN ((last_ts - first_ts) / 1000) < 90 THEN 75 WHEN ((last_ts - first_ts) / 1000) < 120 THEN 90 WHEN ((last_ts - first_ts) / 1000) < 150 THEN 120 WHEN ((last_ts - first_ts) / 1000) < 180 THEN 150 WHEN ((last_ts - first_ts) / 1000) < 240 THEN 180 WHEN ((last_ts - first_ts) / 1000) < 300 THEN 240 WHEN ((last_ts - first_ts) / 1000) < 360 THEN 300 WHEN ((last_ts - first_ts) / 1000) < 450 THEN 360 WHEN ((last_ts - first_ts) / 1000) < 600 THEN 450 WHEN ((last_ts - first_ts) / 1000) < 750 THEN 600 WHEN ((last_ts - first_ts) / 1000) < 900 THEN 750 WHEN ((last_ts - first_ts) / 1000) < 1200 THEN 900 WHEN ((last_ts - first_ts) / 1000) < 1500 THEN 1200 WHEN ((last_ts - first_ts) / 1000) < 1800 THEN 1500 WHEN ((last_ts - first_ts) / 1000) < 2400 THEN 1800 WHEN ((last_ts - first_ts) / 1000) < 3000 THEN 2400 WHEN ((last_ts - first_ts) / 1000) < 3600 THEN 3000 WHEN ((last_ts - first_ts) / 1000) < 4800 THEN 3600 WHEN ((last_ts - first_ts) / 1000) < 6000 THEN 4800 WHEN ((last_ts - first_ts) / 1000) < 7200 THEN 6000 WHEN ((last_ts - first_ts) / 1000) < 10800 THEN 7200 WHEN ((last_ts - first_ts) / 1000) < 14400 THEN 10800 WHEN ((last_ts - first_ts) / 1000) < 21600 THEN 14400 WHEN ((last_ts - first_ts) / 1000) < 28800 THEN 21600 WHEN ((last_ts - first_ts) / 1000) < 43200 THEN 28800 WHEN ((last_ts - first_ts) / 1000) < 86400 THEN 43200 ELSE 86400 END), COUNT(*), SUM(events), SUM(events = 1)
FROM sessions GROUP BY 1, 2, 3;

INSERT INTO daily_new_users (app_id, day, users)
SELECT app_id, (first_seen / 1000 - first_seen / 1000 % 86400), COUNT(*) FROM users GROUP BY 1, 2;

INSERT INTO daily_new_users_any (day, users)
SELECT (first_seen / 1000 - first_seen / 1000 % 86400), COUNT(*) FROM (SELECT MIN(first_seen) AS first_seen FROM users GROUP BY user_id) GROUP BY 1;
