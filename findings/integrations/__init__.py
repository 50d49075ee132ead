"""The alert integrations: one folder per tool (parser, ingest, view, schema), as
healthchecks keeps ``hc/integrations/<name>/``.

Each folder ``<name>/`` holds:

- ``parser.py``: pure, payload in, plain records out; raises ``PayloadInvalid``
  with per-field messages. Unknown extra fields are never an error; they stay in
  the raw payload.
- ``ingest.py``: the service that writes what was parsed, in one transaction.
- ``schema.py``: the serializers that document the payload (OpenAPI).
- ``views.py``: ``WebhookViewSet``, the thin endpoint.

``kb/urls.py`` routes ``/api/v1/integrations/<name>/`` to every folder found here
(``webhook_routes``): adding an integration is adding a folder.
"""

import importlib
import pkgutil
from collections.abc import Iterator


def names() -> list[str]:
    """The integrations, one per folder, in alphabetical order."""
    return sorted(
        module.name for module in pkgutil.iter_modules(__path__) if module.ispkg
    )


def webhook_routes() -> Iterator[tuple[str, type, str]]:
    """``(prefix, viewset, basename)`` of each integration's webhook."""
    for name in names():
        views = importlib.import_module(f"{__name__}.{name}.views")
        yield f"integrations/{name}", views.WebhookViewSet, f"integration-{name}"
