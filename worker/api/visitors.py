"""Users of SDKs that send no user id, counted as Plausible counts visitors. Pure.

The user id is a hash of (a secret salt of the UTC day, the app, the client address, the User-Agent): the
same device is one user within the app and the day, and a new one the next day, when the salt has changed and
yesterday's is deleted, so nobody (the operator included) can link days or recompute an address from a hash.
The address and the User-Agent go into the hash only, never into the database.
"""
import hashlib
import secrets

PREFIX = "daily:"  # marks these ids wherever they show: daily visitors, not people across days
DAY_S = 24 * 3600


def day_of(now_ms):
    seconds = now_ms // 1000
    return seconds - seconds % DAY_S


def new_salt():
    return secrets.token_hex(16)


def daily_user_id(salt, app_id, client_ip, user_agent):
    digest = hashlib.blake2b("\x00".join((app_id, client_ip or "", user_agent or "")).encode("utf-8", "replace"),
                             key=bytes.fromhex(salt), digest_size=8)
    return PREFIX + digest.hexdigest()


# Today's salt per isolate: one D1 statement a day per isolate instead of one per request.
_salt = {}


async def daily_salt(db, now_ms):
    """Today's salt; the first lookup of a day in an isolate also deletes the older ones."""
    day = day_of(now_ms)
    if day not in _salt:
        row = await db.first(SALT_SQL, day, new_salt())
        await db.run(DELETE_OLD_SQL, day)
        _salt.clear()
        _salt[day] = row["salt"]
    return _salt[day]


async def user_of(db, now_ms, app_id, request):
    """The device's daily user id in this app (request: its client address and User-Agent, not kept)."""
    return daily_user_id(await daily_salt(db, now_ms), app_id, request.client_ip, request.headers.get("user-agent"))


# SQL: today's salt (created by whichever request comes first, the same for every later one) and the
# deletion of every older salt. The no-op update makes RETURNING give the row that was already there.
SALT_SQL = ("INSERT INTO daily_salts (day, salt) VALUES (?, ?) "
            "ON CONFLICT (day) DO UPDATE SET salt = daily_salts.salt RETURNING salt")
DELETE_OLD_SQL = "DELETE FROM daily_salts WHERE day < ?"
