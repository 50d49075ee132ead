import pytest

from insights.models import InsightRun, PostmortemClassification, RunKind, RunStatus
from postmortems.services.postmortems import PostmortemContent, postmortem_update

pytestmark = pytest.mark.django_db


def test_postmortem_update_classifies_the_edited_postmortem_after_commit(
    fake_model, make_postmortem, admin_user, django_capture_on_commit_callbacks
):
    postmortem = make_postmortem("Placeholder.")
    content = PostmortemContent(
        sections={"root_cause": "The TLS certificate expired; renewal was manual."}
    )
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_update(
            postmortem=postmortem,
            actor=admin_user,
            base_version=postmortem.version,
            content=content,
        )
    run = InsightRun.objects.get(kind=RunKind.SINGLE)
    assert run.status == RunStatus.SUCCEEDED and run.postmortem_id == postmortem.pk
    row = PostmortemClassification.objects.get(postmortem=postmortem)
    assert row.failure_class.slug == "certificate-expiry"

    # Saving again without touching what insights reads queues nothing.
    postmortem.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        postmortem_update(
            postmortem=postmortem,
            actor=admin_user,
            base_version=postmortem.version,
            content=content,
        )
    assert InsightRun.objects.count() == 1
