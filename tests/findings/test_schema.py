"""The OpenAPI schema documents every findings endpoint with its error responses."""

import pytest
from drf_spectacular.generators import SchemaGenerator

EXPECTED = {
    ("/api/v1/findings/", "post"): {
        "200",
        "201",
        "400",
        "401",
        "403",
        "406",
        "413",
        "415",
        "422",
        "429",
    },
    ("/api/v1/findings/", "get"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "406",
        "422",
        "429",
    },
    ("/api/v1/findings/{id}/", "get"): {"200", "401", "403", "404", "406", "429"},
    ("/api/v1/integrations/alertmanager/", "post"): {
        "200",
        "400",
        "401",
        "403",
        "406",
        "413",
        "415",
        "422",
        "429",
    },
    ("/api/v1/integrations/pagerduty/", "post"): {
        "200",
        "202",
        "400",
        "401",
        "403",
        "406",
        "413",
        "415",
        "422",
        "429",
    },
    ("/api/v1/integrations/robusta/", "post"): {
        "200",
        "400",
        "401",
        "403",
        "406",
        "413",
        "415",
        "422",
        "429",
    },
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize(("path", "method"), sorted(EXPECTED))
def test_schema_documents_the_endpoint_and_its_errors(schema, path, method):
    operation = schema["paths"][path][method]

    assert set(operation["responses"]) == EXPECTED[(path, method)]
    assert operation["summary"]
    assert {"ApiKeyAuth": []} in operation["security"]


def test_schema_documents_the_request_shapes(schema):
    components = schema["components"]["schemas"]
    batch = components["FindingOrBatch"]
    assert {ref["$ref"] for ref in batch["oneOf"]} == {
        "#/components/schemas/FindingInput",
        "#/components/schemas/FindingBatchInput",
    }
    assert components["FindingBatchInput"]["properties"]["findings"]["maxItems"] == 1000
    assert "groupKey" in components["AlertmanagerWebhook"]["properties"]
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"]["name"] == (
        "Authorization"
    )


def test_schema_generates_without_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
