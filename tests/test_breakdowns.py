"""Breakdowns, property keys and groups against hand-computed answers (worker/routes/breakdown.py, worker/rollups/dims.py)."""
from conftest import KEYS, event
from consistency import assert_rollups_match_events

DAY1 = "2026-03-10T{}Z"
WINDOW = {"from": "2026-03-10", "to": "2026-03-12"}


def at(hh_mm, day="2026-03-10"):
    return f"{day}T{hh_mm}:00.000Z"


def crafted(app_id):
    return [
        event(app_id, "open", "s1", user_id="u1", platform="ios", app_version="1.0", timestamp=at("09:00"),
              properties={"plan": "pro", "group": "onboarding"}),
        event(app_id, "signup", "s1", user_id="u1", platform="ios", app_version="1.0", timestamp=at("09:05"),
              properties={"plan": "pro", "step": 2, "ok": True, "group": "onboarding"}),
        event(app_id, "open", "s2", user_id="u2", platform="android", timestamp=at("10:00"),
              properties={"plan": "free"}),
        event(app_id, "open", "s3", user_id="u1", platform="ios", app_version="1.1", timestamp=at("08:00", "2026-03-11"),
              properties={"plan": "pro", "nested": {"a": 1}, "list": [1]}),
        event(app_id, "purchase", "s3", platform="ios", app_version="1.1", timestamp=at("08:30", "2026-03-11"),
              properties={"amount": 9.5, "group": "money"}),
    ]


def test_breakdown_by_platform_hand_computed(api, app_id):
    assert api.track({"events": crafted(app_id)}).status_code == 200
    api.fold_all()
    answer = api.read("/stats/breakdown", app_id=app_id, by="platform", **WINDOW)
    assert answer["values"] == [
        # Sent as "ios" and "android": platform names are stored as the SDKs spell them (issue 17).
        {"value": "iOS", "events": 4, "sessions": 2, "users": 1, "share": 0.8},
        {"value": "Android", "events": 1, "sessions": 1, "users": 1, "share": 0.2},
    ]
    assert answer["total"] == {"events": 5} and answer["other"] is None and answer["approximate"] is False
    versions = api.read("/stats/breakdown", app_id=app_id, by="app_version", **WINDOW)["values"]
    assert [(v["value"], v["events"], v["sessions"]) for v in versions] == [("1.0", 2, 1), ("1.1", 2, 1), (None, 1, 1)]
    limited = api.read("/stats/breakdown", app_id=app_id, by="app_version", limit=1, **WINDOW)
    assert limited["other"] == {"values": 2, "events": 3, "share": 0.6}
    assert_rollups_match_events(api, app_id, WINDOW)


def test_property_values_per_event_and_any_event(api, app_id):
    api.track({"events": crafted(app_id)})
    api.fold_all()
    plan = api.read("/stats/breakdown", app_id=app_id, by="property:plan", **WINDOW)["values"]
    # Over every event name: events add up, sessions and users do not (a session can do several).
    assert [(v["value"], v["events"], v["sessions"], v["users"]) for v in plan] == [("pro", 3, None, None),
                                                                                    ("free", 1, None, None)]
    plan_on_open = api.read("/stats/breakdown", app_id=app_id, by="property:plan", event="open", **WINDOW)["values"]
    assert [(v["value"], v["events"], v["sessions"], v["users"]) for v in plan_on_open] == [("pro", 2, 2, None),
                                                                                            ("free", 1, 1, None)]
    scalars = {field: api.read("/stats/breakdown", app_id=app_id, by=f"property:{field}", **WINDOW)["values"]
               for field in ("ok", "step", "amount", "nested", "list")}
    assert [v["value"] for v in scalars["ok"]] == ["true"] and [v["value"] for v in scalars["step"]] == ["2"]
    assert [v["value"] for v in scalars["amount"]] == ["9.5"]
    assert scalars["nested"] == [] and scalars["list"] == []  # objects and arrays are not values
    keys = api.read("/stats/properties", app_id=app_id, **WINDOW)["properties"]
    assert [(k["key"], k["events"], k["values"]) for k in keys] == [
        ("plan", 4, 2), ("amount", 1, 1), ("ok", 1, 1), ("step", 1, 1)]
    on_signup = api.read("/stats/properties", app_id=app_id, event="signup", **WINDOW)["properties"]
    assert [k["key"] for k in on_signup] == ["ok", "plan", "step"]


def test_groups_and_events_without_a_group(api, app_id):
    api.track({"events": crafted(app_id)})
    api.fold_all()
    groups = api.read("/stats/groups", app_id=app_id, **WINDOW)["groups"]
    assert groups == [
        {"group": "onboarding", "events": 2, "share": 0.4,
         "events_by_name": [{"event": "open", "events": 1}, {"event": "signup", "events": 1}]},
        {"group": "money", "events": 1, "share": 0.2, "events_by_name": [{"event": "purchase", "events": 1}]},
        {"group": None, "events": 2, "share": 0.4, "events_by_name": [{"event": "open", "events": 2}]},
    ]
    by_group = api.read("/stats/breakdown", app_id=app_id, by="group", **WINDOW)["values"]
    assert [(v["value"], v["events"]) for v in by_group] == [("onboarding", 2), (None, 2), ("money", 1)]


def test_values_past_the_cap_count_as_other(api, app_id):
    batch = [event(app_id, "view", f"s{i}", user_id=f"u{i}", timestamp=at("12:00"), properties={"screen": f"v{i:03d}"})
             for i in range(60)]
    api.track({"events": batch})
    api.fold_all()
    answer = api.read("/stats/breakdown", app_id=app_id, by="property:screen", limit=100, **WINDOW)
    assert len(answer["values"]) == 50 and answer["capped"] is True
    assert answer["other"] == {"values": 0, "events": 10, "share": round(10 / 60, 4)}
    assert sum(v["events"] for v in answer["values"]) + answer["other"]["events"] == 60


def test_deleting_a_user_keeps_breakdowns_exact_and_forgets_their_values(api, app_id):
    api.track({"events": crafted(app_id) + [event(app_id, "open", "s9", user_id="secret", timestamp=at("11:00"),
                                                    properties={"email": "secret@example.com"})]})
    api.fold_all()
    assert [v["value"] for v in api.read("/stats/breakdown", app_id=app_id, by="property:email", **WINDOW)["values"]] == [
        "secret@example.com"]
    response = api.request("DELETE", "/admin/users/secret", key=KEYS["AUTH_KEY"], params={"app_id": app_id})
    assert response.status_code == 200, response.text
    assert api.read("/stats/breakdown", app_id=app_id, by="property:email", **WINDOW)["values"] == []
    assert [k["key"] for k in api.read("/stats/properties", app_id=app_id, **WINDOW)["properties"]] == [
        "plan", "amount", "ok", "step"]
    assert_rollups_match_events(api, app_id, WINDOW)


def test_bad_parameters_are_400(api, app_id):
    for params in ({"by": "nope"}, {"by": "property:"}, {"by": "property:" + "k" * 65}, {"by": "platform", "event": "x"},
                   {"by": "platform", "limit": "0"}):
        response = api.get("/stats/breakdown", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["success"] is False


def test_users_past_the_exact_budget_are_sampled_declared_and_close(api, app_id):
    """5 days x 1,000 users: 5,000 user-days of `ios`, past breakdown.EXACT_USER_ROWS (1,500)."""
    days = ["2026-04-01", "2026-04-02", "2026-04-03", "2026-04-04", "2026-04-05"]
    for day in days:
        batch = [event(app_id, "open", f"{day}-{i}", user_id=f"person-{i}", platform="ios", timestamp=at("12:00", day))
                 for i in range(1000)]
        assert api.track({"events": batch}).status_code == 200
    api.fold_all()
    response = api.get("/stats/breakdown", params={"app_id": app_id, "by": "platform", "from": days[0], "to": "2026-04-06"})
    answer = response.json()
    [ios] = answer["values"]
    assert (ios["events"], ios["sessions"]) == (5000, 5000)
    assert answer["users_sampled"] is True and answer["approximate_figures"] == ["users"]
    assert abs(ios["users"] - 1000) <= 100, ios["users"]  # sampled 19/64 of 1,000 users: standard error ~5%
    assert int(response.headers["x-d1-rows-read"]) < 10_000
    one_day = api.read("/stats/breakdown", app_id=app_id, by="platform", **{"from": days[0], "to": days[0]})
    assert one_day["values"][0]["users"] == 1000 and one_day["approximate"] is False


def test_a_berlin_day_when_the_clocks_change(api, app_id):
    """2026-03-29 in Europe/Berlin has 23 hours: [2026-03-28T23:00Z, 2026-03-29T22:00Z)."""
    def at_utc(stamp, platform, user):
        return event(app_id, "open", f"s-{stamp}", user_id=user, platform=platform, timestamp=stamp)
    api.track({"events": [at_utc("2026-03-28T22:30:00Z", "ios", "before"),  # 23:30 on the 28th, local
                          at_utc("2026-03-28T23:30:00Z", "ios", "inside-1"),  # 00:30 CET
                          at_utc("2026-03-29T21:30:00Z", "android", "inside-2"),  # 23:30 CEST
                          at_utc("2026-03-29T22:30:00Z", "android", "after")]})  # 00:30 on the 30th
    api.fold_all()
    answer = api.read("/stats/breakdown", app_id=app_id, by="platform", tz="Europe/Berlin",
                      **{"from": "2026-03-29", "to": "2026-03-29"})
    assert [(v["value"], v["events"], v["sessions"]) for v in answer["values"]] == [("Android", 1, 1), ("iOS", 1, 1)]
    # Users count over the UTC days the local day touches (the 28th and 29th): "before" and "after" count too.
    assert [v["users"] for v in answer["values"]] == [2, 2]
    assert answer["approximate"] is True and answer["approximate_figures"] == ["users"]


def test_hostile_keys_and_values_are_data(api, app_id):
    long_value = "x" * 500
    api.track({"events": [event(app_id, "open", "s1", timestamp=at("12:00"), platform="'); DROP TABLE events;--",
                                properties={"": "empty key", "k" * 65: "too long a key", "quote\"key": long_value,
                                            "group": {"not": "scalar"}, "n": None, "big": 1e300})]})
    api.fold_all()
    platform = api.read("/stats/breakdown", app_id=app_id, by="platform", **WINDOW)["values"]
    assert [v["value"] for v in platform] == ["'); DROP TABLE events;--"]
    keys = api.read("/stats/properties", app_id=app_id, event="open", **WINDOW)["properties"]
    assert sorted(k["key"] for k in keys) == ["big", "quote\"key"]  # no empty, over-long or null-valued keys
    quoted = api.read("/stats/breakdown", app_id=app_id, by='property:quote"key', event="open", **WINDOW)["values"]
    assert [v["value"] for v in quoted] == ["x" * 100]
    group = api.read("/stats/breakdown", app_id=app_id, by="group", **WINDOW)["values"]
    assert [(v["value"], v["events"]) for v in group] == [(None, 1)]  # an object is no group
    assert_rollups_match_events(api, app_id, WINDOW)
