"""Start and stop `streamlit run dashboard/app.py` (headless, no usage stats) against a worker URL and key."""
import sys

from scripts.devserver import ROOT, Server


class Dashboard(Server):
    name = "the dashboard (streamlit)"
    health_path = "/_stcore/health"

    def __init__(self, api_url, api_key, port=8501, log_path=None, script=None):
        super().__init__(port, log_path)
        self.api_url = api_url
        self.api_key = api_key
        self.script = script or ROOT / "dashboard" / "app.py"  # another: e.g. a bare page to compare with

    def start(self, timeout=60):
        command = [sys.executable, "-m", "streamlit", "run", str(self.script),
                   "--server.address", "127.0.0.1", "--server.port", str(self.port),
                   "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        # The key goes through the environment, never the command line (visible in `ps`).
        return self.spawn(command, {"ODDLYTICS_API_URL": self.api_url, "ODDLYTICS_API_KEY": self.api_key}, timeout)
