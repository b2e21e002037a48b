-- Issue 16: a session's least user is already in sessions.user_id; session_users keeps only its other users, so a
-- session with one user (most of them) costs no session_users row written when it is folded nor deleted when it is
-- purged. The rows that repeat sessions.user_id go.
DELETE FROM session_users WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.app_id = session_users.app_id
  AND s.session_id = session_users.session_id AND s.user_id = session_users.user_id);
