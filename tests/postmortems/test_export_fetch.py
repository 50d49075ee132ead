"""Markdown and PDF export fetch nothing outside the app's own static files.

A postmortem's Markdown links images on the cloud metadata service, the database
port and a local file. Exporting it must never open a connection or read a file
outside the static directories: sockets and ``open`` are watched while it runs.
"""

import builtins
import socket

import pytest
from django.conf import settings

from postmortems.pdf import render_pdf, static_only_fetcher
from tests import factories

pytestmark = pytest.mark.django_db

HOSTILE = (
    "![metadata](http://169.254.169.254/latest/meta-data/iam/)\n\n"
    "![db](http://127.0.0.1:5432/)\n\n"
    "![passwd](file:///etc/passwd)\n\n"
    "[creds](http://169.254.169.254/latest/api/token)\n\n"
    '<img src="file:///etc/passwd"> <img src="http://127.0.0.1:6379/">\n\n'
    "The pool limit was lower than peak concurrency."
)
FORBIDDEN_FILES = ("/etc/passwd", "/etc/shadow")


@pytest.fixture
def no_network(monkeypatch):
    """Fails any outgoing connection (before a packet is sent) and any read of a
    forbidden file; returns the list of attempts."""
    attempts = []
    database = settings.DATABASES["default"]
    db_address = (database.get("HOST") or "", str(database.get("PORT") or ""))

    def refuse_connect(self, address):
        host, port = (
            (address[0], str(address[1]))
            if isinstance(address, tuple)
            else (address, "")
        )
        if (host, port) != db_address:
            attempts.append(("connect", address))
            raise AssertionError(f"export tried to connect to {address}")
        return real_connect(self, address)

    def refuse_create_connection(address, *args, **kwargs):
        attempts.append(("create_connection", address))
        raise AssertionError(f"export tried to connect to {address}")

    def guarded_open(file, *args, **kwargs):
        if str(file) in FORBIDDEN_FILES:
            attempts.append(("open", file))
            raise AssertionError(f"export tried to read {file}")
        return real_open(file, *args, **kwargs)

    real_connect = socket.socket.connect
    real_open = builtins.open
    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket, "create_connection", refuse_create_connection)
    monkeypatch.setattr(builtins, "open", guarded_open)
    return attempts


@pytest.fixture
def hostile_postmortem(editor, team):
    return factories.PostmortemFactory(
        incident__team=team,
        author=editor,
        sections={"summary": HOSTILE, "root_cause": HOSTILE},
    )


def test_markdown_export_fetches_nothing(editor_client, hostile_postmortem, no_network):
    response = editor_client.get(f"/postmortems/{hostile_postmortem.pk}/export.md")
    assert response.status_code == 200
    text = response.content.decode()
    # The links are kept as written (it is the author's text), never resolved.
    assert "http://169.254.169.254/latest/meta-data/iam/" in text
    assert "file:///etc/passwd" in text
    assert "root:x:0:0" not in text
    assert no_network == []


def test_pdf_export_renders_without_fetching_outside_static(
    editor_client, hostile_postmortem, no_network
):
    response = editor_client.get(f"/postmortems/{hostile_postmortem.pk}/export.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"%PDF-")
    assert no_network == []


def test_pdf_fetcher_serves_static_files_and_refuses_everything_else(no_network):
    html = """<html><head>
      <link rel="stylesheet" href="/static/css/app.css">
      <link rel="stylesheet" href="file:///etc/passwd">
      <style>@import url("http://169.254.169.254/latest/meta-data/");
             body { background: url("http://127.0.0.1:5432/"); }</style>
    </head><body>
      <img src="http://169.254.169.254/latest/meta-data/iam/">
      <img src="https://127.0.0.1:5432/x.png">
      <img src="file:///etc/passwd">
      <img src="/static/../../../../etc/passwd">
      <img src="/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd">
      <img src="data:text/html,<script>alert(1)</script>">
      <img src="data:image/gif;base64,R0lGODlhAQABAAAAACwAAAAAAQABAAA=">
      <p>Still renders.</p>
    </body></html>"""
    fetcher = static_only_fetcher()
    pdf = render_pdf(html, fetcher=fetcher)
    assert pdf.startswith(b"%PDF-")
    assert fetcher.served == [
        "https://hindsight.invalid/static/css/app.css",
        "data:image/gif;base64,R0lGODlhAQABAAAAACwAAAAAAQABAAA=",
    ]
    refused = " ".join(fetcher.refused)
    for target in ("169.254.169.254", "127.0.0.1:5432", "file:///etc/passwd"):
        assert target in refused
    assert no_network == []
