"""A local HTTP server that answers as a tracker's API does, from recorded bodies.

Every request is recorded (method, path, query, headers, JSON body) so tests
assert exactly what Hindsight sent. Routes map ``(method, path)`` to a callable
returning ``(status, body)``; an unknown route answers 404 as the trackers do.
"""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture(provider: str, name: str) -> dict:
    return json.loads((FIXTURES / provider / name).read_text())


def fixture_bytes(provider: str, name: str) -> bytes:
    return (FIXTURES / provider / name).read_bytes()


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    json: object


@dataclass
class FakeTracker:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    routes: dict = field(default_factory=dict)

    def route(self, method: str, path: str, status: int, body) -> None:
        self.routes[(method, path)] = lambda request: (status, body)


def start() -> tuple[FakeTracker, ThreadingHTTPServer]:
    fake = FakeTracker()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            recorded = Recorded(
                method=self.command,
                path=parts.path,
                query={k: v[0] for k, v in parse_qs(parts.query).items()},
                headers={k.lower(): v for k, v in self.headers.items()},
                json=json.loads(raw) if raw else None,
            )
            fake.requests.append(recorded)
            handler = fake.routes.get((self.command, parts.path))
            if handler is None:
                status, body = 404, {"message": "Not Found"}
            else:
                status, body = handler(recorded)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
