"""Links (issue 19): what POST /identify accepts, how the SDK reads its answers, and the one statement a link
changes in the erasure machinery's chunk (rollups/links.py)."""
import json
import uuid

import pytest

from api.config import from_env
from api.validation import parse_link_body
from errors import BadRequest
from oddlytics.transport import Delivered, Refused, Rejected, Retry, link_outcome_for
from rollups import erasure, links

ANONYMOUS = str(uuid.uuid4())


class Env:
    def __init__(self, **values):
        self.__dict__.update(values)


def body(**fields):
    return json.dumps({"app_id": "app", "anonymous_id": ANONYMOUS, "user_id": "u-42", **fields})


def test_a_link_names_an_app_an_anonymous_id_and_a_user():
    assert parse_link_body(body()) == ("app", ANONYMOUS, "u-42")
    assert parse_link_body(body(anonymous_id=ANONYMOUS.upper()))[1] == ANONYMOUS.upper()  # the Swift SDK's UUIDs
    assert parse_link_body(body(debug=True))[0] == "debug:app"


@pytest.mark.parametrize("fields, field", [
    ({"anonymous_id": "u-7"}, "anonymous_id"),  # a named user's id is never moved
    ({"anonymous_id": "daily:abc"}, "anonymous_id"),
    ({"anonymous_id": ANONYMOUS + "x"}, "anonymous_id"),
    ({"anonymous_id": None}, "anonymous_id"),
    ({"user_id": ANONYMOUS}, "user_id"),
    ({"user_id": ""}, "user_id"),
    ({"user_id": "x" * 256}, "user_id"),
    ({"app_id": 5}, "app_id"),
    ({"app_id": "debug:app"}, "app_id"),
])
def test_a_bad_link_is_a_400_naming_the_field(fields, field):
    with pytest.raises(BadRequest) as refused:
        parse_link_body(body(**fields))
    assert field in [d["field"] for d in refused.value.details]


def test_a_link_body_must_be_an_object():
    for text in ("[]", "{", '"x"'):
        with pytest.raises(BadRequest):
            parse_link_body(text)


def test_links_can_be_switched_off():
    assert from_env(Env()).identify_links is True
    assert from_env(Env(IDENTIFY_LINKS="off")).identify_links is False


def test_the_sdk_drops_a_link_the_worker_refuses_and_keeps_it_on_trouble():
    assert link_outcome_for(200, b'{"success": true, "moved": 2}') == Delivered(0, 0)
    for status in (400, 404, 405, 409, 413, 415):
        assert isinstance(link_outcome_for(status, b'{"error": "no"}'), Rejected), status
    for status in (401, 403):
        assert isinstance(link_outcome_for(status, b""), Refused), status
    for status in (429, 500, 503):
        assert isinstance(link_outcome_for(status, b""), Retry), status


def test_a_link_is_erasures_chunk_with_a_move_in_place_of_the_delete():
    statements, at = links.move_statements("app", ANONYMOUS, "u-42", 0, 1000)
    erased = erasure.chunk_statements(links.selection("app", ANONYMOUS, 0), 1000)
    assert erasure.DELETE_EVENTS not in statements and statements[at].text.startswith("UPDATE events SET user_id")
    assert [s if isinstance(s, str) else s.text for s in statements[:at]] == \
        [s if isinstance(s, str) else s.text for s in erased[:erased.index(erasure.DELETE_EVENTS)]]
    assert "LIMIT 1000" in statements[1].text and "ts DESC, id DESC" in statements[1].text
