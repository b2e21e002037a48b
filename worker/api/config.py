"""The deployment's secrets and variables, read once per request from the Worker `env`."""
from api.auth import KEY_SCOPES
from limits import ascii_int

# Workers Rate Limiting bindings (wrangler.toml) counting POST /track requests, by what they count.
OFF = ("off", "false", "no", "0")
TRACK_LIMIT_BINDINGS = {"ip": "TRACK_LIMIT_PER_IP", "app": "TRACK_LIMIT_PER_APP"}
# FOLD_EVERY_MINUTES: a fold step writes a row per counter row it touches, however much it adds to it, so folding
# the reference app every 5 minutes wrote 116,179 rows a day and once an hour 37,126 (the Free plan allows 100,000
# in all; measured before the breakdown hours and the user-hours moved into day rows, after which once an hour wrote 22,583). At most a day; intervals start at whole multiples from the epoch (60: each UTC hour).
DEFAULT_FOLD_EVERY_MINUTES = 60
MAX_FOLD_EVERY_MINUTES = 1440


class Settings:
    def __init__(self, keys, retention_days=None, track_limiters=None, retention_keeps_aggregates=True,
                 identify_links=True, step_target_ms=None, fold_every_minutes=DEFAULT_FOLD_EVERY_MINUTES):
        self.keys = keys
        self.retention_days = retention_days
        # Retention deletes raw events and what names a user or session; the anonymous aggregates (events,
        # sessions, user counts per hour, day, name and value) stay unless RETENTION_KEEPS_AGGREGATES=off.
        self.retention_keeps_aggregates = retention_keeps_aggregates
        # {"ip": limiter, "app": limiter}; a missing binding, or TRACK_RATE_LIMITS=off, leaves that one out.
        self.track_limiters = track_limiters or {}
        # POST /identify moves an anonymous id's events to a user (rollups/links.py); IDENTIFY_LINKS=off refuses it.
        self.identify_links = identify_links
        # How long one step of folding, deleting or purging should take (rollups/steps.py); None: its default.
        self.step_target_ms = step_target_ms
        # Events are counted into the statistics once per interval (rollups/fold.py: fold_bound): reads and the
        # cron fold only what was received before the current interval began. 0: every read folds what is new.
        self.fold_every_minutes = fold_every_minutes

    def fold_received_before(self, now_ms):
        """The receipt time before which events are folded now (epoch ms); None: every event."""
        if not self.fold_every_minutes:
            return None
        every_ms = self.fold_every_minutes * 60_000
        return now_ms - now_ms % every_ms


def _text(env, name):
    value = getattr(env, name, None)
    # A secret pasted with a trailing newline (`echo key | wrangler secret put`) must still match.
    value = value.strip() if isinstance(value, str) else None
    return value or None


def track_limiters(env, adapt):
    if (_text(env, "TRACK_RATE_LIMITS") or "").lower() == "off":
        return {}
    bindings = {kind: getattr(env, name, None) for kind, name in TRACK_LIMIT_BINDINGS.items()}
    return {kind: adapt(binding) for kind, binding in bindings.items() if binding is not None}


def from_env(env, adapt_limiter=None):
    """`adapt_limiter(binding)` -> `async (key) -> bool`; without it (e.g. the cron) nothing is limited."""
    retention = _text(env, "RETENTION_DAYS")
    return Settings(
        track_limiters=track_limiters(env, adapt_limiter) if adapt_limiter else {},
        keys={name: _text(env, name) for name in KEY_SCOPES},
        retention_days=ascii_int(retention, 6) or None,
        retention_keeps_aggregates=(_text(env, "RETENTION_KEEPS_AGGREGATES") or "on").lower() not in OFF,
        identify_links=(_text(env, "IDENTIFY_LINKS") or "on").lower() not in OFF,
        step_target_ms=ascii_int(_text(env, "STEP_TARGET_MS"), 6) or None,
        fold_every_minutes=fold_every_minutes(_text(env, "FOLD_EVERY_MINUTES")),
    )


def fold_every_minutes(text):
    """FOLD_EVERY_MINUTES: 0..1440; unset or unreadable: the default (a typo must not make every read fold)."""
    value = ascii_int(text, 4) if text is not None else None
    if value is None or value > MAX_FOLD_EVERY_MINUTES:
        return DEFAULT_FOLD_EVERY_MINUTES
    return value
