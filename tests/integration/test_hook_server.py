"""``armgit hooks serve`` with real pushes: the server judges them as the hook would, and
whenever it cannot (not running, a stale socket, a bad request, armgit upgraded under it) the
hook judges the push itself."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from armgit.hookclient import DECLINED, SOCKET_NAME, encode_request
from tests.conftest import REPO_ROOT, Git
from tests.integration.test_push_rules import ALICE, OPS, V2, Server


class HookServer:
    """``armgit hooks serve`` for a bare repository, run as a user would, its log in a file."""

    def __init__(self, bare: Path, log: Path, pythonpath: Path = REPO_ROOT) -> None:
        self.bare, self.log = bare, log
        self.socket = bare / SOCKET_NAME
        env = {**os.environ, "PYTHONPATH": str(pythonpath)}
        with log.open("wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-P", "-m", "armgit", "hooks", "serve", str(bare)],
                stderr=sink,
                env=env,
                cwd=log.parent,
            )
        deadline = time.monotonic() + 60
        while "serving pre-receive" not in self.text():
            assert self.process.poll() is None, self.text()
            assert time.monotonic() < deadline, self.text()
            time.sleep(0.05)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def judged(self) -> int:
        return self.text().count("pre-receive judged")

    def ask(self, request: bytes) -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(self.socket))
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            return b"".join(iter(lambda: sock.recv(65536), b""))

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, HookServer]]:
    server = Server(tmp_path)
    hook_server = HookServer(server.bare, tmp_path / "serve.log")
    yield server, hook_server
    hook_server.stop()


def test_the_server_judges_pushes_as_the_hook_would(served: tuple[Server, HookServer]) -> None:
    server, hook_server = served
    server.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
    stderr = server.refused(ALICE, "genome-hash-mismatch")
    assert "the genome hashes to sha256:" in stderr
    assert "exit 1" in hook_server.text()
    assert hook_server.judged() == 1
    server.edit(V2, "lifecycle: APPROVED", "lifecycle: DEPRECATED")
    server.accepted(ALICE)
    assert hook_server.judged() == 2
    assert "exit 0" in hook_server.text()
    # nobody to push as: refused by the server, as by the hook (the environment is the push's)
    server.edit(V2, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    server.refused(None, "permission-denied")
    assert hook_server.judged() == 3


def test_sigterm_stops_the_server_and_removes_its_socket(
    served: tuple[Server, HookServer],
) -> None:
    _, hook_server = served
    assert hook_server.socket.is_socket()
    assert hook_server.socket.stat().st_mode & 0o777 == 0o600
    assert hook_server.stop() == 0
    assert not hook_server.socket.exists()
    assert "stopped" in hook_server.text()


def test_without_a_server_the_hook_judges_itself(tmp_path: Path) -> None:
    server = Server(tmp_path)
    # a socket left behind by a server that died: nobody listens on it
    (server.bare / "armgit").mkdir(exist_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(server.bare / SOCKET_NAME))
    server.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
    server.refused(ALICE, "genome-hash-mismatch")
    # a new server takes the stale socket over
    hook_server = HookServer(server.bare, tmp_path / "serve.log")
    try:
        server.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
        server.refused(ALICE, "genome-hash-mismatch")
        assert hook_server.judged() == 1
    finally:
        hook_server.stop()


def test_a_second_server_for_the_same_repository_is_refused(
    served: tuple[Server, HookServer],
) -> None:
    server, _ = served
    second = subprocess.run(
        [sys.executable, "-P", "-m", "armgit", "hooks", "serve", str(server.bare)],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert second.returncode == 2  # an error, not a finding
    assert "a hook server is already serving" in second.stderr
    assert "Traceback" not in second.stderr


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"",
        b"GET / HTTP/1.1\r\n\r\n",
        b"armgit-hook/1\n5\n/tmp",  # cut short
        b"armgit-hook/1\nx\n",
        b"armgit-hook/1\n1\n/3\nA=B0\n0\ntrailing",
        b"armgit-hook/1\n1\n/4\nNOEQ0\n",
        b"armgit-hook/1\n" + b"9" * 30 + b"\n",
    ],
)
def test_bad_requests_are_declined_and_the_server_goes_on(
    served: tuple[Server, HookServer], request_bytes: bytes
) -> None:
    server, hook_server = served
    reply = hook_server.ask(request_bytes)
    assert reply.startswith(DECLINED + b"bad request: "), reply
    assert "a bad request" in hook_server.text()
    server.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
    server.refused(ALICE, "genome-hash-mismatch")
    assert hook_server.judged() == 1


def test_a_push_to_another_repository_is_declined(
    served: tuple[Server, HookServer], tmp_path: Path
) -> None:
    _, hook_server = served
    elsewhere = tmp_path / "other.git"
    elsewhere.mkdir()
    env = {b"GIT_DIR": b".", b"ARMGIT_PUSHER": OPS.encode()}
    reply = hook_server.ask(encode_request(os.fsencode(elsewhere), env, b""))
    assert reply == DECLINED + b"the push is for another repository"


def test_an_upgrade_of_armgit_stops_the_server(tmp_path: Path) -> None:
    """The server runs armgit from a copy; once a file of it changes, the server declines the
    next push (the hook judges it, with the new code) and stops."""
    packages = tmp_path / "site"
    shutil.copytree(
        REPO_ROOT / "armgit", packages / "armgit", ignore=shutil.ignore_patterns("__pycache__")
    )
    server = Server(tmp_path)
    hook_server = HookServer(server.bare, tmp_path / "serve.log", pythonpath=packages)
    try:
        upgraded = packages / "armgit" / "core" / "rules" / "change.py"
        upgraded.write_text(upgraded.read_text() + "\n# upgraded\n")
        server.edit(V2, "maxTokens: 8192", "maxTokens: 9000")
        server.refused(ALICE, "genome-hash-mismatch")
        assert hook_server.process.wait(timeout=30) == 0
        assert hook_server.judged() == 0
        assert "installed code changed" in hook_server.text()
        assert not hook_server.socket.exists()
    finally:
        hook_server.stop()


def test_serve_needs_a_bare_repository(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    Git(clone)("init", "-q")
    for target, message in (
        (tmp_path / "missing", "is not inside a git repository"),
        (clone, "is not a bare repository"),
    ):
        result = subprocess.run(
            [sys.executable, "-P", "-m", "armgit", "hooks", "serve", str(target)],
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.returncode != 0
        assert message in result.stderr
        assert "Traceback" not in result.stderr
