"""Synthetic app traffic: sessions of 5-30 events from a few apps and users, spread over recent days.

Generated lazily and seeded, so a million events never sit in memory and every run sends the same data.
"""
import json
import random
import time

NAMES = ["App Opened", "Screen Viewed", "Screen Viewed", "Screen Viewed", "Button Tapped", "Purchase"]
GROUPS = {"App Opened": "lifecycle", "Purchase": "money"}
PLATFORMS = ["ios", "ios", "android", "web"]
VERSIONS = ["1.0.0", "1.1.0", "1.2.0", "2.0.0"]
DAY = 86400


class SyntheticEvents:
    """An endless stream of events like the SDK sends (each with an `event_id`); `take(n)` returns the next n."""

    def __init__(self, expected_total, days=30, apps=3, seed=7, now=None, app_prefix="app-"):
        self.rng = random.Random(seed)
        self.app_prefix = app_prefix
        self.now = time.time() if now is None else now
        self.days = days
        self.apps = apps
        # About 60 events per user over the whole run, as the previous bench did.
        self.users = max(expected_total // 60, 1)
        self.pending = []

    def session(self):
        rng = self.rng
        app_id = f"{self.app_prefix}{rng.randrange(self.apps)}"
        session_id = f"{rng.getrandbits(128):032x}"
        user_id = f"user-{rng.randrange(self.users)}"
        platform, version = rng.choice(PLATFORMS), rng.choice(VERSIONS)
        at = self.now - rng.random() * self.days * DAY
        events = []
        for _ in range(rng.randint(5, 30)):
            name = rng.choice(NAMES)
            properties = {"screen": f"s{rng.randrange(20)}"}
            if name in GROUPS:
                properties["group"] = GROUPS[name]
            events.append({
                "event": name, "app_id": app_id, "session_id": session_id, "user_id": user_id,
                "event_id": f"{rng.getrandbits(128):032x}", "timestamp": round(min(at, self.now), 3),
                "platform": platform, "app_version": version, "properties": properties,
            })
            at += rng.expovariate(1 / 40)
        return events

    def put_back(self, events):
        """Return events taken but not stored (e.g. a batch the worker refused): `take` hands them out first."""
        self.pending[:0] = events

    def take(self, count):
        while len(self.pending) < count:
            self.pending.extend(self.session())
        taken, self.pending = self.pending[:count], self.pending[count:]
        return taken


def batch_bodies(events, total, batch_size):
    """JSON bodies of `{"events": [...]}` holding `total` events from `events`, encoded only when pulled."""
    for start in range(0, total, batch_size):
        yield json.dumps({"events": events.take(min(batch_size, total - start))}).encode()


def single_bodies(events, total):
    for _ in range(total):
        yield json.dumps(events.take(1)[0]).encode()
