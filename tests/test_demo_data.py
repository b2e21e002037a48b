"""`make demo-remove` against the real local worker: the demo apps go (events, display names, alias); other
apps stay."""
from conftest import KEYS, event
from scripts import demo


def test_remove_demo_deletes_only_the_demo_apps(api, app_id):
    demo_ids = [app["app_id"] for app in demo.APPS]
    sent = [event(demo_id, "Habit Completed", f"s{n}") for n, demo_id in enumerate(demo_ids)]
    assert api.track({"events": [*sent, event(app_id, "Open", "mine")]}).json()["count"] == len(demo_ids) + 1
    demo.name_apps(demo.keyed_session(KEYS["AUTH_KEY"]), api.url)
    assert {a["app_id"] for a in api.read("/settings/apps")["apps"]} >= set(demo_ids)
    removed = demo.remove_demo(api.url, KEYS["AUTH_KEY"], quiet=True)
    assert removed >= len(demo_ids)
    for demo_id in demo_ids:
        assert api.read("/events", app_id=demo_id, days=3660)["events"] == []
    assert not {a["app_id"] for a in api.read("/settings/apps")["apps"]} & set(demo_ids)
    assert not [a for a in api.read("/settings/aliases")["aliases"] if a["app_id"] in demo_ids]
    assert [e["event"] for e in api.read("/events", app_id=app_id)["events"]] == ["Open"]


def test_remove_demo_needs_the_admin_key(api):
    try:
        demo.remove_demo(api.url, KEYS["READ_KEY"], quiet=True)
    except SystemExit as refused:
        assert "403" in str(refused) and "AUTH_KEY" in str(refused)
    else:
        raise AssertionError("a READ_KEY deleted the demo apps")
