"""The rate-ratio interval, the remediation point and the words used for them."""

import datetime as dt
import math

import pytest

from insights.recurrence import (
    IncidentMoment,
    ItemState,
    class_recurrence,
    describe,
    rate_ratio,
    remediation_point,
)

NOW = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)


def _at(days_ago: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days_ago)


# Clopper-Pearson bounds with closed forms: for x = 0 of n the upper bound is
# 1 - (alpha/2)^(1/n); for x = n the lower bound is (alpha/2)^(1/n).
P_ZERO_OF_5_HIGH = 1 - 0.025 ** (1 / 5)  # 0.521824
P_FIVE_OF_5_LOW = 0.025 ** (1 / 5)  # 0.478176


def test_rate_ratio_no_incident_after_has_the_closed_form_upper_bound():
    """GIVEN 5 incidents in 100 days before remediation and none in 100 days after
    WHEN the exact interval is computed
    THEN it runs from 0 to p/(1-p) with p = 1 - 0.025^(1/5), i.e. 1.0913."""
    rates = rate_ratio(count_before=5, days_before=100, count_after=0, days_after=100)
    assert rates.ratio == 0
    assert rates.low == 0
    assert rates.high == pytest.approx(P_ZERO_OF_5_HIGH / (1 - P_ZERO_OF_5_HIGH))
    assert rates.high == pytest.approx(1.0913, abs=1e-4)
    assert rates.change == "unclear"


def test_rate_ratio_scales_by_the_ratio_of_exposures():
    """Same counts, the period after twice as long: the interval halves."""
    rates = rate_ratio(count_before=5, days_before=100, count_after=0, days_after=200)
    assert rates.high == pytest.approx(1.0913 / 2, abs=1e-4)


def test_rate_ratio_nothing_before_is_unbounded_above():
    rates = rate_ratio(count_before=0, days_before=50, count_after=5, days_after=50)
    assert math.isinf(rates.ratio) and math.isinf(rates.high)
    assert rates.low == pytest.approx(P_FIVE_OF_5_LOW / (1 - P_FIVE_OF_5_LOW))
    assert rates.low == pytest.approx(0.9164, abs=1e-4)


def test_rate_ratio_two_of_ten_matches_the_tabulated_exact_interval():
    """GIVEN 2 incidents in 100 days after and 8 in 200 days before
    THEN the rate ratio is (2/100)/(8/200) = 0.5 and, from the tabulated exact
    binomial interval for 2 of 10 (0.0252, 0.5561), the interval is
    0.0252/0.9748*2 = 0.0517 to 0.5561/0.4439*2 = 2.5055."""
    rates = rate_ratio(count_before=8, days_before=200, count_after=2, days_after=100)
    assert rates.ratio == pytest.approx(0.5)
    assert rates.low == pytest.approx(0.0517, abs=2e-4)
    assert rates.high == pytest.approx(2.5055, abs=2e-3)
    assert rates.change == "unclear"


def test_rate_ratio_says_fewer_or_more_only_when_the_interval_excludes_one():
    fewer = rate_ratio(count_before=20, days_before=100, count_after=1, days_after=100)
    assert fewer.high < 1 and fewer.change == "fewer"
    more = rate_ratio(count_before=1, days_before=100, count_after=20, days_after=100)
    assert more.low > 1 and more.change == "more"


def test_rate_ratio_with_no_incidents_at_all_knows_nothing():
    rates = rate_ratio(count_before=0, days_before=10, count_after=0, days_after=10)
    assert rates.ratio is None and rates.low == 0 and math.isinf(rates.high)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"count_before": -1, "days_before": 1, "count_after": 0, "days_after": 1},
        {"count_before": 1, "days_before": 0, "count_after": 0, "days_after": 1},
        {"count_before": 1, "days_before": 1, "count_after": 0, "days_after": -3},
    ],
)
def test_rate_ratio_refuses_impossible_input(kwargs):
    with pytest.raises(ValueError):
        rate_ratio(**kwargs)


def test_remediation_point_needs_every_item_done_before_the_next_incident():
    first, second = IncidentMoment(1, _at(300)), IncidentMoment(2, _at(10))
    done = ItemState("done", _at(250))
    assert remediation_point([first, second], {1: [done]}).at == _at(250)
    # An open item: nothing was remediated.
    assert remediation_point([first, second], {1: [done, ItemState("open")]}) is None
    # No items at all: nothing was remediated.
    assert remediation_point([first, second], {}) is None
    # Won't-do items neither count nor block.
    wont = ItemState("wont_do")
    assert remediation_point([first, second], {1: [done, wont]}).items_done == 1


def test_remediation_point_takes_in_incidents_that_began_during_the_fixes():
    """GIVEN a second incident that started while the first one's fix was pending
    THEN remediation waits for the second one's items too."""
    first, second = IncidentMoment(1, _at(300)), IncidentMoment(2, _at(200))
    items = {1: [ItemState("done", _at(150))], 2: [ItemState("done", _at(100))]}
    point = remediation_point([first, second], items)
    assert (point.at, point.incidents_covered) == (_at(100), 2)


def test_class_recurrence_counts_either_side_within_the_window():
    incidents = [
        IncidentMoment("old", _at(3000)),  # before the window: not counted
        IncidentMoment(1, _at(300)),
        IncidentMoment(2, _at(100), near_miss=True),
        IncidentMoment(3, _at(10)),
    ]
    items = {1: [ItemState("done", _at(250))], "old": [ItemState("open")]}
    found = class_recurrence(incidents, items, window_start=_at(365), now=NOW)
    assert [i.key for i in found.before] == [1]
    assert [i.key for i in found.after] == [2, 3]
    assert found.near_misses_after == 1
    assert found.rates.days_before == pytest.approx(115)
    assert found.rates.days_after == pytest.approx(250)


FORBIDDEN = ("did not work", "didn't work", "failed", "caused", "because", "proves")


@pytest.mark.parametrize(
    "after_days,expected",
    [
        ((100, 10), "Came back after its action items were done on"),
        ((), "No incident in the"),
    ],
)
def test_describe_speaks_of_association_never_of_cause(after_days, expected):
    incidents = [IncidentMoment(1, _at(300))] + [
        IncidentMoment(10 + i, _at(d)) for i, d in enumerate(after_days)
    ]
    found = class_recurrence(
        incidents,
        {1: [ItemState("done", _at(250))]},
        window_start=_at(365),
        now=NOW,
    )
    text = describe(found)
    assert text.startswith(expected)
    assert "rate ratio" in text.lower() and "95% interval" in text
    assert "against 1 in" in text
    assert not any(word in text.lower() for word in FORBIDDEN)
