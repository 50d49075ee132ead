"""Sweeps over every surface that shows a class: confirmed versus inferred, the
"recurred after remediation" headline, raw values in words, the chart's start and
response-time distributions, on the page, its print version, the Markdown export,
the class page, the postmortem page, similar-incident lists and the API."""

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from actions.models import Status
from insights import services
from insights.models import (
    ClassificationSource,
    FailureClass,
    PostmortemClassification,
    SimilarPostmortem,
)
from tests import factories

pytestmark = pytest.mark.django_db

KINDS = {
    # kind: (source, confidence)
    "confirmed": (ClassificationSource.CONFIRMED, 1.0),
    "inferred": (ClassificationSource.CLASSIFIER, 0.9),
    "uncertain": (ClassificationSource.CLASSIFIER, 0.2),
    # Clustering's confidence is a similarity, not a calibrated probability.
    "clustered": (ClassificationSource.CLUSTER, 0.9),
}


def _classify(postmortem, failure_class, kind, user):
    source, confidence = KINDS[kind]
    if source == ClassificationSource.CONFIRMED:
        services.postmortem_class_confirm(
            postmortem=postmortem, failure_class=failure_class, user=user
        )
        return
    PostmortemClassification.objects.update_or_create(
        postmortem=postmortem,
        defaults={
            "failure_class": failure_class,
            "source": source,
            "confidence": confidence,
        },
    )


@pytest.fixture
def cert():
    return FailureClass.objects.get(slug="certificate-expiry")


@pytest.fixture
def scenario(make_postmortem, editor, cert):
    """Two confirmed certificate expiries whose fixes were done, then a third one
    whose class is confirmed, inferred or uncertain."""

    def _make(kind):
        first = make_postmortem("The TLS certificate expired.", days=200)
        second = make_postmortem("The TLS certificate expired again.", days=190)
        third = make_postmortem("A certificate lapsed on the partner API.", days=10)
        for postmortem in (first, second):
            _classify(postmortem, cert, "confirmed", editor)
        _classify(third, cert, kind, editor)
        for postmortem in (first, second):
            factories.ActionItemFactory(
                postmortem=postmortem,
                status=Status.DONE,
                completed_at=factories.BASE_TIME - dt.timedelta(days=150),
            )
        SimilarPostmortem.objects.create(
            postmortem=first, similar=third, score=0.8, rank=1
        )
        return first, second, third

    return _make


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _surfaces(client, first, third, cert):
    """Every page and export that shows the class, by name."""
    return {
        "report": _get(client, reverse("insights:report")),
        "print": _get(client, reverse("insights:report_print")),
        "markdown": _get(client, reverse("insights:report_markdown")),
        "class page": _get(client, reverse("insights:class_detail", args=[cert.slug])),
        "postmortem page": _get(client, third.get_absolute_url()),
        "similar incidents": _get(client, first.get_absolute_url()),
        "postmortem export": _get(
            client, reverse("postmortems:postmortem_export_markdown", args=[third.pk])
        ),
    }


HEADLINE = {
    "report": 'class="callout callout-bad recurred"',
    "print": 'class="callout callout-bad recurred"',
    "markdown": "Recurred after remediation",
    "class page": 'class="callout callout-bad recurred"',
}


@pytest.mark.parametrize("surface", sorted(HEADLINE))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_recurred_headline_never_rests_on_an_uncertain_class(
    editor_client, scenario, cert, kind, surface
):
    """GIVEN two confirmed incidents whose fixes were done, then a third one
    WHEN the third's class is only inferred below the confidence threshold
    THEN no surface says the class recurred after remediation."""
    first, _, third = scenario(kind)
    html = _surfaces(editor_client, first, third, cert)[surface]
    assert (HEADLINE[surface] in html) is (kind in ("confirmed", "inferred"))


# What each surface shows for the third postmortem, by how it is classified.
MARKS = {
    "report": {
        "confirmed": ["3 confirmed"],
        "inferred": ["2 confirmed", "1 inferred", "inferred 0.90"],
        "uncertain": ["2 confirmed", "1 uncertain"],
        "clustered": ["2 confirmed", "1 uncertain"],
    },
    "print": {
        "confirmed": ["3 confirmed"],
        "inferred": ["2 confirmed", "1 inferred", "inferred 0.90"],
        "uncertain": ["2 confirmed", "1 uncertain"],
        "clustered": ["2 confirmed", "1 uncertain"],
    },
    "markdown": {
        "confirmed": ["| 3 | 0 | 0 |", "confirmed"],
        "inferred": ["| 2 | 1 | 0 |", "inferred, confidence 0.90"],
        "uncertain": ["| 2 | 0 | 1 |"],
        "clustered": ["| 2 | 0 | 1 |"],
    },
    "class page": {
        "confirmed": ["badge-confirmed"],
        "inferred": ["inferred 0.90"],
        "uncertain": ["uncertain 0.20"],
        "clustered": ["uncertain: similarity 0.90"],
    },
    "postmortem page": {
        "confirmed": ["badge-confirmed"],
        "inferred": ["inferred 0.90"],
        "uncertain": ["uncertain 0.20", "not counted on the report"],
        "clustered": ["uncertain: similarity 0.90", "Grouped by similarity"],
    },
    "similar incidents": {
        "confirmed": ["badge-confirmed"],
        "inferred": ["inferred 0.90"],
        "uncertain": ["uncertain 0.20"],
        "clustered": ["uncertain: similarity 0.90"],
    },
    # Importing the file back records its class as a person's choice: only a
    # confirmed class may leave in it.
    "postmortem export": {
        "confirmed": ["root_cause_class: certificate-expiry"],
        "inferred": ["root_cause_class: null"],
        "uncertain": ["root_cause_class: null"],
        "clustered": ["root_cause_class: null"],
    },
}


@pytest.mark.parametrize("surface", sorted(MARKS))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_surface_tells_confirmed_from_inferred(
    editor_client, scenario, cert, kind, surface
):
    first, _, third = scenario(kind)
    html = _surfaces(editor_client, first, third, cert)[surface]
    for mark in MARKS[surface][kind]:
        assert mark in html, (surface, kind, mark)
    if kind != "confirmed" and surface == "postmortem page":
        assert "badge-confirmed" not in html


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_api_tells_confirmed_from_inferred(editor, scenario, cert, kind):
    _, _, third = scenario(kind)
    api = APIClient()
    api.force_authenticate(editor)
    response = api.get("/api/v1/class-memberships/", {"postmortem": third.pk})
    assert response.status_code == 200
    [row] = response.json()
    source, confidence = KINDS[kind]
    assert row["failure_class"] == cert.slug
    assert row["confirmed"] is (kind == "confirmed")
    assert row["confidence"] == confidence
    assert row["counted"] is (kind in ("confirmed", "inferred"))
    assert row["calibrated"] is (kind != "clustered")
    assert row["threshold"] == 0.5


def test_api_memberships_refuse_a_bad_filter_and_hide_unreadable_postmortems(
    editor, scenario, other_team
):
    scenario("inferred")
    api = APIClient()
    api.force_authenticate(editor)
    bad = api.get("/api/v1/class-memberships/", {"postmortem": "x"})
    assert bad.status_code == 400 and "postmortem" in bad.content.decode()
    outsider = factories.UserFactory(username="outsider", teams=[other_team])
    api.force_authenticate(outsider)
    listed = api.get("/api/v1/class-memberships/").json()
    readable = api.get("/api/v1/postmortems/").json()["count"]
    assert len(listed) <= readable
    assert APIClient().get("/api/v1/class-memberships/").status_code in (401, 403)


@pytest.fixture
def worded(make_postmortem, editor, cert):
    """A class with 951,100 users affected and an action item in progress."""
    first = make_postmortem(
        "The TLS certificate expired.",
        days=200,
        factors=[("detection_gap", "No alert on certificate expiry")],
    )
    second = make_postmortem("The TLS certificate expired again.", days=10)
    first.impact_users_affected = 951_000
    second.impact_users_affected = 100
    for postmortem in (first, second):
        postmortem.save()
        _classify(postmortem, cert, "confirmed", editor)
    factories.ActionItemFactory(postmortem=second, status=Status.IN_PROGRESS)
    return first, second


@pytest.mark.parametrize(
    "surface,words",
    [
        ("report", ["951,100 users", "in progress: 1", "Detection gap"]),
        ("print", ["951,100 users", "in progress: 1", "Detection gap"]),
        ("markdown", ["951,100 users", "in progress: 1", "Detection gap"]),
        ("class page", ["951,100", "In progress"]),
    ],
)
def test_raw_values_are_shown_in_words(editor_client, worded, cert, surface, words):
    first, second = worded
    html = _surfaces(editor_client, first, second, cert)[surface]
    for word in words:
        assert word in html, (surface, word)
    for raw in ("in_progress", "detection_gap", "951100"):
        assert raw not in html.replace('value="in_progress"', ""), (surface, raw)


@pytest.mark.parametrize("surface", ["report", "print", "markdown", "class page"])
def test_chart_starts_at_the_first_quarter_that_matters(
    editor_client, make_postmortem, editor, cert, surface
):
    """GIVEN a postmortem imported from 2015 and recent ones
    THEN no surface's quarterly chart or table starts in 2015."""
    old = make_postmortem("Certificate expired in 2015.", days=4000)
    recent = [
        make_postmortem(f"Certificate expired again {i}.", days=20 * i)
        for i in range(1, 8)
    ]
    for postmortem in (old, *recent):
        _classify(postmortem, cert, "confirmed", editor)
    html = _surfaces(editor_client, old, recent[0], cert)[surface]
    assert "2015-Q" not in html and "2016-Q" not in html
    assert "2025-Q4" in html
    if surface != "class page":
        assert "1 earlier incident (from 2015-" in html


@pytest.mark.parametrize("surface", ["report", "print", "markdown", "class page"])
def test_response_times_are_distributions_with_their_sample_size(
    editor_client, scenario, cert, surface
):
    first, _, third = scenario("confirmed")
    html = _surfaces(editor_client, first, third, cert)[surface]
    # The factory's lifecycle: detected after 5 min, acknowledged 4 min later,
    # mitigated after 40 min, resolved after 2 h, for all three incidents.
    for median in ("5 min", "4 min", "40 min", "2.0 h"):
        assert median in html, (surface, median)
    assert ("n=3" in html) or (">3</td></tr>" in html)
    assert "mean" not in html.lower().replace("a mean of a few", "")
