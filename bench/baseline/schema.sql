-- The baseline's one table: the raw event row, no indexes or rollups.
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  event_id TEXT,
  app_id TEXT NOT NULL,
  event_name TEXT NOT NULL,
  session_id TEXT NOT NULL,
  user_id TEXT,
  ts INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  properties TEXT
);
