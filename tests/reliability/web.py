"""What people and analyzers do over HTTP, for the fault tests and the load test.

Works with any ``requests.Session``-like client (locust's ``HttpUser.client`` is
one): sign in through the login form, open the editor and submit it as a browser
would (every field of the form, with the CSRF token), post findings with an API key.
"""

from __future__ import annotations

import time
from html.parser import HTMLParser


class FormFields(HTMLParser):
    """The fields a browser would submit for the first ``<form>`` matching
    ``form_id`` (or the first form): inputs, textareas and selected options.
    Rows inside ``<template>`` (added by JavaScript) are not part of the form."""

    def __init__(self, form_id: str | None = None):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._done = False
        self._template_depth = 0
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._done:
            return
        if tag == "form" and not self._in_form:
            self._in_form = self.form_id is None or attrs.get("id") == self.form_id
            return
        if not self._in_form:
            return
        if tag == "template":
            self._template_depth += 1
        if self._template_depth:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.append((name, attrs.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields.append((self._select, attrs.get("value") or ""))

    def handle_endtag(self, tag):
        if not self._in_form or self._done:
            return
        if tag == "template" and self._template_depth:
            self._template_depth -= 1
        elif tag == "textarea" and self._textarea:
            text = "".join(self._text)
            # Browsers drop the newline that directly follows <textarea>.
            self.fields.append((self._textarea, text.removeprefix("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._done = True

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)


def form_fields(html: str, form_id: str | None = None) -> list[tuple[str, str]]:
    parser = FormFields(form_id)
    parser.feed(html)
    return parser.fields


def login(client, base: str, username: str, password: str, **kwargs) -> None:
    """Sign in through the login form (CSRF token and all)."""
    page = client.get(f"{base}/accounts/login/", **kwargs)
    fields = dict(form_fields(page.text))
    fields.update(username=username, password=password)
    response = client.post(
        f"{base}/accounts/login/",
        data=fields,
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        **kwargs,
    )
    if response.status_code != 302:
        raise AssertionError(f"login as {username} failed: {response.status_code}")


def editor_form(client, base: str, pk: int, **kwargs) -> list[tuple[str, str]]:
    """Open the editor and read its form as the browser holds it."""
    page = client.get(f"{base}/postmortems/{pk}/edit/", **kwargs)
    page.raise_for_status()
    return form_fields(page.text, "postmortem-form")


def save_postmortem(
    client, base: str, pk: int, fields: list[tuple[str, str]], root_cause: str, **kw
):
    """Submit the editor form with a new root cause; returns (response, seconds)."""
    data = [
        (name, root_cause if name == "section_root_cause" else value)
        for name, value in fields
    ]
    started = time.perf_counter()
    response = client.post(
        f"{base}/postmortems/{pk}/edit/",
        data=data,
        headers={"Referer": f"{base}/postmortems/{pk}/edit/"},
        allow_redirects=False,
        **kw,
    )
    return response, time.perf_counter() - started


def finding(
    run: str,
    n: int,
    *,
    incident_key: str = "",
    incident_id: int | None = None,
    analyzer: str = "reliability-tracer",
) -> dict:
    """One native finding, as an analyzer posts it (docs/findings.md). Its
    suggested action is its own, so its follow-up leaves one suggestion row."""
    body = {
        "analyzer": analyzer,
        "analyzer_version": "1.0.0",
        "fingerprint": f"{run}-{n}",
        "severity": "high",
        "title": f"Checkout p99 above SLO on pod checkout-{n % 40}",
        "summary": "p99 latency rose from 300 ms to 4 s two minutes after deploy.",
        "root_cause": {
            "text": "Deploy 4812 lowered the payments-api pool to 10 connections.",
            "confidence": 0.8,
        },
        "evidence": [
            {
                "kind": "trace",
                "url": f"https://traces.example/trace/{n:08x}",
                "excerpt": "POST /authorise 3.9 s (pool wait 3.7 s)",
            }
        ],
        "started_at": "2026-05-01T10:15:00Z",
        "suggested_actions": [
            {
                "kind": "file_bug",
                "title": f"Load-test the payments-api pool ({run} {n})",
                "target": "payments-api",
            }
        ],
    }
    if incident_id is not None:
        body["incident_id"] = incident_id
    else:
        body["incident_key"] = incident_key
    return body


def post_finding(client, base: str, key: str, body: dict, **kwargs):
    """POST one finding with an API key; returns (response, seconds)."""
    started = time.perf_counter()
    response = client.post(
        f"{base}/api/v1/findings/",
        json=body,
        headers={
            "Authorization": f"Api-Key {key}",
            # A retry of the same finding replays the first answer.
            "Idempotency-Key": f"{body['analyzer']}:{body['fingerprint']}",
        },
        **kwargs,
    )
    return response, time.perf_counter() - started
