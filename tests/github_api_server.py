"""A real HTTP server on 127.0.0.1 that plays the GitHub REST API from recorded JSON.

The answers are GitHub's documented response bodies (``tests/fixtures/github/api``), with the
commit ids of the test's repository patched in. The server answers only requests with the
expected ``Authorization: Bearer`` token (401 otherwise) and 404 for any path it does not hold,
as GitHub does; it records every path asked.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.conftest import REPO_ROOT

API_FIXTURES = REPO_ROOT / "tests/fixtures/github/api"
REPOSITORY = "arm-dev/agents"
TOKEN = "ghs_loopbacktoken"


def recorded(name: str) -> dict[str, Any]:
    data = json.loads((API_FIXTURES / f"{name}.json").read_text())
    assert isinstance(data, dict)
    return copy.deepcopy(data)


@dataclass
class FakeState:
    """The answers, by path under ``/repos/OWNER/NAME/``, and the requests seen."""

    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    state: FakeState

    def do_GET(self) -> None:
        self.state.asked.append(self.path)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, {"message": "Bad credentials"})
            return
        prefix = f"/repos/{REPOSITORY}/"
        status, body = self.state.answers.get(
            self.path.removeprefix(prefix) if self.path.startswith(prefix) else "",
            (404, {"message": "Not Found"}),
        )
        self._send(status, body)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def github_api() -> Iterator[tuple[str, FakeState]]:
    """Serve the API on a free loopback port; yields its URL and the state to fill."""
    state = FakeState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
