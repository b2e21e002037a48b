"""What the original Oddlytics Swift SDK sends is stored as it meant it.

The body below is byte for byte what its `EventBatcher` posts (OddOmens/Oddlytics, Sources/Oddlytics/Event.swift
and EventBatcher.swift): `JSONSerialization` of `{"events": [...]}`, compact, slashes escaped as `\\/`, `timestamp`
a Double of epoch seconds (`Date().timeIntervalSince1970`, sub-millisecond digits included), string-only
`metadata` (whose `group` key is the original's event group), upper-case UUIDs, and `device_id` on the newer
SDK only. `device_id` is not stored: the worker keeps no device identifiers, and ignores unknown fields.
"""
import uuid

from conftest import KEYS

DAY = {"from": "2025-11-26", "to": "2025-11-26"}
SESSION = "0E3F2C9A-7D61-4B7E-A7E4-2F6C4B8A9D10"
DEVICE = "D3C1A7B2-44E1-4C0B-9F3A-6E5D4C3B2A19"


def swift_body(app_id, user):
    return (
        '{"events":['
        f'{{"event":"screen_view","app_id":"{app_id}","platform":"iOS",'
        '"metadata":{"screen":"Settings\\/Privacy","group":"Onboarding"},'
        f'"session_id":"{SESSION}","user_id":"{user}","timestamp":1764150000.1234569,"device_id":"{DEVICE}"}},'
        f'{{"event":"button_tap","app_id":"{app_id}","platform":"iOS","metadata":{{}},'
        f'"session_id":"{SESSION}","user_id":"{user}","timestamp":1764150059.9996}}'
        ']}'
    )


def test_the_swift_sdks_batch_lands_with_group_properties_and_millisecond_times(api):
    app_id = f"MyAwesomeApp-{uuid.uuid4().hex[:8]}"
    user = str(uuid.uuid4()).upper()  # the SDK's stored UUID().uuidString; user ids span apps, so one per run
    response = api.post("/track", key=KEYS["INGEST_KEY"], data=swift_body(app_id, user).encode(),
                        headers={"Content-Type": "application/json"})
    assert response.json() == {"success": True, "count": 2, "duplicates": 0}
    events = api.read("/events", app_id=app_id, **DAY)["events"]
    assert [(e["event"], e["timestamp"], e["properties"]) for e in events] == [
        ("button_tap", "2025-11-26T09:41:00.000Z", {}),  # 59.9996 s rounds to the next millisecond
        ("screen_view", "2025-11-26T09:40:00.123Z", {"screen": "Settings/Privacy", "group": "Onboarding"}),
    ]
    assert {(e["session_id"], e["user_id"], e["platform"], e["app_version"]) for e in events} == {
        (SESSION, user, "iOS", None)}
    assert all(DEVICE not in str(e) for e in events)
    api.fold_all()
    overview = api.read("/stats/overview", app_id=app_id, **DAY)
    assert (overview["events"], overview["sessions"], overview["users"]) == (2, 1, 1)
    person = api.read(f"/users/{user}")
    assert (person["events"], person["sessions"], person["platforms"], person["last_seen"]) == (
        2, 1, ["iOS"], "2025-11-26T09:41:00.000Z")
