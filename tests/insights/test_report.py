import datetime as dt

import pytest

from insights.report import (
    ActionRow,
    ClassInfo,
    FactorRow,
    IncidentRow,
    build_report,
    class_score,
    find_recurrences,
    quarter_range,
)

NOW = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)


def _incident(pk, days_ago, slug="certificate-expiry", severity="SEV2", **kw):
    return IncidentRow(
        postmortem_id=pk,
        incident_id=pk,
        title=f"Incident {pk}",
        started_at=NOW - dt.timedelta(days=days_ago),
        severity=severity,
        team=kw.pop("team", "payments"),
        services=kw.pop("services", ("checkout",)),
        class_slug=slug,
        **kw,
    )


def _done(pk, postmortem, days_ago):
    return ActionRow(
        id=pk,
        postmortem_id=postmortem,
        title=f"Fix {pk}",
        status="done",
        completed_at=NOW - dt.timedelta(days=days_ago),
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
        _incident(1, 10, slug="dns", severity="SEV3"),
        _incident(2, 20, slug="dns", severity="SEV3"),
        _incident(3, 30, slug="dns", severity="SEV3"),
        _incident(4, 5, slug="network", severity="SEV0"),
        _incident(5, 400, slug="network", severity="SEV1"),
        _incident(6, 1, slug=None),
    ]
    report = build_report(
        incidents=incidents,
        actions=[],
        factors=[],
        classes=[ClassInfo("dns", "DNS"), ClassInfo("network", "Network")],
        now=NOW,
    )
    assert [c.slug for c in report.classes] == ["network", "dns"]
    assert report.classes[1].name == "DNS" and report.classes[1].count == 3
    assert report.unclassified == 1
    assert [c.slug for c in report.recurring] == ["network", "dns"]
    assert sum(report.classes[1].quarters.values()) == 3
    assert report.quarters[0] == "2025-Q2" and report.quarters[-1] == "2026-Q3"


def test_find_recurrences_after_every_action_item_was_done():
    """GIVEN a certificate expiry whose two action items were both done
    WHEN the certificate expires again after the last one was completed
    THEN that incident recurred after remediation, with the completion date."""
    first, second = _incident(1, 300), _incident(2, 10)
    actions = {1: [_done(10, 1, 250), _done(11, 1, 200)]}
    [recurrence] = find_recurrences(
        "certificate-expiry", "Cert", [second, first], actions
    )
    assert recurrence.incident == second
    assert recurrence.remediated_at == NOW - dt.timedelta(days=200)
    assert (recurrence.earlier_incidents, recurrence.done_items) == (1, 2)


def test_find_recurrences_needs_all_items_done_before_the_incident():
    first, second = _incident(1, 300), _incident(2, 10)
    still_open = ActionRow(id=12, postmortem_id=1, title="Automate", status="open")
    assert (
        find_recurrences(
            "c", "C", [first, second], {1: [_done(10, 1, 250), still_open]}
        )
        == []
    )
    # Done, but only after the second incident had started.
    assert find_recurrences("c", "C", [first, second], {1: [_done(10, 1, 5)]}) == []
    # No action items at all: nothing was remediated.
    assert find_recurrences("c", "C", [first, second], {}) == []
    # Won't-do items are not remediation, and do not block it either.
    wont = ActionRow(id=13, postmortem_id=1, title="Rewrite", status="wont_do")
    assert (
        len(find_recurrences("c", "C", [first, second], {1: [_done(10, 1, 250), wont]}))
        == 1
    )


def test_build_report_lists_impact_services_teams_and_action_status():
    incidents = [
        _incident(1, 300, users_affected=100, revenue_usd=10.5, services=("a", "b")),
        _incident(2, 10, users_affected=50, team="identity", services=("a",)),
    ]
    actions = [
        _done(10, 1, 200),
        ActionRow(id=11, postmortem_id=2, title="x", status="open"),
    ]
    report = build_report(
        incidents=incidents, actions=actions, factors=[], classes=[], now=NOW
    )
    [cls] = report.classes
    assert cls.impact["users_affected"] == 150 and cls.impact["revenue_usd"] == 10.5
    assert cls.services == [("a", 2), ("b", 1)]
    assert cls.teams == [("identity", 1), ("payments", 1)]
    assert cls.action_status == {"done": 1, "open": 1}
    assert [r.incident.postmortem_id for r in report.recurred_after_remediation] == [2]


def test_factor_stats_count_kinds_by_team_and_quarter():
    at = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    factors = [
        FactorRow(1, "detection_gap", "No alert on expiry", "payments", at),
        FactorRow(2, "detection_gap", "no alert on  expiry", "identity", at),
        FactorRow(2, "process", "Manual renewal", "identity", NOW),
    ]
    report = build_report(
        incidents=[], actions=[], factors=factors, classes=[], now=NOW
    )
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


def test_recurred_classes_keep_one_line_per_class_with_the_latest():
    incidents = [
        _incident(1, 300),
        _incident(2, 100),
        _incident(3, 10, class_confirmed=True),
    ]
    actions = [_done(10, 1, 250), _done(11, 2, 50)]
    report = build_report(
        incidents=incidents, actions=actions, factors=[], classes=[], now=NOW
    )
    assert len(report.recurred_after_remediation) == 2
    [line] = report.recurred_classes
    assert (line.times, line.latest.incident.postmortem_id) == (2, 3)
    assert line.latest.confirmed
