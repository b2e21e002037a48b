"""Every dashboard chart is a valid Vega-Lite spec: the dashboard converts them without Altair's schema validation
(dashboard/charts.py: checked_in_tests), so it happens here, once per chart, with the shapes the screens send."""
from datetime import date

import pandas as pd
import pytest

from dashboard import charts, shapes

DAYS = [f"2026-11-{day:02d}T00:00:00Z" for day in range(1, 8)]


def chart_arguments():
    buckets = [{"t": t, "events": 10 * i, "sessions": 3 * i} for i, t in enumerate(DAYS)]
    yield "timeline", (buckets, "day", "Europe/Berlin", True, [{"t": t, "previous": 4} for t in DAYS],
                       {t: 2 for t in DAYS})
    yield "timeline", (buckets, "hour")
    yield "heatmap", ([{"weekday": "Mon", "day": 1, "hour": 9, "events": 12}], "Europe/Berlin")
    yield "user_activity", ([{"timestamp": DAYS[0], "event": "=1+1", "session_id": "s1", "app_id": "a"}], "UTC")
    yield "calendar", (shapes.calendar_frame([{"date": t[:10], "active": 3, "new": 1} for t in DAYS],
                                             date(2026, 11, 1), date(2026, 11, 7)),)
    yield "bars", (pd.DataFrame({"value": ["iOS", "(none)"], "events": [5, 2]}), "value")
    yield "funnel", (pd.DataFrame({"step": ["1. Open", "2. Buy"], "event": ["Open", "Buy"], "count": [10, 4],
                                   "from_first": [100.0, 40.0], "from_previous": [100.0, 40.0]}),)
    yield "retention", (pd.DataFrame({"cohort": ["Nov 1 (10)"] * 2, "start": ["Nov 1"] * 2, "size": [10, 10],
                                      "period": [0, 1], "users": [10, 4], "share": [100.0, 40.0],
                                      "label": ["100%", "…"], "state": ["over", "running"]}), "First day")
    yield "histogram", ([{"label": "< 10 s", "sessions": 4}, {"label": "10-30 s", "sessions": 2}],)


CASES = list(chart_arguments())


@pytest.mark.parametrize("name,args", CASES, ids=[f"{name}-{i}" for i, (name, _) in enumerate(CASES)])
def test_each_chart_is_a_valid_spec_and_the_dashboard_converts_the_same_spec(name, args):
    build = getattr(charts, name)
    validated = build.validated(*args).to_dict()  # raises a SchemaValidationError on an invalid spec
    assert build(*args).to_dict() == validated
    assert validated["$schema"].startswith("https://vega.github.io/schema/vega-lite/")


def test_an_invalid_chart_is_caught_by_the_validated_form():
    """The check above can fail: the validated conversion refuses a spec Vega-Lite does not know, which the
    dashboard's conversion would send as it is."""
    def build():
        chart = charts.alt.Chart(pd.DataFrame({"x": [1]})).mark_bar().encode(x="x:Q")
        chart["usermeta_typo"] = 1  # item assignment skips the checks made when a chart is built
        return chart
    broken = charts.checked_in_tests(build)
    with pytest.raises(charts.alt.utils.schemapi.SchemaValidationError):
        broken.validated().to_dict()
    assert broken().to_dict()["usermeta_typo"] == 1
