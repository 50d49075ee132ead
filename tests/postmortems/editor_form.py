"""The editor's lists as the page posts them: Django formsets."""

from tests.reliability.web import form_fields


def formset(prefix: str, rows: list[dict], *, initial: int = 0) -> dict:
    """Formset ``prefix`` with ``rows`` (the first ``initial`` are saved rows)."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for number, row in enumerate(rows):
        for name, value in row.items():
            data[f"{prefix}-{number}-{name}"] = value
    return data


def editor_fields(html: str) -> dict[str, list[str]]:
    """The editor form in ``html`` as the browser would submit it."""
    data: dict[str, list[str]] = {}
    for name, value in form_fields(html, "postmortem-form"):
        data.setdefault(name, []).append(value)
    return data


def page_fields(client, url: str) -> dict[str, list[str]]:
    """The editor form as the browser holds it after opening ``url``."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return editor_fields(response.content.decode())
