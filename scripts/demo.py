"""`make demo`: two months of realistic, seeded demo events sent through the real POST /track API.

Three apps with their own audiences and rhythms (a habit tracker used mornings and evenings, a recipe
app busiest at dinner time and weekends, a focus timer used in office hours on weekdays). Countries
are not faked: the worker takes them from the request (a placeholder when run locally).

Event ids make a run idempotent within a UTC day: running it twice the same day stores nothing new.
"""
import argparse
import os
import random
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import requests

ROOT = Path(__file__).resolve().parent.parent
BATCH = 1000  # the worker's per-request limit (worker/api/validation.py MAX_BATCH)
FOLD_CHUNKS = 10  # the most POST /admin/fold takes per call
FOLD_CALLS = 200  # bounded: a worker that never says "complete" does not keep us here
DEFAULT_URL = "http://127.0.0.1:8787"
# Twice the default 30-day view, so the first screen already has a previous period to compare with.
DAYS = 60

# Relative activity by UTC hour, 0..23.
MORNING_EVENING = [1, 1, 1, 1, 2, 5, 9, 12, 10, 6, 5, 5, 6, 5, 5, 6, 7, 9, 11, 12, 11, 8, 5, 2]
DINNER = [1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 4, 6, 8, 6, 4, 4, 6, 10, 14, 15, 11, 7, 4, 2]
OFFICE = [0, 0, 0, 0, 0, 1, 2, 6, 11, 13, 13, 11, 7, 10, 12, 12, 10, 7, 4, 2, 2, 1, 1, 0]

APPS = [
    {
        "app_id": "habit-tracker", "users": 150, "hours": MORNING_EVENING, "weekend": 1.0,
        "platforms": {"ios": 6, "android": 4}, "versions": [(0, "2.2.0"), (22, "2.3.0"), (41, "2.4.0"), (53, "2.4.1")],
        "screens": ["Today", "Habits", "Stats", "Settings", "Habit Detail"],
        "actions": [("Habit Completed", 5), ("Habit Created", 1), ("Reminder Set", 1)],
        "purchase": ("Premium Yearly", 29.99, 0.012),
    },
    {
        "app_id": "recipe-box", "users": 130, "hours": DINNER, "weekend": 1.6,
        "platforms": {"ios": 4, "android": 4, "web": 2}, "versions": [(0, "5.1.2"), (46, "5.2.0")],
        "screens": ["Home", "Search", "Recipe", "Shopping List", "Favourites"],
        "actions": [("Recipe Viewed", 6), ("Recipe Saved", 2), ("Ingredient Checked", 3)],
        "purchase": ("Meal Plan Monthly", 4.99, 0.02),
    },
    {
        "app_id": "focus-timer", "users": 90, "hours": OFFICE, "weekend": 0.35,
        "platforms": {"macos": 5, "windows": 3, "web": 2}, "versions": [(0, "1.8.0"), (30, "1.8.1"), (50, "1.9.0")],
        "screens": ["Timer", "History", "Projects", "Preferences"],
        "actions": [("Focus Session Started", 4), ("Focus Session Completed", 3), ("Break Taken", 2)],
        "purchase": ("Pro Lifetime", 14.99, 0.008),
    },
]
# properties.group, as the original Oddlytics' `metadata.group` (Swift SDK `group:`); App Opened has none.
GROUPS = {"Sign Up": "onboarding", "Paywall Viewed": "monetisation", "Plan Selected": "monetisation",
          "Purchase": "monetisation", "Screen Viewed": "navigation", "Habit Completed": "core",
          "Habit Created": "core", "Recipe Viewed": "core", "Recipe Saved": "core", "Focus Session Started": "core",
          "Focus Session Completed": "core"}
DISPLAY_NAMES = {"habit-tracker": "Habit Tracker", "recipe-box": "Recipe Box", "focus-timer": "Focus Timer"}
ALIASES = {("habit-tracker", "Habit Completed"): "Habit checked off"}
HABITS = ["Drink water", "Read 20 pages", "Meditate", "Walk 8k steps", "No sugar", "Journal"]
CUISINES = ["italian", "thai", "mexican", "indian", "japanese", "vegan"]
PROJECTS = ["Thesis", "Client work", "Side project", "Admin"]


def weighted(rng, weights):
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def version_on(app, day):
    return [v for start, v in app["versions"] if start <= day][-1]


def action_properties(rng, app, name):
    if app["app_id"] == "habit-tracker":
        return {"habit": rng.choice(HABITS), "streak": rng.randint(1, 40)}
    if app["app_id"] == "recipe-box":
        return {"cuisine": rng.choice(CUISINES), "minutes": rng.choice([15, 20, 30, 45, 60])}
    if name.startswith("Focus"):
        return {"project": rng.choice(PROJECTS), "minutes": rng.choice([25, 25, 25, 50, 90])}
    return {"minutes": rng.choice([5, 10, 15])}


def session_events(rng, app, user, session_id, start, day, first_session):
    """One session: opened, a few screens and actions, maybe a sign-up or a purchase."""
    base = {"app_id": app["app_id"], "session_id": session_id, "user_id": user["id"],
            "platform": user["platform"], "app_version": version_on(app, day)}
    at = start
    out = [{**base, "event": "App Opened", "timestamp": at, "properties": {"cold_start": rng.random() < 0.4}}]
    if first_session:
        at += timedelta(seconds=rng.randint(20, 90))
        out.append({**base, "event": "Sign Up", "timestamp": at,
                    "properties": {"method": rng.choice(["apple", "google", "email"])}})
    actions = dict(app["actions"])
    for _ in range(rng.randint(0, 7)):  # 0: a bounce, the app opened and left
        at += timedelta(seconds=rng.randint(5, 150))
        if rng.random() < 0.5:
            out.append({**base, "event": "Screen Viewed", "timestamp": at,
                        "properties": {"screen": rng.choice(app["screens"])}})
        else:
            name = weighted(rng, actions)
            out.append({**base, "event": name, "timestamp": at, "properties": action_properties(rng, app, name)})
    out += paywall_flow(rng, app, base, at, first_session)
    return [{**e, "properties": {**e["properties"], "group": GROUPS[e["event"]]}} if e["event"] in GROUPS else e
            for e in out]


def paywall_flow(rng, app, base, at, first_session):
    """A funnel with drop-off at each step: paywall seen, a plan picked, bought (some only in a later session:
    the paywall is seen again then)."""
    product, price, chance = app["purchase"]
    out = []
    for name, keeps in (("Paywall Viewed", chance * (3 if first_session else 1) * 12), ("Plan Selected", 0.45),
                        ("Purchase", 0.7)):
        if rng.random() >= keeps:
            break
        at += timedelta(seconds=rng.randint(10, 90))
        properties = {"product": product}
        if name == "Purchase":
            properties.update(price=price, currency=rng.choice(["USD", "EUR", "GBP"]))
        out.append({**base, "event": name, "timestamp": at, "properties": properties})
    return out


def generate(seed=7, days=DAYS, now=None):
    """Every demo event up to `now`, oldest first. Same seed and UTC day -> same events."""
    now = now or datetime.now(timezone.utc)
    first_day = datetime(now.year, now.month, now.day, tzinfo=timezone.utc) - timedelta(days=days - 1)
    rng = random.Random(seed)
    events = []
    for app in APPS:
        # A third of the users were there before the first day; the rest sign up over the period
        # (growth). Some are daily users, most are not, and everybody drifts away a little.
        existing = app["users"] // 3
        users = [{"id": f"{app['app_id'][:5]}-user-{n:03d}", "platform": weighted(rng, app["platforms"]),
                  "joined": None if n < existing else int(days * rng.random() ** 0.8),
                  "habit": rng.choice([0.08, 0.15, 0.25, 0.4, 0.7])}
                 for n in range(app["users"])]
        for user in users:
            sessions = 0
            joined = user["joined"] or 0
            for day in range(joined, days):
                date = first_day + timedelta(days=day)
                weekend = app["weekend"] if date.weekday() >= 5 else 1.0
                fading = 0.97 ** (day - joined) if user["joined"] is not None else 0.99 ** day
                for attempt in range(2):
                    signs_up = user["joined"] == day and attempt == 0
                    if not signs_up and rng.random() >= user["habit"] * weekend * fading:
                        continue
                    hour = rng.choices(range(24), weights=app["hours"])[0]
                    start = date + timedelta(hours=hour, seconds=rng.randint(0, 3599))
                    session_id = f"{user['id']}-s{sessions:03d}"
                    events += session_events(rng, app, user, session_id, start, day, signs_up)
                    sessions += 1
    events = [e for e in events if e["timestamp"] <= now]
    events.sort(key=lambda e: e["timestamp"])
    stamp = first_day.strftime("%Y%m%d")
    for number, event in enumerate(events):
        event["event_id"] = f"demo-{seed}-{stamp}-{number}"
        event["timestamp"] = event["timestamp"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return events


def keyed_session(key):
    session = requests.Session()
    session.headers.update({"X-API-KEY": key})
    return session


def send(session, url, events):
    """POST the events in batches of BATCH. Returns (stored, duplicates)."""
    stored = duplicates = 0
    for offset in range(0, len(events), BATCH):
        response = session.post(f"{url}/track", json={"events": events[offset:offset + BATCH]}, timeout=60)
        if response.status_code != 200:
            raise SystemExit(f"demo: the worker refused a batch ({response.status_code}): {response.text[:300]}")
        body = response.json()
        stored += body["count"]
        duplicates += body["duplicates"]
    return stored, duplicates


def fold_all(session, url):
    """The worker adds stored events to its statistics in steps (a little on every read, and by cron in
    production); doing it all now makes the first screen show the whole demo. Needs the AUTH_KEY
    (POST /admin/fold); with another key, or a worker without the route, the reads catch up on their own.
    Returns whether everything is folded."""
    for _ in range(FOLD_CALLS):
        response = session.post(f"{url}/admin/fold", params={"chunks": FOLD_CHUNKS}, timeout=120)
        if response.status_code != 200:
            return False
        if response.json().get("complete"):
            return True
    return False


def name_apps(session, url):
    """Display names and an alias (AUTH_KEY; a worker without /settings, or another key, keeps the ids)."""
    for app_id, name in DISPLAY_NAMES.items():
        session.put(f"{url}/settings/apps/{app_id}", json={"display_name": name, "icon_url": None}, timeout=30)
    for (app_id, event), alias in ALIASES.items():
        session.put(f"{url}/settings/aliases/{app_id}/{quote(event, safe='')}", json={"alias": alias}, timeout=30)


def load_demo(url, key, seed=7, days=DAYS, quiet=False):
    started = time.monotonic()
    events = generate(seed, days)
    session, url = keyed_session(key), url.rstrip("/")
    stored, duplicates = send(session, url, events)
    folded = fold_all(session, url)
    name_apps(session, url)
    if not quiet:
        users = len({e["user_id"] for e in events})
        sessions = len({(e["app_id"], e["session_id"]) for e in events})
        note = "" if folded else "; the statistics catch up over the next reads"
        print(f"Demo data: {len(events)} events ({stored} new, {duplicates} already there), {len(APPS)} apps, "
              f"{users} users, {sessions} sessions, sent in {time.monotonic() - started:.1f} s{note}", flush=True)
    return stored


MAX_ERASE_CALLS = 200  # an erasure answers "complete": false when a request's D1 budget ran out: ask again


def remove_demo(url, key, quiet=False):
    """`make demo-remove`: delete the demo apps' events (DELETE /admin/apps, AUTH_KEY), then their display
    names and alias, so only your own apps stay. Apps of yours are never touched: only the demo's ids.
    Returns the events deleted."""
    session, url = keyed_session(key), url.rstrip("/")
    removed = 0
    for app in APPS:
        for _ in range(MAX_ERASE_CALLS):
            response = session.delete(f"{url}/admin/apps", params={"app_id": app["app_id"]}, timeout=120)
            if response.status_code != 200:
                raise SystemExit(f"demo: the worker refused to delete {app['app_id']} ({response.status_code}): "
                                 f"{response.text[:300]} (deleting needs the AUTH_KEY)")
            body = response.json()
            removed += body["deleted"]["events"]
            if body.get("complete", True):
                break
        session.delete(f"{url}/settings/apps", params={"app_id": app["app_id"]}, timeout=30)
    for app_id, event in ALIASES:
        session.delete(f"{url}/settings/aliases", params={"app_id": app_id, "event_name": event}, timeout=30)
    if not quiet:
        print(f"Demo data removed: {removed} events of {', '.join(a['app_id'] for a in APPS)}, with their "
              "display names and aliases.", flush=True)
    return removed


def dev_vars_key(path=ROOT / ".dev.vars"):
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "AUTH_KEY":
            return value.strip().strip('"')
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("ODDLYTICS_API_URL") or DEFAULT_URL)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=DAYS, choices=range(1, DAYS + 1), metavar=f"1..{DAYS}")
    parser.add_argument("--remove", action="store_true", help="delete the demo apps' events and settings instead")
    args = parser.parse_args()
    key = os.environ.get("ODDLYTICS_API_KEY") or dev_vars_key()
    if not key:
        raise SystemExit("demo: no key; set ODDLYTICS_API_KEY or create .dev.vars (make run does)")
    try:
        if args.remove:
            remove_demo(args.url, key)
        else:
            load_demo(args.url, key, args.seed, args.days)
    except requests.ConnectionError:
        raise SystemExit(f"demo: cannot reach the worker at {args.url}; start it with `make worker`")


if __name__ == "__main__":
    main()
