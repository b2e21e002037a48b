"""The benchmark behind `make bench` (`scripts/bench.py`): synthetic traffic, an HTTP client, CPU profiles, the report."""
