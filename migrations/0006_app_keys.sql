-- Issue 17: App-Keys for the Aptabase protocol, and the daily salts that count users of SDKs that send no
-- user id (a per-app daily hash of salt, client address and User-Agent; neither is stored).
CREATE TABLE IF NOT EXISTS app_keys (
  app_key TEXT PRIMARY KEY,      -- A-SH-##########: public, write-only, for its one app
  app_id TEXT NOT NULL UNIQUE,   -- the release app id; debug events go to its debug twin (worker/debug_apps.py)
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Per app: count /track events that carry no user_id as daily visitors too (1), or not (NULL).
ALTER TABLE app_settings ADD COLUMN daily_users INTEGER;

CREATE TABLE IF NOT EXISTS daily_salts (
  day INTEGER PRIMARY KEY,       -- start of the UTC day, epoch seconds; older days are deleted
  salt TEXT NOT NULL
) WITHOUT ROWID;
