"""scripts/migrate.py: a migration with a trigger that D1's /query endpoint cuts ("incomplete input", as remote
D1 has done: cloudflare/workers-sdk #4998, #15314) goes through `execute --file` and wrangler's ledger. The remote
endpoint cannot be reached from here: wrangler is replaced by a recorder that answers as remote D1 would."""
import json

import pytest

from scripts import migrate
from scripts.processes import ServerError

TARGET = ["--remote"]
NAMES = sorted(path.name for path in migrate.MIGRATIONS.glob("*.sql"))
TRIGGERED = [name for name in NAMES if "CREATE TRIGGER" in (migrate.MIGRATIONS / name).read_text()]
WITH_TRIGGER = TRIGGERED[0]


class RemoteD1:
    """Applies migrations in order and refuses, as /query did, any whose text holds a trigger."""

    def __init__(self, applied=(), refuse=True, error="incomplete input: SQLITE_ERROR [code: 7500]"):
        self.applied = list(applied)
        self.refuse = refuse
        self.error = error
        self.calls = []

    def __call__(self, *args):
        self.calls.append(args)
        if args[:2] == ("d1", "migrations"):
            for name in NAMES:
                if name in self.applied:
                    continue
                if self.refuse and "CREATE TRIGGER" in (migrate.MIGRATIONS / name).read_text():
                    raise ServerError(f"wrangler d1 migrations apply failed: {self.error}")
                self.applied.append(name)
            return "Migrations applied" if self.calls[:-1] else "No migrations to apply"
        if "--json" in args:
            return "noise " + json.dumps([{"results": [{"name": name} for name in self.applied]}])
        if "--file" in args:
            return "executed"
        command = args[-1]
        assert command.startswith("INSERT INTO d1_migrations (name) VALUES ('"), command
        self.applied.append(command.split("'")[1])
        return "ok"


def test_a_migration_with_a_trigger_refused_by_query_is_imported_and_recorded():
    before = NAMES[:NAMES.index(WITH_TRIGGER)]
    d1 = RemoteD1(applied=before[:-1])  # one ordinary migration pending before it
    migrate.apply_migrations(TARGET, run=d1)
    assert d1.applied == NAMES  # everything applied once, in order
    files = [call for call in d1.calls if "--file" in call]
    assert [call[-1].name for call in files] == TRIGGERED  # each one with a trigger, and only those


def test_other_failures_are_raised():
    d1 = RemoteD1(error="Authentication error [code: 10000]")
    with pytest.raises(ServerError, match="Authentication"):
        migrate.apply_migrations(TARGET, run=d1)
    assert not [call for call in d1.calls if "--file" in call]


def test_nothing_pending_with_a_trigger_raises_the_original_error():
    d1 = RemoteD1(applied=NAMES)

    def refusing(*args):
        if args[:2] == ("d1", "migrations"):
            raise ServerError("wrangler d1 migrations apply failed: incomplete input")
        return d1(*args)

    with pytest.raises(ServerError, match="incomplete input"):
        migrate.apply_migrations(TARGET, run=refusing)
