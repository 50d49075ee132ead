"""The statement that put a postmortem in a class, shown where the class is; and
"confirm these next" with what each confirmation changed."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from actions.models import Status
from insights import services
from insights.models import (
    CauseStatement,
    ClassificationSource,
    ConfirmationEffect,
    FailureClass,
    InsightRun,
    RunKind,
    RunStatus,
)
from tests import factories

pytestmark = pytest.mark.django_db

EVIDENCE = "The partner CA rotated its intermediate and nobody watched its expiry."
QUESTION = "The resolver kept a negative answer for an hour after the fix."


@pytest.fixture
def cert():
    return FailureClass.objects.get(slug="certificate-expiry")


@pytest.fixture
def dns():
    return FailureClass.objects.get(slug="dns")


def _last_run(*kinds: str) -> InsightRun:
    """A finished full run that validated its classifier on these statement
    kinds (threshold 0.5)."""
    return InsightRun.objects.create(
        kind=RunKind.FULL,
        status=RunStatus.SUCCEEDED,
        finished_at=factories.BASE_TIME,
        abstain_threshold=0.5,
        validation={"statement_kinds": list(kinds)},
    )


@pytest.fixture
def classified(make_postmortem, editor, cert, dns):
    """Two confirmed expiries whose fixes were done; a third put in the class by
    its trigger (inferred, 0.9; the last run validated triggers); a fourth the
    classifier hesitates over."""
    _last_run("root_cause", "trigger")
    first, second = _confirmed_and_remediated(
        make_postmortem,
        cert,
        editor,
        [
            ("The TLS certificate expired.", 200),
            ("The TLS certificate expired again.", 190),
        ],
    )
    third = make_postmortem("Partner integrations broke.", days=10)
    _inferred(third, cert, key="trigger", kind="trigger")
    fourth = make_postmortem("Lookups failed after the zone change.", days=5)
    CauseStatement.objects.create(
        postmortem=fourth,
        key="root_cause",
        kind="root_cause",
        text=QUESTION,
        text_hash="q",
        failure_class=None,
        abstained=True,
        best_guess=cert,
        runner_up=dns,
        confidence=0.41,
        margin=0.02,
        teach_score=0.8,
        source=ClassificationSource.NONE,
    )
    return first, second, third, fourth


def _html(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _confirmed_and_remediated(make_postmortem, failure_class, user, texts_days):
    """Postmortems a person confirmed in ``failure_class`` whose action items were
    all done 150 days before the corpus's base time."""
    made = []
    for text, days in texts_days:
        postmortem = make_postmortem(text, days=days)
        services.postmortem_class_confirm(
            postmortem=postmortem, failure_class=failure_class, user=user, retrain=False
        )
        factories.ActionItemFactory(
            postmortem=postmortem,
            status=Status.DONE,
            completed_at=factories.BASE_TIME - dt.timedelta(days=150),
        )
        made.append(postmortem)
    return made


def _inferred(postmortem, failure_class, *, key: str, kind: str) -> None:
    """One statement the classifier put in ``failure_class`` at 0.9."""
    CauseStatement.objects.create(
        postmortem=postmortem,
        key=key,
        kind=kind,
        text=EVIDENCE,
        text_hash=key[0],
        failure_class=failure_class,
        confidence=0.9,
        source=ClassificationSource.CLASSIFIER,
    )


@pytest.mark.parametrize(
    "url",
    [
        reverse("insights:report"),
        reverse("insights:report_print"),
        reverse("insights:report_markdown"),
        reverse("insights:class_detail", args=["certificate-expiry"]),
    ],
)
def test_the_statement_that_put_a_postmortem_in_a_class_is_shown(
    editor_client, classified, url
):
    """GIVEN a postmortem in a class through its trigger, after remediation
    THEN the report (page, print, Markdown) and the class page quote it."""
    html = _html(editor_client, url)
    assert EVIDENCE in html
    assert "trigger" in html.lower()


def test_the_postmortem_page_shows_each_class_with_its_evidence(
    editor_client, classified
):
    third = classified[2]
    html = _html(editor_client, third.get_absolute_url())
    assert "Certificate expiry" in html and EVIDENCE in html
    assert "inferred 0.90" in html


@pytest.mark.parametrize(
    "url",
    [
        reverse("insights:report"),
        reverse("insights:class_detail", args=["certificate-expiry"]),
        reverse("insights:class_detail", args=["dns"]),
    ],
)
def test_confirm_these_next_offers_the_uncertain_statement(
    editor_client, classified, url
):
    html = _html(editor_client, url)
    section = html.split('id="confirm-next"', 1)[1]
    assert QUESTION in section
    assert "Best guess <strong>Certificate expiry</strong> (0.41)" in section
    assert "<strong>DNS</strong>" in section
    fourth = classified[3]
    action = reverse("insights:statement_confirm", args=[fourth.pk, "root_cause"])
    assert f'action="{action}"' in section


def test_confirm_these_next_is_read_only_for_viewers(viewer, classified):
    client = Client()
    client.force_login(viewer)
    section = _html(client, reverse("insights:report")).split('id="confirm-next"')[1]
    assert QUESTION in section and "statements/root_cause/confirm" not in section
    fourth = classified[3]
    url = reverse("insights:statement_confirm", args=[fourth.pk, "root_cause"])
    assert client.post(url, {"failure_class": "dns"}).status_code == 403
    assert not CauseStatement.objects.get(postmortem=fourth).is_confirmed


def test_confirming_a_statement_records_it_and_later_what_it_changed(
    editor_client, editor, classified, dns, django_capture_on_commit_callbacks
):
    """GIVEN the uncertain statement
    WHEN an editor confirms it as DNS
    THEN it is confirmed, leaves the list, and the table says the run is awaited;
    once the run has counted, the table says how many classifications moved."""
    fourth = classified[3]
    url = reverse("insights:statement_confirm", args=[fourth.pk, "root_cause"])
    with django_capture_on_commit_callbacks():
        response = editor_client.post(
            url, {"failure_class": "dns", "next": reverse("insights:report")}
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("insights:report")
    statement = CauseStatement.objects.get(postmortem=fourth)
    assert statement.is_confirmed and statement.failure_class == dns
    assert statement.confirmed_by == editor

    section = _html(editor_client, reverse("insights:report")).split(
        'id="confirm-next"'
    )[1]
    assert QUESTION not in section.split("What recent confirmations changed")[0]
    assert "waiting for the next run" in section

    ConfirmationEffect.objects.filter(postmortem=fourth).update(
        changed=3, changed_postmortems=2
    )
    section = _html(editor_client, reverse("insights:report")).split(
        'id="confirm-next"'
    )[1]
    assert "<strong>3</strong> statements, 2 postmortems" in section


@pytest.mark.parametrize(
    "key,cls,status",
    [("root_cause", "no-such-class", 404), ("factor:999", "dns", 404)],
)
def test_confirming_refuses_an_unknown_class_or_statement(
    editor_client, classified, key, cls, status
):
    fourth = classified[3]
    url = reverse("insights:statement_confirm", args=[fourth.pk, key])
    assert editor_client.post(url, {"failure_class": cls}).status_code == status
    assert not CauseStatement.objects.get(postmortem=fourth).is_confirmed


def test_a_factor_of_a_kind_never_validated_is_listed_not_counted(
    editor_client, make_postmortem, editor, cert
):
    """GIVEN two confirmed expiries whose fixes were done, and a later
    postmortem put in the class only by a contributing factor (inferred, 0.9)
    WHEN the last run validated its classifier on root causes only
    THEN the class page lists the factor as uncertain, and the class did not
    come back after remediation on its strength."""
    _last_run("root_cause")
    _confirmed_and_remediated(
        make_postmortem,
        cert,
        editor,
        [("The TLS certificate expired.", 200), ("The TLS certificate expired.", 190)],
    )
    later = make_postmortem("Partner integrations broke.", days=10)
    _inferred(later, cert, key="factor:1", kind="factor")

    html = _html(editor_client, reverse("insights:class_detail", args=[cert.slug]))

    assert EVIDENCE in html
    assert "uncertain" in html and "inferred 0.90" not in html
    assert "No incident since remediation" in html
    assert "Recurred after remediation" not in html
