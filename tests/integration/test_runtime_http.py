"""The runtime fetching from a real HTTP server on loopback, with a state directory."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from armgit.runtime import IndexRefused, IndexUnavailable, Runtime, TrustRoot
from tests.index_helpers import EXPIRES_AT, NOW, example_payload, sign, ssh_keygen


class Server:
    """Serves ``self.body`` with an ETag; answers 304 to a matching If-None-Match."""

    def __init__(self) -> None:
        self.body = b""
        self.requests: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                etag = f'"{hash(outer.body) & 0xFFFFFFFF:x}"'
                outer.requests.append(self.headers.get("If-None-Match"))
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(outer.body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/index.json"


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.httpd.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
    thread.join()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def test_refresh_over_http_keeps_last_good(server: Server, tmp_path: Path) -> None:
    _, key, line = ssh_keygen(tmp_path, "k")
    _, rogue, _ = ssh_keygen(tmp_path, "rogue")
    clock = Clock()
    trust = TrustRoot.from_public_keys([line])
    runtime = Runtime(trust, server.url, state_dir=tmp_path / "state", clock=clock)
    assert (
        runtime.evaluate("arm-dev", "prod", template="customer-support", tool="kb_lookup").decision
        == "DENY"
    )

    server.body = sign(example_payload(version=2), [key])
    assert runtime.refresh() is True
    assert runtime.resolve("arm-dev", "prod", "customer-support").version == "2.0.0"
    assert runtime.refresh() is False  # 304: If-None-Match with the ETag
    assert server.requests[-1] is not None

    server.body = sign(example_payload(version=3), [rogue])  # a bad index after a good one
    with pytest.raises(IndexRefused) as info:
        runtime.refresh()
    assert info.value.reason == "signature-threshold"
    assert runtime.index.version == 2
    decision = runtime.evaluate("arm-dev", "prod", template="customer-support", tool="kb_lookup")
    assert decision.decision == "ALLOW"

    server.body = sign(example_payload(version=1), [key])  # a replay of an older one
    with pytest.raises(IndexRefused) as info:
        runtime.refresh()
    assert info.value.reason == "rollback"

    server.body = b"x" * 1000
    runtime.max_bytes = 100
    with pytest.raises(IndexRefused) as info:
        runtime.refresh()
    assert info.value.reason == "too-large"

    clock.now = EXPIRES_AT  # the last good index expires: fail closed
    with pytest.raises(IndexUnavailable):
        runtime.resolve("arm-dev", "prod", "customer-support")
    decision = runtime.evaluate("arm-dev", "prod", template="customer-support", tool="kb_lookup")
    assert decision.decision == "DENY"
    assert "expired" in decision.reasons[0]


def test_state_dir_survives_restart(server: Server, tmp_path: Path) -> None:
    _, key, line = ssh_keygen(tmp_path, "k")
    trust = TrustRoot.from_public_keys([line])
    state = tmp_path / "state"
    server.body = sign(example_payload(version=5), [key])
    first = Runtime(trust, server.url, state_dir=state, clock=Clock())
    first.refresh()
    digest = first.index.digest.removeprefix("sha256:")
    assert sorted(p.name for p in state.iterdir()) == [f"index-{digest}.json", "lock", "state.json"]

    second = Runtime(trust, server.url, state_dir=state, clock=Clock())
    assert second.index.version == 5  # from the state dir, before any fetch
    server.body = sign(example_payload(version=4), [key])
    with pytest.raises(IndexRefused) as info:
        second.refresh()
    assert info.value.reason == "rollback"


def test_unreachable_server(tmp_path: Path) -> None:
    _, _, line = ssh_keygen(tmp_path, "k")
    runtime = Runtime(TrustRoot.from_public_keys([line]), "http://127.0.0.1:9/index.json")
    with pytest.raises(IndexUnavailable):
        runtime.refresh()


def test_evaluate_from_many_threads(server: Server, tmp_path: Path) -> None:
    _, key, line = ssh_keygen(tmp_path, "k")
    runtime = Runtime(TrustRoot.from_public_keys([line]), server.url, clock=Clock())
    server.body = sign(example_payload(version=1), [key])
    runtime.refresh()
    results: list[str] = []

    def work() -> None:
        for _ in range(500):
            results.append(
                runtime.evaluate(
                    "arm-dev", "prod", instance="support-prod-1", tool="refund_issue"
                ).decision
            )

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(2, 6):
        server.body = sign(example_payload(version=i), [key])
        runtime.refresh()
    for t in threads:
        t.join()
    assert set(results) == {"NEEDS_APPROVAL"}
