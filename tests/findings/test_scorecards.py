"""Analyzer scorecards: the pure figures against a hand computation, and the page."""

import datetime as dt

import pytest

from findings.scorecards import (
    FindingFact,
    compute_scorecards,
    describe_lead,
)
from tests import factories

T = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def at(hour: int, minute: int) -> dt.datetime:
    return T.replace(hour=hour, minute=minute)


# Incident 1 detected 10:05, incident 2 at 12:00, incident 3 never detected.
DETECTED = {1: at(10, 5), 2: at(12, 0), 3: None}
# (analyzer, version, incident, has root cause, verdict, first seen)
ROWS = [
    ("tracer", "1.0", 1, True, "confirmed", at(10, 1)),
    ("tracer", "1.0", 1, True, "refuted", at(10, 3)),
    ("tracer", "1.0", 1, False, "", at(10, 20)),
    ("tracer", "1.0", 2, True, "partial", at(12, 10)),
    ("tracer", "1.0", 2, True, "", at(11, 58)),
    ("tracer", "1.0", 3, True, "confirmed", at(9, 0)),
    ("tracer", "2.0", 1, True, "confirmed", at(10, 9)),
    ("scanner", "0.9", 2, True, "refuted", at(12, 30)),
    ("scanner", "0.9", 2, True, "refuted", at(12, 31)),
    ("scanner", "0.9", 2, True, "partial", at(12, 40)),
]


def facts():
    return [
        FindingFact(
            analyzer=a,
            version=v,
            incident_id=i,
            has_root_cause=rc,
            verdict=verdict,
            first_seen_at=seen,
            detected_at=DETECTED[i],
        )
        for a, v, i, rc, verdict, seen in ROWS
    ]


def test_compute_scorecards_matches_a_hand_computation():
    """By hand:
    tracer 1.0: 6 findings on 3 incidents; 5 root causes, of which reviewed 4
      (2 confirmed, 1 partial, 1 refuted): 2 / 4 = 50 %. First findings: incident 1
      at 10:01 (detected 10:05: 4 min early), incident 2 at 11:58 (2 min early),
      incident 3 not detected (left out). Median of 240 s and 120 s = 180 s.
    tracer 2.0: 1 finding, confirmed: 100 %; 10:09 vs 10:05: 4 min late (-240 s).
    scanner 0.9: 3 findings, 0 confirmed of 3 reviewed: 0 %; 12:30 vs 12:00: -1800 s.
    """
    cards = {(c.analyzer, c.version): c for c in compute_scorecards(facts())}

    tracer = cards[("tracer", "1.0")]
    assert (tracer.findings, tracer.incidents) == (6, 3)
    assert tracer.root_cause_suggestions == 5
    assert (tracer.confirmed, tracer.partial, tracer.refuted) == (2, 1, 1)
    assert tracer.unreviewed == 1
    assert tracer.confirmed_share == 0.5
    assert tracer.median_lead_seconds == 180
    assert tracer.lead_samples == 2
    newer = cards[("tracer", "2.0")]
    assert newer.confirmed_share == 1.0
    assert newer.median_lead_seconds == -240
    scanner = cards[("scanner", "0.9")]
    assert scanner.confirmed_percent == 0
    assert scanner.median_lead_seconds == -1800
    assert list(cards) == [("scanner", "0.9"), ("tracer", "1.0"), ("tracer", "2.0")]


def test_compute_scorecards_without_reviews_has_no_share():
    card = compute_scorecards([FindingFact("x", "1", 1, True, "", at(10, 0), None)])[0]

    assert card.confirmed_share is None
    assert card.median_lead_seconds is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (180, "3 min before detection"),
        (-240, "4 min after detection"),
        (20, "at detection"),
        (-3 * 3600, "3.0 h after detection"),
        (None, "no detection time"),
    ],
)
def test_describe_lead(seconds, text):
    assert describe_lead(seconds) == text


@pytest.mark.django_db
def test_analyzer_scorecards_page_shows_the_hand_computed_figures(
    client, viewer, django_assert_max_num_queries
):
    incidents = {
        number: factories.IncidentFactory(
            detected_at=DETECTED[number], started_at=at(8, 0)
        )
        for number in DETECTED
    }
    for n, (analyzer, version, incident, rc, verdict, seen) in enumerate(ROWS):
        factories.FindingFactory(
            incident=incidents[incident],
            analyzer=analyzer,
            analyzer_version=version,
            fingerprint=f"f{n}",
            root_cause="Pool exhausted." if rc else "",
            verdict=verdict,
            first_seen_at=seen,
        )
    client.force_login(viewer)

    with django_assert_max_num_queries(6):
        response = client.get("/findings/analyzers/")

    assert response.status_code == 200
    rows = {
        (row["card"].analyzer, row["card"].version): row
        for row in response.context["rows"]
    }
    tracer = rows[("tracer", "1.0")]
    assert tracer["card"].confirmed_percent == 50
    assert tracer["lead"] == "3 min before detection"
    page = response.content.decode()
    assert "<strong>50%</strong>" in page
    assert "(2 of 4)" in page
    assert "3 min before detection" in page
    assert "30 min after detection" in page
    assert 'id="scorecard-data"' in page  # the chart's data, beside the table


@pytest.mark.django_db
def test_analyzer_scorecards_page_empty_state(client, viewer):
    client.force_login(viewer)

    response = client.get("/findings/analyzers/")

    assert "No findings yet." in response.content.decode()


@pytest.mark.django_db
def test_analyzer_scorecards_page_is_in_the_navigation(client, viewer):
    client.force_login(viewer)

    response = client.get("/incidents/")

    assert 'href="/findings/analyzers/"' in response.content.decode()
