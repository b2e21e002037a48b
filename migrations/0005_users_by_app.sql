-- Issue 18: /suggest?field=user_id&app_id= reads an app's user ids by prefix as one range of this index
-- (the primary key starts with user_id, so an app's users were found by reading every user of the app).
CREATE INDEX IF NOT EXISTS users_app_user ON users (app_id, user_id);
