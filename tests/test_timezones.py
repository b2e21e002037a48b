"""The `tz` parameter against the real worker: local days, local heatmap hours, across DST changes."""
import pytest

from conftest import event

BERLIN = {"tz": "Europe/Berlin", "from": "2024-03-30", "to": "2024-04-01"}
NEW_YORK = {"tz": "America/New_York", "from": "2024-11-02", "to": "2024-11-04"}


@pytest.fixture
def dst_app(api, app_id):
    """Events either side of Berlin's spring forward (31 Mar 2024) and New York's fall back (3 Nov 2024)."""
    stamps = ["2024-03-30T22:30:00Z",  # Berlin: Sat 30 Mar 23:30 CET
              "2024-03-30T23:30:00Z",  # Sun 31 Mar 00:30 CET
              "2024-03-31T01:30:00Z",  # Sun 31 Mar 03:30 CEST
              "2024-03-31T22:30:00Z",  # Mon 1 Apr 00:30 CEST
              "2024-11-03T03:30:00Z",  # New York: Sat 2 Nov 23:30 EDT
              "2024-11-03T05:30:00Z",  # Sun 3 Nov 01:30 EDT
              "2024-11-03T06:30:00Z",  # Sun 3 Nov 01:30 EST
              "2024-11-04T04:30:00Z",  # Sun 3 Nov 23:30 EST
              "2024-11-04T05:30:00Z"]  # Mon 4 Nov 00:30 EST
    sent = [event(app_id, "Tick", f"s{i}", timestamp=stamp) for i, stamp in enumerate(stamps)]
    assert api.track({"events": sent}).json()["count"] == len(sent)
    return app_id


def day_buckets(api, app_id, **params):
    body = api.read("/stats/timeline", app_id=app_id, interval="day", **params)
    return body["range"], [(b["t"], b["date"], b["events"]) for b in body["buckets"]]


def busy_cells(api, app_id, **params):
    cells = api.read("/stats/heatmap", app_id=app_id, **params)["cells"]
    return {(c["weekday"], c["hour"]): c["events"] for c in cells if c["events"]}


def test_berlin_days_across_spring_forward(api, dst_app):
    range_json, buckets = day_buckets(api, dst_app, **BERLIN)
    assert (range_json["from"], range_json["to"], range_json["tz"]) == (
        "2024-03-29T23:00:00Z", "2024-04-01T22:00:00Z", "Europe/Berlin")
    assert buckets == [("2024-03-29T23:00:00Z", "2024-03-30", 1), ("2024-03-30T23:00:00Z", "2024-03-31", 2),
                       ("2024-03-31T22:00:00Z", "2024-04-01", 1)]


def test_new_york_days_and_hours_across_fall_back(api, dst_app):
    _, buckets = day_buckets(api, dst_app, **NEW_YORK)
    assert buckets == [("2024-11-02T04:00:00Z", "2024-11-02", 1), ("2024-11-03T04:00:00Z", "2024-11-03", 3),
                       ("2024-11-04T05:00:00Z", "2024-11-04", 1)]
    assert busy_cells(api, dst_app, **NEW_YORK) == {("Sat", 23): 1, ("Sun", 1): 2, ("Sun", 23): 1, ("Mon", 0): 1}


def test_berlin_heatmap_and_overview_use_local_days(api, dst_app):
    assert busy_cells(api, dst_app, **BERLIN) == {("Sat", 23): 1, ("Sun", 0): 1, ("Sun", 3): 1, ("Mon", 0): 1}
    sunday = api.read("/stats/overview", app_id=dst_app, **{**BERLIN, "from": "2024-03-31", "to": "2024-03-31"})
    assert (sunday["events"], sunday["range"]["from"], sunday["range"]["to"]) == (
        2, "2024-03-30T23:00:00Z", "2024-03-31T22:00:00Z")


def test_utc_is_the_default(api, dst_app):
    utc_range = {"from": "2024-03-30", "to": "2024-04-01"}
    assert day_buckets(api, dst_app, tz="UTC", **utc_range) == day_buckets(api, dst_app, **utc_range)
    _, buckets = day_buckets(api, dst_app, **utc_range)
    assert buckets == [("2024-03-30T00:00:00Z", "2024-03-30", 2), ("2024-03-31T00:00:00Z", "2024-03-31", 2),
                       ("2024-04-01T00:00:00Z", "2024-04-01", 0)]
    assert busy_cells(api, dst_app, tz="UTC", **utc_range) == busy_cells(api, dst_app, **utc_range) == {
        ("Sat", 22): 1, ("Sat", 23): 1, ("Sun", 1): 1, ("Sun", 22): 1}


@pytest.mark.parametrize("path", ["/stats/overview", "/stats/timeline", "/stats/heatmap", "/events", "/users", "/apps"])
@pytest.mark.parametrize("tz", ["Mars/Olympus", "not a zone", "Europe/" + "x" * 80])
def test_unknown_zone_is_400_naming_tz(api, path, tz):
    response = api.get(path, params={"tz": tz})
    assert response.status_code == 400
    assert [d["field"] for d in response.json()["details"]] == ["tz"]
