"""`make screenshot`: docs/screenshot-overview.png from a throwaway worker loaded with the demo data,
captured by the same code as the browser test (scripts/browser.py)."""
import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.browser import capture_overview, find_chromium  # noqa: E402
from scripts.dashboard_server import Dashboard  # noqa: E402
from scripts.demo import load_demo  # noqa: E402
from scripts.devserver import Worker, free_port, run_until_stopped  # noqa: E402


def main():
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot-overview.png").resolve()
    if not find_chromium():
        raise SystemExit("screenshot: no Chromium found; `make browser` installs it (root + apt)")
    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as state:
        with Worker(Path(state) / "d1", variables={"AUTH_KEY": key}) as worker:
            load_demo(worker.url, key)
            with Dashboard(worker.url, key, port=free_port(), log_path=Path(state) / "streamlit.log") as dashboard:
                cards = capture_overview(dashboard.url + "/", target)
    print(f"Saved {target} ({', '.join(f'{k}: {v}' for k, v in cards.items())})")


if __name__ == "__main__":
    sys.exit(run_until_stopped(main))
