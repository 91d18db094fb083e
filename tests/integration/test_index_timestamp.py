"""The freshness record (SPEC 7a, TUF's timestamp role in miniature): a scheduled re-sign moves
the expiry without making runtimes download the index again."""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from armgit.runtime import IndexRefused, Runtime, TrustRoot
from tests.conftest import Git, run_armgit
from tests.index_helpers import ssh_keygen

DAY = 86400


class Counting:
    """Serves a directory over loopback HTTP and counts the requests per path."""

    def __init__(self, root: Path) -> None:
        self.requests: Counter[str] = Counter()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests[self.path] += 1
                path = root / self.path.lstrip("/")
                if not path.is_file():
                    self.send_error(404)
                    return
                body = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def www(tmp_path: Path) -> Iterator[Counting]:
    (tmp_path / "www").mkdir()
    server = Counting(tmp_path / "www")
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    thread.join()


def test_a_runtime_polls_the_record_and_downloads_the_index_only_when_it_changes(
    example_repo: Git, tmp_path: Path, www: Counting
) -> None:
    key, _, line = ssh_keygen(tmp_path, "index")
    index, stamp = tmp_path / "www/index.json", tmp_path / "www/timestamp.json"
    at = ("--repo", str(example_repo.path), "--rev", "HEAD", "--key", str(key))

    def compile_(*extra: str) -> None:
        made = run_armgit("compile", *at, "--out", str(index), "--expires-in", "30d", *extra)
        assert made.returncode == 0, made.stderr

    def resign(*extra: str, target: Path = index) -> str:
        made = run_armgit(
            "index", "timestamp", str(target), "--key", str(key), "--out", str(stamp), *extra
        )
        assert made.returncode == 0, made.stderr
        return made.stdout

    compile_("--first-publish")
    assert "timestamp version 1 of index version 1" in resign("--first-publish")
    state = tmp_path / "state"
    trust = TrustRoot.from_public_keys([line])
    runtime = Runtime(trust, www.url + "/index.json", timestamp=www.url + "/timestamp.json",
                      state_dir=state)  # fmt: skip
    assert runtime.refresh() is True
    left = runtime.time_left
    assert left is not None
    assert DAY - 120 < left <= DAY  # the record's day, not the index's 30 days

    for version in (2, 3):  # the scheduled re-sign: the record only
        assert f"timestamp version {version} of index version 1" in resign()
        assert runtime.refresh() is False
    assert www.requests["/index.json"] == 1
    assert www.requests["/timestamp.json"] == 3

    compile_()  # a change: a new index (version 2) and a record naming it
    assert "timestamp version 4 of index version 2" in resign()
    assert runtime.refresh() is True
    assert runtime.index.version == 2
    assert www.requests["/index.json"] == 2

    again = Runtime(trust, state_dir=state)  # the record survives a restart
    assert again.index.version == 2
    assert again.time_left is not None
    assert again.time_left <= DAY

    old = tmp_path / "old-timestamp.json"
    shutil.copy(stamp, old)
    resign()  # version 5
    assert runtime.refresh() is False
    five = tmp_path / "five.json"
    shutil.copy(stamp, five)
    shutil.copy(old, stamp)  # a mirror replays version 4
    with pytest.raises(IndexRefused) as info:
        runtime.refresh()
    assert info.value.reason == "rollback"

    other = tmp_path / "other.json"
    made = run_armgit("compile", *at, "--out", str(other), "--previous", str(index))
    assert made.returncode == 0, made.stderr
    lost = run_armgit(
        "index", "timestamp", str(other), "--key", str(key), "--out", str(stamp),
        "--previous", www.url + "/missing.json",
    )  # fmt: skip
    assert lost.returncode == 2
    assert "cannot establish the last published timestamp" in lost.stderr
    # the record (version 6) names index version 3 while the served file is still version 2
    resign("--previous", str(five), target=other)
    with pytest.raises(IndexRefused) as info:
        runtime.refresh()
    assert info.value.reason == "timestamp-mismatch"
    assert runtime.index.version == 2  # the last good index stays
