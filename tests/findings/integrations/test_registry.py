"""One folder per integration: each is complete and routed by being there."""

import importlib

import pytest
from django.urls import resolve

from findings import integrations

pytestmark = pytest.mark.django_db


def test_every_integration_folder_is_complete_and_routed(client):
    """GIVEN the folders in findings/integrations/
    THEN each has its parser, ingest, schema and view, and its webhook answers
    at /api/v1/integrations/<name>/ (asking for an API key)."""
    assert integrations.names() == ["alertmanager", "pagerduty", "robusta"]
    for name in integrations.names():
        for part in ("parser", "ingest", "schema", "views"):
            importlib.import_module(f"findings.integrations.{name}.{part}")
        views = importlib.import_module(f"findings.integrations.{name}.views")
        url = f"/api/v1/integrations/{name}/"
        assert resolve(url).func.cls is views.WebhookViewSet
        response = client.post(url, data="{}", content_type="application/json")
        assert response.status_code == 401, name
