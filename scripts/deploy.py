"""Deploy the worker to your Cloudflare account: `make deploy` (README, "Deploy to your Cloudflare account");
`make deploy DRY_RUN=1` builds it and lists its bindings without uploading.

Checks wrangler.toml first: `wrangler deploy`, even `--dry-run`, accepts the placeholder database id it ships
with (local development uses that placeholder: local D1 needs no real id), and the deploy would then fail later.
Needs only the standard library (Python 3.11: tomllib) and the pinned wrangler (`npm ci`).
"""
import argparse
import os
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRANGLER = ROOT / "node_modules" / ".bin" / "wrangler"
CONFIG = ROOT / "wrangler.toml"
PLACEHOLDER = "REPLACE-WITH-YOUR-DATABASE-ID"


def config_problems(path=CONFIG):
    """What in the wrangler.toml at `path` stops a deploy, one sentence each; none: go ahead."""
    try:
        config = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        return [f"cannot read {path}: {error}"]
    databases = config.get("d1_databases") or []
    if not databases:
        return [f"{path} binds no D1 database (the worker needs [[d1_databases]] with binding = \"DB\")"]
    problems = []
    for database in databases:
        database_id = str(database.get("database_id", "")).strip()
        if not database_id or database_id == PLACEHOLDER:
            name = database.get("database_name", "oddlytics-db")
            problems.append(
                f'{path} still has database_id = "{database_id}" for {name}. Create the database with '
                f"`npx wrangler d1 create {name}` (or look its id up with `npx wrangler d1 list`) and put the "
                f"database_id it prints in {path} (README, \"Deploy to your Cloudflare account\", steps 2 and 3).")
    return problems


def exit_if_not_deployable(path=CONFIG):
    problems = config_problems(path)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print("Nothing was deployed.", file=sys.stderr)
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(CONFIG), help="the wrangler.toml to deploy (default: the repository's)")
    parser.add_argument("--dry-run", action="store_true", help="build and list the bindings, upload nothing")
    args = parser.parse_args()
    exit_if_not_deployable(args.config)
    command = [str(WRANGLER), "deploy", "--config", args.config, *(["--dry-run"] if args.dry_run else [])]
    # wrangler takes over the terminal (login prompts, Ctrl-C) as if it had been run directly.
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
