import datetime as dt

import pytest

from insights.durations import distribution
from insights.report import (
    ActionRow,
    ClassInfo,
    FactorRow,
    IncidentRow,
    MembershipRow,
    build_report,
    chart_start,
    class_score,
    quarter_range,
)

NOW = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
THRESHOLD = 0.6


def _incident(pk, days_ago, severity="SEV2", **kw):
    return IncidentRow(
        postmortem_id=pk,
        incident_id=pk,
        title=f"Incident {pk}",
        started_at=NOW - dt.timedelta(days=days_ago),
        severity=severity,
        team=kw.pop("team", "payments"),
        services=kw.pop("services", ("checkout",)),
        **kw,
    )


def _member(pk, slug="certificate-expiry", confidence=1.0, confirmed=True, **kw):
    return MembershipRow(pk, slug, confidence, confirmed, **kw)


def _done(pk, postmortem, days_ago):
    return ActionRow(
        id=pk,
        postmortem_id=postmortem,
        title=f"Fix {pk}",
        status="done",
        completed_at=NOW - dt.timedelta(days=days_ago),
    )


def _build(incidents, memberships=None, actions=(), factors=(), classes=()):
    if memberships is None:
        memberships = [_member(i.postmortem_id) for i in incidents]
    return build_report(
        incidents=incidents,
        memberships=memberships,
        actions=list(actions),
        factors=list(factors),
        classes=list(classes),
        confidence_threshold=THRESHOLD,
        now=NOW,
    )


def test_class_score_follows_the_stated_formula():
    incidents = [
        _incident(1, 0, severity="SEV0"),  # 8 * 1
        _incident(2, 180, severity="SEV1"),  # 4 * 0.5
        _incident(3, 360, severity="SEV3"),  # 1 * 0.25
    ]
    assert class_score(incidents, NOW) == pytest.approx(8 + 2 + 0.25)


def test_build_report_ranks_classes_by_score():
    incidents = [
        _incident(1, 10, severity="SEV3"),
        _incident(2, 20, severity="SEV3"),
        _incident(3, 30, severity="SEV3"),
        _incident(4, 5, severity="SEV0"),
        _incident(5, 400, severity="SEV1"),
        _incident(6, 1),
    ]
    memberships = [_member(pk, "dns") for pk in (1, 2, 3)] + [
        _member(pk, "network") for pk in (4, 5)
    ]
    report = _build(
        incidents,
        memberships,
        classes=[ClassInfo("dns", "DNS"), ClassInfo("network", "Network")],
    )
    assert [c.slug for c in report.classes] == ["network", "dns"]
    assert report.classes[1].name == "DNS" and report.classes[1].count == 3
    assert report.unclassified == 1
    assert [c.slug for c in report.recurring] == ["network", "dns"]
    assert sum(report.classes[1].quarters.values()) == 3
    assert report.quarters[0] == "2025-Q2" and report.quarters[-1] == "2026-Q3"


def test_build_report_lists_impact_services_teams_and_action_status():
    incidents = [
        _incident(1, 300, users_affected=100, revenue_usd=10.5, services=("a", "b")),
        _incident(2, 10, users_affected=50, team="identity", services=("a",)),
    ]
    actions = [
        _done(10, 1, 200),
        ActionRow(id=11, postmortem_id=2, title="x", status="open"),
    ]
    report = _build(incidents, actions=actions)
    [cls] = report.classes
    assert cls.impact["users_affected"] == 150 and cls.impact["revenue_usd"] == 10.5
    assert cls.services == [("a", 2), ("b", 1)]
    assert cls.teams == [("identity", 1), ("payments", 1)]
    assert cls.action_status == {"done": 1, "open": 1}
    assert [c.slug for c in report.came_back] == ["certificate-expiry"]
    assert [m.incident.postmortem_id for m in cls.recurrence_members] == [2]


@pytest.mark.parametrize(
    "later,counted",
    [
        (_member(2, confirmed=True), True),
        (_member(2, confidence=0.9, confirmed=False), True),
        (_member(2, confidence=THRESHOLD, confirmed=False), True),
        (_member(2, confidence=THRESHOLD - 0.01, confirmed=False), False),
        (_member(2, confidence=0.1, confirmed=False), False),
        (_member(2, confidence=0.95, confirmed=False, calibrated=False), False),
    ],
    ids=[
        "confirmed",
        "inferred-high",
        "inferred-at-threshold",
        "just-below",
        "low",
        "similarity-not-probability",
    ],
)
def test_recurred_after_remediation_never_rests_on_an_uncertain_class(later, counted):
    """GIVEN a confirmed incident whose fix was done, then a later incident
    WHEN the later one's class is inferred below the threshold
    THEN no "recurred after remediation" line, no recurring class, and it is
    listed as uncertain instead."""
    incidents = [_incident(1, 300), _incident(2, 10)]
    report = _build(incidents, [_member(1), later], actions=[_done(10, 1, 200)])
    [cls] = report.classes
    assert bool(report.came_back) is counted
    assert cls.recurring is counted
    assert cls.count == (2 if counted else 1)
    assert [m.incident.postmortem_id for m in cls.uncertain] == ([] if counted else [2])
    assert report.uncertain == (0 if counted else 1)


def test_uncertain_earlier_incidents_do_not_make_a_remediation_either():
    incidents = [_incident(1, 300), _incident(2, 10)]
    memberships = [_member(1, confidence=0.2, confirmed=False), _member(2)]
    report = _build(incidents, memberships, actions=[_done(10, 1, 200)])
    assert report.came_back == [] and report.classes[0].recurrence is None


def test_confirmed_and_inferred_counts_are_kept_apart():
    incidents = [_incident(pk, 400 - pk * 50) for pk in range(1, 5)]
    memberships = [
        _member(1),
        _member(2, confidence=0.95, confirmed=False),
        _member(3, confidence=0.7, confirmed=False),
        _member(4, confidence=0.3, confirmed=False),
    ]
    [cls] = _build(incidents, memberships).classes
    assert (cls.confirmed_count, cls.inferred_count, len(cls.uncertain)) == (1, 2, 1)


def test_a_postmortem_in_several_classes_counts_once_in_each_with_its_evidence():
    incidents = [_incident(1, 10)]
    memberships = [
        _member(1, "dns", 0.9, False, evidence="The resolver cached NXDOMAIN."),
        _member(1, "dns", 0.7, False, evidence="A weaker statement."),
        _member(1, "config", 0.8, False, evidence="The zone file lost its dot."),
    ]
    report = _build(incidents, memberships)
    evidence = {c.slug: [m.evidence for m in c.members] for c in report.classes}
    assert evidence == {
        "dns": ["The resolver cached NXDOMAIN."],
        "config": ["The zone file lost its dot."],
    }


def test_near_misses_feed_the_classes_and_are_counted_apart():
    incidents = [
        _incident(1, 300),
        _incident(2, 200, near_miss=True),
        _incident(3, 100, near_miss=True),
        _incident(4, 50),
    ]
    memberships = [_member(1), _member(2), _member(3)]
    report = _build(incidents, memberships, actions=[_done(10, 1, 250)])
    [cls] = report.classes
    assert (report.incidents, report.near_misses) == (4, 2)
    assert (cls.count, cls.near_misses) == (3, 2)
    assert cls.recurrence.near_misses_after == 2
    assert "(2 near misses)" in cls.recurrence_text


def test_factor_stats_count_kinds_by_team_and_quarter():
    at = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    factors = [
        FactorRow(1, "detection_gap", "No alert on expiry", "payments", at),
        FactorRow(2, "detection_gap", "no alert on  expiry", "identity", at),
        FactorRow(2, "process", "Manual renewal", "identity", NOW),
    ]
    report = _build([], [], factors=factors)
    stats = report.factors
    assert stats.total == 3
    assert stats.by_kind == [("detection_gap", 2), ("process", 1)]
    assert stats.by_team["identity"] == {"detection_gap": 1, "process": 1}
    assert stats.by_quarter["2026-Q1"] == {"detection_gap": 2}
    assert stats.top_detection_gaps == [("No alert on expiry", 2)]


def test_quarter_range_fills_empty_quarters():
    start = dt.datetime(2025, 11, 30, tzinfo=dt.UTC)
    end = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    assert quarter_range(start, end) == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]


def test_chart_starts_after_an_incident_imported_from_years_ago():
    """GIVEN one incident from 2015 and a dozen over the last year
    THEN the chart starts at the first of the recent ones, the old one is
    counted apart, and it does not stretch the rates' "before" period."""
    incidents = [_incident(0, 4000)] + [_incident(i, 30 * i) for i in range(1, 13)]
    report = _build(incidents, actions=[_done(10, 0, 3900)])
    assert report.quarters[0] == "2025-Q3"
    assert len(report.quarters) == 5
    assert (report.before_chart, report.before_chart_first) == (
        1,
        NOW - dt.timedelta(days=4000),
    )
    # The 2015 incident's done item cannot make a remediation in the window.
    assert report.classes[0].recurrence is None


@pytest.mark.parametrize(
    "days,first",
    [
        # Continuous data: the chart starts at the first incident.
        ((700, 600, 500, 400, 300), "2024-Q3"),
        # A lone early incident, then over a year of nothing: left out.
        ((2000, 300, 250, 200, 150, 100, 50, 40, 30, 20, 10), "2025-Q3"),
        # Half the data before the gap is history, not an outlier: kept.
        ((2000, 1990, 1980, 300, 200, 100), "2021-Q1"),
    ],
)
def test_chart_start_leaves_out_only_a_small_early_stretch(days, first):
    moments = [NOW - dt.timedelta(days=d) for d in days]
    assert quarter_range(chart_start(moments), NOW)[0] == first


def test_distributions_give_n_median_and_quartiles():
    d = distribution([60, 120, None, 180, 240, 6000])
    assert d.n == 5
    assert d.median == 180
    assert (d.p25, d.p75) == (120, 240)
    assert d.spread == 120
    assert distribution([None]).n == 0 and distribution([]).median is None


def test_class_and_team_durations_cover_counted_incidents_only():
    incidents = [
        _incident(1, 30, durations={"TTD": 60, "TTR": 3600}),
        _incident(2, 20, durations={"TTD": 180, "TTR": 7200}, team="identity"),
        _incident(3, 10, durations={"TTD": 6000, "TTR": None}),
    ]
    memberships = [_member(1), _member(2), _member(3, confidence=0.1, confirmed=False)]
    report = _build(incidents, memberships)
    [cls] = report.classes
    assert (cls.durations["TTD"].n, cls.durations["TTD"].median) == (2, 120)
    assert cls.durations["TTR"].n == 2 and cls.durations["TTA"].n == 0
    assert report.team_durations["payments"]["TTD"].n == 2
    assert report.team_durations["identity"]["TTR"].median == 7200


def test_a_class_recurring_only_on_uncertain_members_is_named_not_counted():
    incidents = [_incident(1, 300), _incident(2, 10)]
    memberships = [
        _member(1, "dns", 0.3, False),
        _member(2, "dns", 0.9, False, calibrated=False),
    ]
    report = _build(incidents, memberships)
    assert report.recurring == [] and report.came_back == []
    assert [c.slug for c in report.unconfirmed] == ["dns"]
