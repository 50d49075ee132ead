"""A local HTTP server that answers as Slack's Web API does, and records requests.

Answers come from tests/fixtures/slack/web_api/<method>.json unless a test sets
``server.answers[method] = (status, body)``. Every request is kept (method name,
HTTP verb, headers, parameters from the query string, form or JSON body), so
tests assert exactly what Hindsight sent.
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "slack"


def fixture(relative: str) -> dict:
    return json.loads((FIXTURES / relative).read_text())


@dataclass
class Call:
    method: str
    verb: str
    headers: dict
    params: dict


@dataclass
class SlackServer:
    answers: dict = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    url: str = ""

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def answer(self, method: str) -> tuple[int, dict]:
        if method in self.answers:
            found = self.answers[method]
            # A callable gives a different answer to each call.
            return found() if callable(found) else found
        path = FIXTURES / "web_api" / f"{method}.json"
        if not path.exists():
            return 200, {"ok": False, "error": "unknown_method"}
        return 200, json.loads(path.read_text())


def _handler(server: SlackServer):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            method = parts.path.rsplit("/", 1)[-1]
            params = dict(parse_qsl(parts.query))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            kind = self.headers.get("Content-Type", "")
            if raw and kind.startswith("application/json"):
                params.update(json.loads(raw))
            elif raw:
                params.update(dict(parse_qsl(raw.decode())))
            server.calls.append(
                Call(method, self.command, dict(self.headers.items()), params)
            )
            status, body = server.answer(method)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            if status == 429:
                self.send_header("Retry-After", "30")
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, format, *args) -> None:  # noqa: A002 - stdlib name
            pass

    return Handler


def start() -> tuple[SlackServer, ThreadingHTTPServer]:
    state = SlackServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/api/"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return state, httpd
