"""The README's deploy path stops at a wrangler.toml that still has the placeholder database id (issue 18), while
local development keeps using that placeholder (`make run`, the tests: local D1 needs no real id).

`wrangler deploy --dry-run` itself accepts the placeholder. Nothing here reaches Cloudflare: the refusals happen
before wrangler runs, the one accepted config is a `--dry-run`, and HOME is empty so no stored login is found.
"""
import os
import subprocess
import sys

from scripts.devserver import ROOT

PLACEHOLDER = "REPLACE-WITH-YOUR-DATABASE-ID"


def run(command, home):
    env = {**os.environ, "HOME": str(home), "CI": "true", "WRANGLER_SEND_METRICS": "false"}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def assert_refused(done):
    assert done.returncode != 0
    assert f'database_id = "{PLACEHOLDER}"' in done.stderr and "npx wrangler d1 create oddlytics-db" in done.stderr
    assert "wrangler.toml" in done.stderr and "nothing was deployed" in done.stderr.lower()
    assert "--dry-run: exiting now" not in done.stdout + done.stderr  # wrangler never ran


def test_make_deploy_stops_at_the_placeholder_database_id_before_running_wrangler(tmp_path):
    assert PLACEHOLDER in (ROOT / "wrangler.toml").read_text()  # as shipped, and as local dev uses it
    assert_refused(run(["make", "--no-print-directory", "deploy", "DRY_RUN=1"], tmp_path))


def test_remote_migrations_stop_at_the_placeholder_database_id(tmp_path):
    assert_refused(run([sys.executable, "scripts/migrate.py", "--remote"], tmp_path))


def test_a_real_database_id_goes_on_to_wrangler_deploy(tmp_path):
    database_id = "0f9e8d7c-6b5a-4321-8fed-cba987654321"
    config = (ROOT / "wrangler.toml").read_text().replace(PLACEHOLDER, database_id)
    # The copy lives elsewhere: wrangler resolves these paths from the config's folder.
    config = config.replace('main = "worker/entry.py"', f'main = "{ROOT / "worker" / "entry.py"}"')
    config = config.replace('migrations_dir = "migrations"', f'migrations_dir = "{ROOT / "migrations"}"')
    (tmp_path / "wrangler.toml").write_text(config)
    done = run([sys.executable, "scripts/deploy.py", "--config", str(tmp_path / "wrangler.toml"), "--dry-run"],
               tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"oddlytics-db ({database_id})" in done.stdout and "--dry-run: exiting now" in done.stdout
