import datetime as dt

import pytest
from django.urls import reverse

from actions.models import ActionItem, Status
from insights import services
from insights.models import FailureClass, InsightRun, RunKind, RunStatus
from postmortems.models import Role
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer_client(reviewer):
    from django.test import Client

    client = Client()
    client.force_login(reviewer)
    return client


@pytest.fixture
def recurred(make_postmortem, editor):
    """Two certificate expiries: the first one's fixes done, then it recurred."""
    cert = FailureClass.objects.get(slug="certificate-expiry")
    first = make_postmortem(
        "The TLS certificate expired.",
        days=200,
        severity="SEV1",
        factors=[("detection_gap", "No alert on certificate expiry")],
    )
    second = make_postmortem("The TLS certificate expired again.", days=10)
    for postmortem in (first, second):
        services.postmortem_class_confirm(
            postmortem=postmortem, failure_class=cert, user=editor
        )
    factories.ActionItemFactory(
        postmortem=first,
        title="Automate renewal",
        status=Status.DONE,
        completed_at=factories.BASE_TIME - dt.timedelta(days=150),
    )
    factories.ActionItemFactory(postmortem=second, title="Alert on expiry")
    return first, second


def test_report_page_shows_recurrence_loudly_with_dates(editor_client, recurred):
    response = editor_client.get(reverse("insights:report"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Recurred after remediation" in html
    done = (factories.BASE_TIME - dt.timedelta(days=150)).date().isoformat()
    again = (factories.BASE_TIME - dt.timedelta(days=10)).date().isoformat()
    assert done in html and again in html
    assert "Certificate expiry" in html
    assert 'id="quarter-chart-data"' in html and "quarter-table" in html
    assert "No alert on certificate expiry" in html  # detection gaps
    assert "score = " in html


def test_report_page_query_count_does_not_grow_with_postmortems(
    editor_client, make_postmortem, editor, django_assert_max_num_queries
):
    cert = FailureClass.objects.get(slug="certificate-expiry")
    for i in range(12):
        postmortem = make_postmortem(f"Certificate expired {i}", days=i * 20)
        services.postmortem_class_confirm(
            postmortem=postmortem, failure_class=cert, user=editor
        )
        factories.ActionItemFactory(postmortem=postmortem)
    with django_assert_max_num_queries(20):
        response = editor_client.get(reverse("insights:report"))
    assert response.status_code == 200


def test_report_markdown_and_print_exports(editor_client, recurred):
    response = editor_client.get(reverse("insights:report_markdown"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert text.startswith("# Hindsight insights report")
    assert "## ⚠ Recurred after remediation" in text
    assert "| 1 | Certificate expiry |" in text
    page = editor_client.get(reverse("insights:report_print"))
    assert page.status_code == 200 and b"Insights report" in page.content


def test_run_start_returns_progress_that_polls_until_finished(
    editor_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = editor_client.post(
            reverse("insights:run_start"), HTTP_HX_REQUEST="true"
        )
    html = response.content.decode()
    run = InsightRun.objects.get()
    assert run.status == RunStatus.PENDING
    assert f"/insights/runs/{run.pk}/progress/" in html and "every 1s" in html
    InsightRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, progress=100
    )
    done = editor_client.get(reverse("insights:run_progress", args=[run.pk]))
    assert b"every 1s" not in done.content and b"run-done" in done.content


def test_run_start_needs_an_editor(client, viewer):
    client.force_login(viewer)
    response = client.post(reverse("insights:run_start"))
    assert response.status_code == 403
    assert not InsightRun.objects.exists()


def test_class_detail_lists_incidents_action_items_and_recurrence(
    editor_client, recurred
):
    response = editor_client.get(
        reverse("insights:class_detail", args=["certificate-expiry"])
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Automate renewal" in html and "Alert on expiry" in html
    assert "Recurred after remediation" in html
    assert "Services hit" in html and "Teams hit" in html


def test_class_curation_views_need_a_reviewer(editor_client, reviewer_client):
    url = reverse("insights:class_rename", args=["dns"])
    assert editor_client.post(url, {"name": "Name resolution"}).status_code == 403
    response = reviewer_client.post(url, {"name": "Name resolution"})
    assert response.status_code == 302
    assert FailureClass.objects.get(slug="dns").name == "Name resolution"


def test_postmortem_confirm_view_records_the_person(
    editor_client, editor, make_postmortem
):
    postmortem = make_postmortem("The resolver returned NXDOMAIN.")
    response = editor_client.post(
        reverse("insights:postmortem_confirm", args=[postmortem.pk]),
        {"failure_class": "dns", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("insights:class_detail", args=["dns"])
    row = postmortem.classification
    assert row.failure_class.slug == "dns" and row.confirmed_by == editor


def test_similar_incidents_include_renders_scores_and_open_items(
    rf, fake_model, corpus_postmortems, editor
):
    from django.template import Context, Template

    run = InsightRun.objects.create(kind=RunKind.FULL)
    services.insight_run_execute(run_id=run.pk)
    target = corpus_postmortems["cert"][1]
    factories.ActionItemFactory(postmortem=target, title="Automate the renewal")
    request = rf.get("/")
    request.user = editor
    editor.profile.role = Role.ADMIN
    editor.profile.save()
    html = Template(
        "{% load insights_tags %}{% similar_incidents pm %}{% postmortem_class pm %}"
    ).render(Context({"pm": corpus_postmortems["cert"][0], "request": request}))
    assert "Similar incidents" in html and "Automate the renewal" in html
    assert html.count("<li>") >= 5
    assert "Certificate expiry" in html  # its class, with the confirm form
    assert ActionItem.objects.count() == 1


def test_incident_page_shows_class_and_similar_incidents(
    client, admin_user, fake_model, corpus_postmortems
):
    run = InsightRun.objects.create(kind=RunKind.FULL)
    services.insight_run_execute(run_id=run.pk)
    client.force_login(admin_user)
    postmortem = corpus_postmortems["cert"][0]
    url = reverse("postmortems:incident_detail", args=[postmortem.incident_id])
    html = client.get(url).content.decode()
    assert "Similar incidents" in html and "Failure class" in html
    assert corpus_postmortems["cert"][1].get_absolute_url() in html


def test_class_examples_ship_show_edit_and_teach_the_next_run(
    reviewer_client, client, admin_user, fake_model, corpus_postmortems
):
    """GIVEN the starter taxonomy's example statements
    THEN every starter class has them, the class page and the API show them,
    a reviewer can rewrite them (one per line; blank and repeated lines
    dropped), and saving them queues a run that recomputes instead of
    skipping; saving them unchanged queues none."""
    from insights.taxonomy import load_taxonomy

    shipped = {e["slug"]: e["examples"] for e in load_taxonomy()}
    stored = dict(FailureClass.objects.values_list("slug", "examples"))
    assert all(len(shipped[slug]) >= 5 for slug in shipped)
    assert {slug: stored[slug] for slug in shipped} == shipped

    url = reverse("insights:class_detail", args=["dns"])
    html = reviewer_client.get(url).content.decode()
    assert "How postmortems in this class tend to read" in html
    assert shipped["dns"][0] in html

    client.force_login(admin_user)
    api = client.get("/api/v1/failure-classes/dns/").json()
    assert api["examples"] == shipped["dns"]

    first = InsightRun.objects.create(kind=RunKind.FULL)
    services.insight_run_execute(run_id=first.pk)
    response = reviewer_client.post(
        reverse("insights:class_rename", args=["dns"]),
        {
            "name": "DNS",
            "description": FailureClass.objects.get(slug="dns").description,
            "examples": "  Resolver cache kept a stale NXDOMAIN.\n\n"
            "Resolver cache kept a stale NXDOMAIN.\r\nA zone lost its NS records.",
        },
    )
    assert response.status_code == 302
    assert FailureClass.objects.get(slug="dns").examples == [
        "Resolver cache kept a stale NXDOMAIN.",
        "A zone lost its NS records.",
    ]
    # The save queued a full run, which recomputes rather than skips.
    queued = InsightRun.objects.get(status=RunStatus.PENDING)
    assert services.insight_run_execute(run_id=queued.pk) == RunStatus.SUCCEEDED
    # Saving the same name, description and examples changes nothing the
    # classifier reads: no run.
    dns = FailureClass.objects.get(slug="dns")
    reviewer_client.post(
        reverse("insights:class_rename", args=["dns"]),
        {
            "name": dns.name,
            "description": dns.description,
            "examples": "\n".join(dns.examples),
        },
    )
    assert not InsightRun.objects.filter(status=RunStatus.PENDING).exists()


def test_merging_a_class_keeps_its_examples_teaching(reviewer_client):
    """The merged class's example statements move to the class that absorbed
    it, without repeats, so the classifier still learns what it looked like."""
    source = FailureClass.objects.get(slug="dns")
    target = FailureClass.objects.get(slug="network")
    shared = "A resolver change dropped traffic between zones."
    source.examples = [*source.examples, shared]
    source.save()
    target.examples = [*target.examples, shared]
    target.save()
    before = list(target.examples)
    response = reviewer_client.post(
        reverse("insights:class_merge", args=["dns"]), {"target": "network"}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.examples == before + source.examples[:-1]
    assert target.examples.count(shared) == 1


@pytest.mark.parametrize("value", ["One statement.", [1, 2], {"a": "b"}])
def test_class_examples_must_be_a_list_of_texts(db, value):
    """The admin (and any form) refuses examples that are not texts, with a
    message that shows the shape wanted."""
    from django.core.exceptions import ValidationError

    failure_class = FailureClass.objects.get(slug="dns")
    failure_class.examples = value
    with pytest.raises(ValidationError, match="list of texts"):
        failure_class.full_clean()


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ("\n".join(f"Example number {n}." for n in range(51)), "at most 50 examples"),
        ("x" * 2001, "at most 2000 characters"),
    ],
)
def test_class_examples_beyond_the_limits_are_refused_and_nothing_saved(
    reviewer_client, examples, message
):
    """Every example is embedded and trained on in every run: a save beyond
    the limits is refused with the reason, and the class keeps what it had."""
    before = FailureClass.objects.get(slug="dns")
    response = reviewer_client.post(
        reverse("insights:class_rename", args=["dns"]),
        {"name": "Renamed", "examples": examples},
        follow=True,
    )
    assert message in response.content.decode()
    after = FailureClass.objects.get(slug="dns")
    assert (after.name, after.examples) == (before.name, before.examples)
