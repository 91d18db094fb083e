"""The runtime's trust in operation (SPEC 7a, issue 18 point 5, and freshness): roots only
through the chain from the pinned one, a state directory shared by real processes, the HTTP
fetch under one deadline with safe redirects, and the warning before an index expires."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.crypto.dsse import ROOT_PAYLOAD_TYPE, sign_envelope
from armgit.errors import UsageError
from armgit.index.root import make_root
from armgit.index.signed import Signers
from armgit.runtime import (
    DefaultFetcher,
    Fetched,
    IndexRefused,
    IndexUnavailable,
    Runtime,
    TrustRoot,
    parse_root,
)
from armgit.runtime.fetch import _redirect
from armgit.runtime.trust import root_payload_bytes
from tests.conftest import REPO_ROOT
from tests.index_helpers import EXPIRES_AT, NOW, example_payload, sign, ssh_keygen

# -- roots ---------------------------------------------------------------------------------


def test_a_stored_root_is_taken_only_through_the_chain_from_the_pinned_one(
    tmp_path: Path,
) -> None:
    _, a, a_line = ssh_keygen(tmp_path, "a")
    _, b, b_line = ssh_keygen(tmp_path, "b")
    pinned_bytes, _ = make_root(Signers(1, (("a", a_line),)), [a])
    pinned = parse_root(pinned_bytes)
    state = tmp_path / "state"
    (state / "roots").mkdir(parents=True)
    with pytest.raises(UsageError, match="would not be accepted"):
        make_root(Signers(1, (("b", b_line),)), [b], pinned_bytes)  # armgit index root checks
    # an attacker's "newer" root, signed only by its own key, left in the state directory
    self_signed = sign_envelope(
        root_payload_bytes(TrustRoot.from_public_keys([b_line], 1, 2)), ROOT_PAYLOAD_TYPE, [b]
    )
    parse_root(self_signed)  # a valid root on its own...
    (state / "roots" / "2.json").write_bytes(self_signed)
    (state / "root.json").write_bytes(self_signed)  # ...and where the old layout kept it
    by_b = sign(example_payload(version=1), [b])
    runtime = Runtime(pinned, state_dir=state, clock=lambda: NOW)
    assert runtime.trust.version == 1  # ...but not one the pinned root signed
    with pytest.raises(IndexRefused, match="signature-threshold"):
        runtime.load_bytes(by_b)

    # a real rotation: signed by the pinned root's key and by the new one's
    (state / "roots" / "2.json").unlink()
    (state / "root.json").unlink()
    rotation, _ = make_root(Signers(1, (("b", b_line),)), [a, b], pinned_bytes)
    assert runtime.rotate_root(rotation).version == 2
    again = Runtime(pinned, state_dir=state, clock=lambda: NOW)  # follows the stored chain
    assert again.trust.version == 2
    again.load_bytes(by_b)
    with pytest.raises(IndexRefused, match="signature-threshold"):
        again.load_bytes(sign(example_payload(version=2), [a]))  # the old key is retired


# -- a state directory shared by processes ---------------------------------------------------

_LOAD = """
import sys
from armgit.runtime import IndexRefused, Runtime, TrustRoot
trust = TrustRoot.from_public_keys([open(sys.argv[2]).read()])
runtime = Runtime(trust, state_dir=sys.argv[1])
for path in sys.argv[3:]:
    try:
        runtime.load_path(path)
    except IndexRefused as exc:
        print(exc.reason)
"""


def load_in_process(state: Path, public: Path, *indexes: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _LOAD, str(state), str(public), *map(str, indexes)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def write_versions(tmp_path: Path, key: Ed25519PrivateKey, versions: range) -> dict[int, Path]:
    files = {}
    for v in versions:
        files[v] = tmp_path / f"v{v}.json"
        files[v].write_bytes(sign(example_payload(version=v), [key]))
    return files


def floor_of(state: Path) -> int:
    floors = json.loads((state / "state.json").read_text())["floors"]
    assert list(floors) == ["arm-example/*"]
    version: int = floors["arm-example/*"]["version"]
    return version


def test_processes_sharing_a_state_directory_never_lower_the_floor(tmp_path: Path) -> None:
    path, key, line = ssh_keygen(tmp_path, "k")
    public = Path(f"{path}.pub")
    v = write_versions(tmp_path, key, range(1, 9))
    state = tmp_path / "state"
    a = Runtime(TrustRoot.from_public_keys([line]), state_dir=state)
    a.load_path(v[1])  # A at v1
    b = load_in_process(state, public, v[3])  # B, another process, saves v3
    assert b.communicate()[0] == ""
    assert b.returncode == 0
    with pytest.raises(IndexRefused) as info:
        a.load_path(v[2])  # A's v2 is above what A remembers, not above what B saved
    assert info.value.reason == "rollback"
    assert floor_of(state) == 3

    # many processes loading in different orders at once: the floor ends at the highest
    orders = [[v[4], v[8], v[5]], [v[7], v[6]], [v[5], v[4], v[8]], [v[6], v[7], v[4]]]
    procs = [load_in_process(state, public, *order) for order in orders]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert set(out.split()) <= {"rollback"}
    assert floor_of(state) == 8
    record = json.loads((state / "state.json").read_text())
    current = state / record["current"]
    assert current.read_bytes() == v[8].read_bytes()  # the index and its floor, one record
    assert sorted(p.name for p in state.glob("index*.json")) == [current.name]


# -- HTTP ------------------------------------------------------------------------------------


class Scripted:
    """A loopback server whose answers the test scripts by path."""

    def __init__(self, body: bytes) -> None:
        outer = self
        self.body = body

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/dribble-body":
                    self.send_response(200)
                    self.end_headers()
                    for byte in outer.body[:50]:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(0.3)
                    return
                if self.path == "/dribble-headers":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for _ in range(40):
                        self.wfile.write(b"X: y\r\n")
                        self.wfile.flush()
                        time.sleep(0.3)
                    return
                if self.path.startswith("/to/"):
                    self.send_response(302)
                    self.send_header("Location", self.path.removeprefix("/to/"))
                    self.end_headers()
                    return
                if self.path == "/loop":
                    self.send_response(301)
                    self.send_header("Location", "/loop")
                    self.end_headers()
                    return
                if self.path == "/not-modified":
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    server = Scripted(b'{"index": "bytes"}' * 10)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    thread.join()


@pytest.mark.parametrize("path", ["/dribble-body", "/dribble-headers"])
def test_a_dribbling_server_meets_one_overall_deadline(scripted: Scripted, path: str) -> None:
    fetcher = DefaultFetcher(timeout=1.0, deadline=1.5)  # each byte comes well within 1 s
    started = time.monotonic()
    with pytest.raises(IndexUnavailable, match=r"no complete answer within 1\.5 s"):
        fetcher.fetch(scripted.url + path, None, 1 << 20)
    assert time.monotonic() - started < 4.0  # not 50 x 0.3 s


def test_redirects_within_http_are_followed_others_refused(scripted: Scripted) -> None:
    fetcher = DefaultFetcher(deadline=10)
    got = fetcher.fetch(scripted.url + "/to//index.json", None, 1 << 20)
    assert got is not None
    assert got.data == scripted.body
    with pytest.raises(IndexUnavailable, match="only http"):
        fetcher.fetch(scripted.url + "/to/file:///etc/passwd", None, 1 << 20)
    with pytest.raises(IndexUnavailable, match="more than 5 redirects"):
        fetcher.fetch(scripted.url + "/loop", None, 1 << 20)
    with pytest.raises(IndexUnavailable, match="from https to"):
        _redirect("https://cdn.example/index.json", "http://cdn.example/index.json")
    assert _redirect("https://a.example/i", "https://b.example/j") == "https://b.example/j"


def test_a_304_with_nothing_cached_is_an_error(scripted: Scripted, tmp_path: Path) -> None:
    fetcher = DefaultFetcher(deadline=10)
    with pytest.raises(IndexUnavailable, match="offered no ETag"):
        fetcher.fetch(scripted.url + "/not-modified", None, 1 << 20)
    assert fetcher.fetch(scripted.url + "/not-modified", '"x"', 1 << 20) is None

    class Lying:  # a fetcher that answers "not modified" to a runtime with nothing loaded
        def fetch(self, source: str, etag: str | None, max_bytes: int) -> Fetched | None:
            return None

    _, _, line = ssh_keygen(tmp_path, "k")
    runtime = Runtime(TrustRoot.from_public_keys([line]), "x", fetcher=Lying())
    with pytest.raises(IndexUnavailable, match="no index is loaded"):
        runtime.refresh()


# -- freshness -------------------------------------------------------------------------------


def test_runtime_exposes_time_left_and_warns_at_a_quarter_of_the_lifetime(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, key, line = ssh_keygen(tmp_path, "k")
    source = tmp_path / "index.json"
    source.write_bytes(sign(example_payload(version=1), [key]))
    now = [NOW]
    runtime = Runtime(TrustRoot.from_public_keys([line]), source, clock=lambda: now[0])
    assert runtime.time_left is None
    assert runtime.stale
    with caplog.at_level(logging.WARNING, logger="armgit.runtime"):
        assert runtime.refresh() is True
        assert runtime.time_left == EXPIRES_AT - NOW
        assert not runtime.stale
        assert caplog.records == []
        now[0] = EXPIRES_AT - 41 * 3600  # the lifetime is 7 days: a quarter is 42 hours
        assert runtime.stale
        assert runtime.refresh() is False  # the same file: the publisher stopped re-signing
        runtime.refresh()
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1  # once per index
    assert "armgit index version 1 expires in 147600 s" in warnings[0]
