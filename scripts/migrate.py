"""Bring an Oddlytics D1 database to the current schema: `python3 scripts/migrate.py --remote` (or --local).

Runs `wrangler d1 migrations apply`. Before that, if the database was created by the original Oddlytics
(TypeScript), whose `events` table has `metadata`/`timestamp` columns, it sets that table aside
(upgrade/from-oddlytics-typescript.sql) so migration 0002 converts its events. Needs only the standard
library and the pinned wrangler (`npm ci`).
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scripts.deploy import exit_if_not_deployable  # noqa: E402
from scripts.processes import ServerError, wrangler  # noqa: E402

DATABASE = "oddlytics-db"
FROM_TYPESCRIPT = ROOT / "upgrade" / "from-oddlytics-typescript.sql"
MIGRATIONS = ROOT / "migrations"
# `migrations apply --remote` sends each migration's text to D1's /query endpoint, whose statement splitter has cut
# CREATE TRIGGER … BEGIN … END bodies at their inner `;` (cloudflare/workers-sdk #4998, #14991, #15314: "incomplete
# input"); `execute --file` goes through D1's import endpoint instead. Local D1 splits with wrangler's own splitter,
# which keeps the body whole (tests/test_migrations.py).
SPLIT_TRIGGER = "incomplete input"


def query(target, sql):
    output = wrangler("d1", "execute", DATABASE, *target, "--json", "--command", sql)
    return json.loads(output[output.index("["):])[0]["results"]


def events_columns(target):
    return {row["name"] for row in query(target, "SELECT name FROM pragma_table_info('events')")}


def is_original(columns):
    return {"metadata", "timestamp"} <= columns and "ts" not in columns


def migrate(target):
    """`target`: ["--remote"] or ["--local", "--persist-to", DIR]. Returns what it did, as lines."""
    done = []
    columns = events_columns(target)
    if is_original(columns):
        wrangler("d1", "execute", DATABASE, *target, "--file", FROM_TYPESCRIPT)
        if "user_id" not in columns:  # its first versions had no user ids
            wrangler("d1", "execute", DATABASE, *target, "--command", "ALTER TABLE original_events ADD COLUMN user_id TEXT")
        done.append("set the original Oddlytics events aside for conversion (original_events)")
    output = apply_migrations(target)
    done.append("no migrations to apply" if "No migrations to apply" in output else "migrations applied")
    return done


def apply_migrations(target, run=wrangler, attempts=None):
    """`wrangler d1 migrations apply`; where D1 refuses a migration with a trigger as "incomplete input" (each
    migration is a transaction of its own: the earlier ones stay applied), that migration goes through
    `execute --file` and into wrangler's ledger, and the rest are applied again. Every migration is idempotent
    (IF NOT EXISTS), so one applied twice changes nothing."""
    for _ in range(attempts or len(list(MIGRATIONS.glob("*.sql"))) + 1):
        try:
            return run("d1", "migrations", "apply", DATABASE, *target)
        except ServerError as error:
            if SPLIT_TRIGGER not in str(error):
                raise
            pending = first_pending(target, run)
            if pending is None or "CREATE TRIGGER" not in pending.read_text():
                raise
            run("d1", "execute", DATABASE, *target, "--file", pending)
            run("d1", "execute", DATABASE, *target, "--command",
                f"INSERT INTO d1_migrations (name) VALUES ('{pending.name}')")
    raise ServerError("migrations apply kept refusing a migration with a trigger")


def first_pending(target, run=wrangler):
    """The first migration file wrangler's ledger (d1_migrations) does not list, or None."""
    output = run("d1", "execute", DATABASE, *target, "--json", "--command", "SELECT name FROM d1_migrations")
    applied = {row["name"] for row in json.loads(output[output.index("["):])[0]["results"]}
    return next((path for path in sorted(MIGRATIONS.glob("*.sql")) if path.name not in applied), None)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--remote", action="store_true", help="the database in your Cloudflare account")
    where.add_argument("--local", action="store_true", help="the local database of `wrangler dev`")
    parser.add_argument("--persist-to", help="with --local: wrangler's state folder (default .wrangler/state)")
    args = parser.parse_args()
    if args.remote:  # wrangler would look for a database with the placeholder id in the account
        exit_if_not_deployable()
    target = ["--remote"] if args.remote else ["--local", *(["--persist-to", args.persist_to] if args.persist_to else [])]
    for line in migrate(target):
        print(line)
    print("Then rebuild the statistics if the schema changed: POST /admin/fold until it answers \"complete\": true.")


if __name__ == "__main__":
    main()
