"""Pure parts of /users and /stats/heatmap."""
import pytest

from api import cursor
from errors import BadRequest
from routes.heatmap import dense_cells


def test_user_cursor_round_trips():
    assert cursor.decode(cursor.encode(1714996800, "ünïcode user"), (int, str)) == (1714996800, "ünïcode user")


@pytest.mark.parametrize("text", ["", "!!!", cursor.encode(1, "a")[:-2] + "xx", "WzEsIDJd"])
def test_user_cursor_rejects_foreign_text(text):
    with pytest.raises(BadRequest):
        cursor.decode(text, (int, str))


def test_heatmap_cells_start_monday_and_map_sqlite_sunday():
    cells = dense_cells([{"dow": 0, "hour_of_day": 23, "events": 5}, {"dow": 1, "hour_of_day": 0, "events": 2}])
    assert len(cells) == 168
    assert cells[0] == {"weekday": "Mon", "day": 1, "hour": 0, "events": 2}
    assert cells[-1] == {"weekday": "Sun", "day": 7, "hour": 23, "events": 5}
    assert sum(c["events"] for c in cells) == 7


def test_ranges_read_whole_utc_days_with_hours_at_the_ends():
    from rollups.grains import DAILY, HOURLY
    from rollups.read import pieces

    day, hour = 86400, 3600
    assert pieces(5 * day + 22 * hour, 8 * day + 3 * hour) == [
        (HOURLY, 5 * day + 22 * hour, 6 * day), (DAILY, 6 * day, 8 * day), (HOURLY, 8 * day, 8 * day + 3 * hour)]
    assert pieces(6 * day, 8 * day) == [(DAILY, 6 * day, 8 * day)]
    assert pieces(6 * day + hour, 6 * day + 5 * hour) == [(HOURLY, 6 * day + hour, 6 * day + 5 * hour)]
    assert pieces(6 * day, 6 * day) == []
