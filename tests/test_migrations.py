"""Upgrades in place: migrations end in schema.sql; a version-1 database and an original Oddlytics
(TypeScript) database keep their events, and after folding every figure equals what those events say."""
import json
import re
import uuid

import pytest
import requests

from conftest import KEYS, Api
from consistency import all_events, assert_rollups_match_events, assert_sessions_and_active_match_events
from scripts.devserver import ROOT, Worker, wrangler
from scripts.migrate import migrate, query

WINDOW = {"from": "2024-03-18", "to": "2024-03-22"}


def local(state):
    return ["--local", "--persist-to", str(state)]


def execute(state, sql):
    wrangler("d1", "execute", "oddlytics-db", *local(state), "--command", sql)


def schema(state):
    rows = query(local(state), "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
                               "AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations' ORDER BY type, name")
    return {(r["type"], r["name"]): " ".join(re.sub(r"--[^\n]*", "", r["sql"] or "").split()) for r in rows}


@pytest.fixture
def upgraded_worker():
    servers = []

    def start(state):
        server = Worker(state, variables=KEYS)  # start() migrates the database again: a no-op by now
        servers.append(server.start())
        return Api(server.url)

    yield start
    for server in servers:
        server.stop()


def test_migrations_end_in_exactly_schema_sql(tmp_path):
    migrate(local(tmp_path / "migrated"))
    wrangler("d1", "execute", "oddlytics-db", *local(tmp_path / "fresh"), "--file", ROOT / "schema.sql")
    assert schema(tmp_path / "migrated") == schema(tmp_path / "fresh")
    assert query(local(tmp_path / "migrated"), "SELECT value FROM meta WHERE key = 'schema_version'") == [{"value": "3"}]


def test_a_version_1_database_upgrades_with_its_data(tmp_path, upgraded_worker):
    state = tmp_path / "v1"
    wrangler("d1", "execute", "oddlytics-db", *local(state), "--file", ROOT / "migrations" / "0001_initial.sql")
    app = f"v1-{uuid.uuid4().hex[:8]}"
    rows = [("e1", "Opened", "s1", "u1", "2024-03-20T09:59:00Z"), (None, "Viewed", "s1", "u1", "2024-03-20T10:01:00Z"),
            ("e3", "Opened", "s2", None, "2024-03-19T23:30:00Z"), (None, "Viewed", "s2", "u2", "2024-03-20T00:30:00Z")]
    values = ", ".join(
        f"({'NULL' if eid is None else repr(eid)}, '{app}', '{name}', '{session}', {'NULL' if user is None else repr(user)}, "
        f"CAST(round((julianday('{ts[:-1]}') - 2440587.5) * 86400000) AS INTEGER), 0, 'iOS', NULL, NULL, '{{\"k\": 1}}')"
        for eid, name, session, user, ts in rows)
    execute(state, "INSERT INTO events (event_id, app_id, event_name, session_id, user_id, ts, received_at, platform, "
                   f"app_version, country, properties) VALUES {values}; "
                   f"INSERT INTO apps VALUES ('{app}', 0, 0, 4); INSERT INTO hourly_events VALUES (0, '{app}', 'x', 4)")
    assert migrate(local(state))[-1] == "migrations applied"
    api = upgraded_worker(state)
    api.fold_all()
    events = assert_rollups_match_events(api, app, WINDOW)
    assert_sessions_and_active_match_events(api, app, WINDOW)
    assert len(events) == 4 and all(e["properties"] == {"k": 1} for e in events)
    assert api.read("/stats/overview", app_id=app, **WINDOW)["users"] == 2
    # Retries of events stored before the upgrade (same app, session, time and event_id) are still recognised.
    retry = api.track({"event_id": "e1", "event": "Opened", "app_id": app, "session_id": "s1",
                       "timestamp": "2024-03-20T09:59:00Z"})
    assert retry.json() == {"success": True, "count": 0, "duplicates": 1}


ORIGINAL_SCHEMA = """
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, event_name TEXT NOT NULL, app_id TEXT NOT NULL,
  timestamp DATETIME DEFAULT CURRENT_TIMESTAMP, platform TEXT DEFAULT 'iOS', metadata TEXT, session_id TEXT, user_id TEXT);
CREATE INDEX idx_timestamp ON events(timestamp); CREATE INDEX idx_app_id ON events(app_id);
CREATE INDEX idx_event_name ON events(event_name); CREATE INDEX idx_session_id ON events(session_id);
CREATE VIEW event_counts_by_app AS SELECT app_id, COUNT(*) AS total_events FROM events GROUP BY app_id;
CREATE VIEW top_events AS SELECT event_name, COUNT(*) AS count FROM events GROUP BY event_name ORDER BY count DESC LIMIT 100;
CREATE TABLE event_aliases (app_id TEXT NOT NULL, event_name TEXT NOT NULL, alias TEXT NOT NULL, PRIMARY KEY (app_id, event_name));
CREATE TABLE app_settings (app_id TEXT PRIMARY KEY, icon_url TEXT, display_name TEXT);
"""


def test_an_original_oddlytics_database_is_converted_in_place(tmp_path, upgraded_worker):
    state = tmp_path / "original"
    execute(state, ORIGINAL_SCHEMA)
    app = f"ts-{uuid.uuid4().hex[:8]}"
    execute(state, f"""INSERT INTO events (event_name, app_id, timestamp, platform, metadata, session_id, user_id) VALUES
      ('App Opened', '{app}', '2024-03-20 10:00:00', 'iOS', '{{"group": "Onboarding", "step": 1}}', 'S1', 'U1'),
      ('Break Taken', '{app}', '2024-03-20T10:30:00Z', 'iOS', '{{}}', 'S1', 'U1'),
      ('App Opened', '{app}', '2024-03-21 23:59:59', 'macOS', 'not json', 'S2', NULL);
      INSERT INTO event_aliases VALUES ('{app}', 'Break Taken', 'Took a break');
      INSERT INTO app_settings VALUES ('{app}', 'https://example.com/icon.png', 'Focus Timer')""")
    assert migrate(local(state))[0].startswith("set the original Oddlytics events aside")
    api = upgraded_worker(state)
    api.fold_all()
    events = sorted(assert_rollups_match_events(api, app, WINDOW), key=lambda e: e["timestamp"])
    assert [(e["event"], e["timestamp"], e["session_id"], e["user_id"], e["platform"], e["properties"]) for e in events] == [
        ("App Opened", "2024-03-20T10:00:00.000Z", "S1", "U1", "iOS", {"group": "Onboarding", "step": 1}),
        ("Break Taken", "2024-03-20T10:30:00.000Z", "S1", "U1", "iOS", {}),
        ("App Opened", "2024-03-21T23:59:59.000Z", "S2", None, "macOS", {"metadata": "not json"}),
    ]
    (listed,) = api.read("/apps", app_id=app, **WINDOW)["apps"]
    assert (listed["display_name"], listed["icon_url"]) == ("Focus Timer", "https://example.com/icon.png")
    assert api.read("/settings/aliases", app_id=app)["aliases"] == [
        {"app_id": app, "event_name": "Break Taken", "alias": "Took a break"}]
    assert api.read("/settings/apps")["apps"] == [
        {"app_id": app, "display_name": "Focus Timer", "icon_url": "https://example.com/icon.png",
         "daily_users": False, "app_key": None}]
    # The original tables take changes through the new routes (their primary keys are what the upserts need).
    renamed = api.request("PUT", f"/settings/apps/{app}", json={"display_name": "Focus"}).json()["app"]
    assert renamed == {"app_id": app, "display_name": "Focus", "icon_url": "https://example.com/icon.png",
                       "daily_users": False}
    assert all_events(api, app) == list(reversed(events))
    assert requests.get(api.url + "/health", timeout=10).json()["schema_version"] == 3


def database_before(tmp_path, number):
    """A local database with the migrations before `number` applied (their own copy of the config), and a function
    that adds one migration by name and applies it (`again`: then once more): for migrations that convert data in
    place."""
    import shutil

    config_dir = tmp_path / "config"
    (config_dir / "migrations").mkdir(parents=True)
    shutil.copy(ROOT / "wrangler.toml", config_dir / "wrangler.toml")
    for path in sorted((ROOT / "migrations").glob("*.sql")):
        if path.name < number:
            shutil.copy(path, config_dir / "migrations" / path.name)
    target = local(tmp_path / "db") + ["--config", str(config_dir / "wrangler.toml")]
    migrate(target)

    def add_migration(name, again=False):
        shutil.copy(ROOT / "migrations" / name, config_dir / "migrations")
        migrate(target)
        if again:  # a migration that converts data must leave converted data as it is
            wrangler("d1", "execute", "oddlytics-db", *target, "--file", ROOT / "migrations" / name)

    return target, add_migration


def test_migration_0004_fills_session_lengths_and_new_users_from_data_in_place(tmp_path, upgraded_worker):
    """A database folded before 0004 existed: 0004 fills its rollups from `sessions` and `users`, no refold."""
    from rollups.activity import TABLES

    state = tmp_path / "before-0004"
    api = upgraded_worker(state)
    app = f"m4-{uuid.uuid4().hex[:8]}"
    sent = [("s1", "u1", "2024-03-19T23:30:00Z"), ("s1", "u1", "2024-03-20T00:10:00Z"), ("s2", "u2", "2024-03-20T10:00:00Z"),
            ("s3", "u1", "2024-03-21T08:00:00Z"), ("s3", None, "2024-03-21T08:00:04Z"), ("s4", "u3", "2024-03-22T12:00:00Z")]
    events = [{"event": "Opened", "app_id": app, "session_id": s, "timestamp": at, **({"user_id": u} if u else {})}
              for s, u, at in sent]
    assert api.track({"events": events}).json()["count"] == len(sent)
    api.fold_all()
    before = [api.read(path, app_id=app, **WINDOW) for path in ("/stats/sessions", "/stats/active")]
    execute(state, "; ".join([f"DROP TABLE {table}" for table in TABLES] +
                             ["DELETE FROM d1_migrations WHERE name = '0004_sessions_active.sql'"]))
    assert migrate(local(state))[-1] == "migrations applied"
    assert [api.read(path, app_id=app, **WINDOW) for path in ("/stats/sessions", "/stats/active")] == before
    assert before[0]["sessions"] == 4 and [b["new"] for b in before[1]["buckets"]] == [0, 1, 1, 0, 1]
    assert_sessions_and_active_match_events(api, app, WINDOW)


def test_breakdown_user_sets_move_to_a_row_per_user_and_day_with_their_counts(tmp_path):
    """Migration 0011 turns the per-value rows of daily_dim_users into one row per user and day, without rebuilding
    any rollup (raw events that retention purged could not give them back); applied twice it changes nothing."""
    target, add_migration = database_before(tmp_path, "0011")
    wrangler("d1", "execute", "oddlytics-db", *target, "--command",
             "INSERT INTO daily_dim_users VALUES ('a', '', 'platform', 0, 'iOS', 86400, 5, 'u1', 3), "
             "('a', '', 'event', 0, 'Open \"x\".y', 86400, 5, 'u1', 2), ('a', '', 'group', 1, '', 86400, 5, 'u1', 1), "
             "('a', '', 'platform', 0, 'iOS', 172800, 5, 'u1', 4), ('a', '', 'platform', 2, '', 86400, 9, 'u2', 1), "
             "('b', '', 'country', 0, 'DE', 86400, 5, 'u1', 1)")
    add_migration("0011_breakdown_users_per_day.sql", again=True)
    rows = query(target, "SELECT app_id, day, sample, user_id, dims FROM daily_user_dims ORDER BY 1, 2, 4")
    hex_of = lambda text: text.encode().hex().upper()  # noqa: E731
    assert [(r["app_id"], r["day"], r["sample"], r["user_id"], json.loads(r["dims"])) for r in rows] == [
        ("a", 86400, 5, "u1", {"platform:0:" + hex_of("iOS"): 3, "event:0:" + hex_of('Open "x".y'): 2, "group:1:": 1}),
        ("a", 86400, 9, "u2", {"platform:2:": 1}),
        ("a", 172800, 5, "u1", {"platform:0:" + hex_of("iOS"): 4}),
        ("b", 86400, 5, "u1", {"country:0:" + hex_of("DE"): 1}),
    ]
    assert query(target, "SELECT name FROM sqlite_master WHERE name = 'daily_dim_users'") == []


def test_session_users_keep_only_users_other_than_the_sessions_least(tmp_path):
    """Migration 0014: a session's least user is sessions.user_id, so its session_users row goes; the others stay
    (rollups/sessions.py reads a session's users from both). Applied twice it changes nothing."""
    target, add_migration = database_before(tmp_path, "0014")
    session = "(app_id, session_id, first_ts, last_ts, events, user_id, first_event, last_event)"
    wrangler("d1", "execute", "oddlytics-db", *target, "--command",
             f"INSERT INTO sessions {session} VALUES ('a', 's1', 0, 1, 2, 'u1', 'x', 'x'), "
             "('a', 's2', 0, 1, 3, 'u1', 'x', 'x'), ('a', 's3', 0, 1, 1, NULL, 'x', 'x'), ('b', 's1', 0, 1, 1, 'u2', 'x', 'x'); "
             "INSERT INTO session_users VALUES ('a', 's1', 'u1'), ('a', 's2', 'u1'), ('a', 's2', 'u3'), ('a', 's2', 'u2'), "
             "('b', 's1', 'u2')")
    add_migration("0014_sparse_session_users.sql", again=True)
    rows = query(target, "SELECT app_id, session_id, user_id FROM session_users ORDER BY 1, 2, 3")
    assert [(r["app_id"], r["session_id"], r["user_id"]) for r in rows] == [("a", "s2", "u2"), ("a", "s2", "u3")]


def test_breakdown_hours_move_inside_the_day_rows(tmp_path):
    """Migration 0015: hourly_dims rows become the `hours` of their day's daily_dims row ({hour of the day: [events,
    sessions]}, hours at zero left out), a key with hour rows and no day row gets one, and the table goes."""
    target, add_migration = database_before(tmp_path, "0015")
    day = 86400 * 20000
    wrangler("d1", "execute", "oddlytics-db", *target, "--command",
             f"INSERT INTO daily_dims VALUES ('a', '', 'platform', 0, 'iOS', {day}, 5, 2, 1); "
             f"INSERT INTO hourly_dims VALUES ('a', '', 'platform', 0, 'iOS', {day}, 3, 1), "
             f"('a', '', 'platform', 0, 'iOS', {day + 13 * 3600}, 2, 1), ('a', '', 'platform', 0, 'iOS', {day + 14 * 3600}, 0, 0), "
             f"('a', 'open', 'property:screen', 0, 'home', {day + 86400 + 3600}, 4, 0)")
    add_migration("0015_hours_inside_daily_dims.sql")
    rows = query(target, "SELECT event_name, dim, value, day, events, sessions, users, hours FROM daily_dims ORDER BY 1, 4")
    assert [(r["event_name"], r["dim"], r["value"], r["day"], r["events"], r["sessions"], r["users"], json.loads(r["hours"]))
            for r in rows] == [
        ("", "platform", "iOS", day, 5, 2, 1, {"0": [3, 1], "13": [2, 1]}),
        ("open", "property:screen", "home", day + 86400, 4, 0, 0, {"1": [4, 0]}),
    ]
    assert query(target, "SELECT name FROM sqlite_master WHERE name = 'hourly_dims'") == []


def test_user_hours_move_inside_the_day_rows(tmp_path):
    """Migration 0016: hourly_users rows become the `hours` of their user's daily_users row ({hour of the day:
    events}) with the user's register `uh`, a user with hour rows and no day row gets one, and `hourly_users` becomes
    a view of those hours: the same user-hours as before, as rows."""
    target, add_migration = database_before(tmp_path, "0016")
    day = 86400 * 20000
    wrangler("d1", "execute", "oddlytics-db", *target, "--command",
             f"INSERT INTO daily_users VALUES ('a', {day}, 'u1', 5), ('a', {day}, 'u2', 1); "
             f"INSERT INTO hourly_users VALUES ('a', {day}, 'u1', 77, 3), ('a', {day + 13 * 3600}, 'u1', 77, 2), "
             f"('a', {day + 23 * 3600}, 'u2', 12, 1), ('b', {day + 86400 + 3600}, 'u\"x', 5, 4)")
    before = query(target, "SELECT app_id, hour, user_id, uh, events FROM hourly_users ORDER BY 1, 2, 3")
    add_migration("0016_user_hours_inside_daily_users.sql")
    rows = query(target, "SELECT app_id, day, user_id, events, uh, hours FROM daily_users ORDER BY 1, 2, 3")
    assert [(r["app_id"], r["day"], r["user_id"], r["events"], r["uh"], json.loads(r["hours"])) for r in rows] == [
        ("a", day, "u1", 5, 77, {"0": 3, "13": 2}),
        ("a", day, "u2", 1, 12, {"23": 1}),
        ("b", day + 86400, 'u"x', 4, 5, {"1": 4}),
    ]
    assert query(target, "SELECT type FROM sqlite_master WHERE name = 'hourly_users'") == [{"type": "view"}]
    assert query(target, "SELECT app_id, hour, user_id, uh, events FROM hourly_users ORDER BY 1, 2, 3") == before


def test_sessions_are_cut_into_spans(tmp_path):
    """Migration 0017: the events' unique session index gives way to spans (rollups/spans.py). Existing events are cut
    into runs of consecutive ids of one app and session whose time does not decrease; each run's last event is its
    head (span_first: the run's first id), marked if it has a user; session_events then gives every session's events.
    (A retry after the upgrade is refused: test_a_version_1_database_upgrades_with_its_data.)"""
    target, add_migration = database_before(tmp_path, "0017")
    rows = [  # id, session, user, ts
        (1, "s1", "u1", 100), (2, "s1", None, 200), (3, "s1", "u1", 150),  # time goes back: a run ends at 2
        (4, "s2", None, 100), (5, "s1", "u1", 300), (6, "s1", "u2", 300), (8, "s2", "u3", 50), (9, "s2", None, 60)]
    wrangler("d1", "execute", "oddlytics-db", *target, "--command", "INSERT INTO events (id, event_id, app_id, event_name, "
             "session_id, user_id, ts, received_at, user_mark) VALUES " + ", ".join(
                 f"({i}, 'e{i}', 'a', 'Opened', '{s}', {'NULL' if u is None else repr(u)}, {ts}, {ts}, NULL)"
                 for i, s, u, ts in rows))
    add_migration("0017_session_spans.sql")
    stored = query(target, "SELECT id, IFNULL(span_first, 0) AS first, IFNULL(user_mark, 0) AS mark FROM events ORDER BY id")
    assert [(r["id"], r["first"], r["mark"]) for r in stored] == [
        (1, 0, 0), (2, 1, 0), (3, 3, 1), (4, 4, 0), (5, 0, 0), (6, 5, 1), (8, 0, 0), (9, 8, 0)]
    for session in ("s1", "s2"):
        through_spans = query(target, f"SELECT id FROM session_events WHERE app_id = 'a' AND session_id = '{session}' "
                                      "ORDER BY id")
        assert [r["id"] for r in through_spans] == [i for i, s, _, _ in rows if s == session]
    indexes = {r["name"] for r in query(target, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "events_session_spans" in indexes and "events_app_session" not in indexes


def test_user_keys_become_plain_text_where_the_value_allows(tmp_path):
    """Migration 0018 rewrites daily_user_dims' keys from `dim:kind:HEX(value)` to what the fold now writes
    (rollups/dims.py: user_key_of): the value as text where it is letters, digits and ' ._-', hex otherwise. The
    migration and the helper agree on hostile values, and D1 finds every migrated key through key_path. Applied twice
    it changes nothing."""
    from rollups.dims import key_path, user_key_of

    target, add_migration = database_before(tmp_path, "0018")
    triples = [("platform", 0, "iOS"), ("event", 0, "App Opened"), ("app_version", 0, "1.2.0-beta_3"),
               ("group", 1, ""), ("platform", 2, ""), ("event", 0, 'Open "x".y'), ("event", 0, "Größe"),
               ("event", 0, "a=b#c"), ("event", 0, "back\\slash"), ("group", 0, "$.x[0]"), ("country", 0, "'; --")]
    old = {f"{dim}:{kind}:{value.encode().hex().upper()}": n for n, (dim, kind, value) in enumerate(triples, 1)}
    literal = lambda value: "'" + json.dumps(value, ensure_ascii=False).replace("'", "''") + "'"  # noqa: E731
    wrangler("d1", "execute", "oddlytics-db", *target, "--command",
             f"INSERT INTO daily_user_dims VALUES ('a', 86400, 5, 'u1', {literal(old)}), "
             f"('b', 86400, 9, 'u2', '{{\"platform:0:694F53\": 4}}')")
    add_migration("0018_plain_user_keys.sql", again=True)

    field = lambda i: f"json_extract(t.value, '$[{i}]')"  # noqa: E731
    key = user_key_of(field(0), field(1), field(2))
    expected = query(target, f"SELECT {key} AS k FROM json_each({literal(triples)}) AS t ORDER BY t.key")
    rows = {r["app_id"]: json.loads(r["dims"]) for r in query(target, "SELECT app_id, dims FROM daily_user_dims")}
    assert rows == {"a": {r["k"]: n for n, r in enumerate(expected, 1)}, "b": {"p0=iOS": 4}}
    assert [r["k"] for r in expected[:5]] == ["p0=iOS", "e0=App Opened", "v0=1.2.0-beta_3", "g1=", "p2="]
    assert [r["k"] for r in expected[5:7]] == ["e0#" + 'Open "x".y'.encode().hex().upper(),
                                              "e0#" + "Größe".encode().hex().upper()]
    found = query(target, f"SELECT json_extract(d.dims, {key_path(key)}) AS n FROM daily_user_dims AS d "
                          f"CROSS JOIN json_each({literal(triples)}) AS t WHERE d.app_id = 'a' ORDER BY t.key")
    assert [r["n"] for r in found] == list(range(1, len(triples) + 1))
