import pytest
from rest_framework.test import APIClient

from insights.models import InsightRun, RunStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(editor):
    client = APIClient()
    client.force_authenticate(editor)
    return client


def test_failure_classes_api_lists_the_taxonomy(api):
    response = api.get("/api/v1/failure-classes/")
    assert response.status_code == 200
    slugs = {row["slug"] for row in response.json()["results"]}
    assert {"certificate-expiry", "dns", "retry-storm"} <= slugs
    detail = api.get("/api/v1/failure-classes/dns/").json()
    assert detail["status"] == "accepted" and detail["origin"] == "taxonomy"


def test_insight_runs_api_starts_a_run_for_editors_only(
    api, viewer, fake_model, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/insight-runs/start/")
    assert response.status_code == 202
    run = InsightRun.objects.get(pk=response.json()["id"])
    assert run.status == RunStatus.SUCCEEDED
    listed = api.get("/api/v1/insight-runs/").json()["results"]
    assert listed[0]["id"] == run.pk
    other = APIClient()
    other.force_authenticate(viewer)
    assert other.post("/api/v1/insight-runs/start/").status_code == 403
    assert other.get("/api/v1/insight-runs/").status_code == 200
