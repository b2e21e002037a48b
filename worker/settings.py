"""The deployment's secrets and variables, read once per request from the Worker `env`."""
from auth import KEY_SCOPES


class Settings:
    def __init__(self, keys, retention_days=None):
        self.keys = keys
        self.retention_days = retention_days


def _text(env, name):
    value = getattr(env, name, None)
    # A secret pasted with a trailing newline (`echo key | wrangler secret put`) must still match.
    value = value.strip() if isinstance(value, str) else None
    return value or None


def from_env(env):
    retention = _text(env, "RETENTION_DAYS")
    return Settings(
        keys={name: _text(env, name) for name in KEY_SCOPES},
        retention_days=int(retention) if retention and retention.isascii() and retention.isdigit() and len(retention) <= 6 and int(retention) > 0 else None,
    )
