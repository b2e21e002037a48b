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
