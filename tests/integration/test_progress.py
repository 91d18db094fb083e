"""Progress on stderr for long work: drawn when stderr is a terminal (a real pseudo-terminal
here), never when it is piped or with ``--quiet``; stdout is the same either way."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, REPO_ROOT, Git


def run(args: list[str], *, terminal: bool, env: dict[str, str] | None = None) -> tuple[str, str]:
    """(stdout, stderr) of ``armgit ARGS`` with stderr on a pseudo-terminal or a pipe."""
    environ = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT), **(env or {})}
    environ.pop("NO_COLOR", None)
    command = [sys.executable, "-m", "armgit", *args]
    if not terminal:
        done = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)
        return done.stdout, done.stderr
    leader, follower = pty.openpty()
    with tempfile.TemporaryFile() as stdout:  # a file: a full pipe would block the process
        try:
            process = subprocess.Popen(
                command, env=environ, stdout=stdout, stderr=follower, stdin=subprocess.DEVNULL
            )
        finally:
            os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        os.close(leader)
        process.wait()
        stdout.seek(0)
        out = stdout.read().decode()
    return out, b"".join(chunks).decode(errors="replace")


@pytest.fixture
def repo(example_repo: Git) -> str:
    for n in range(3):  # a little history for verify and audit
        (example_repo.path / "tenants/arm-dev/tenant.yaml").write_text(
            (example_repo.path / "tenants/arm-dev/tenant.yaml").read_text() + f"# {n}\n"
        )
        example_repo.commit_all(f"edit {n}")
    return str(example_repo.path)


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["validate"], "reading registry files"),
        (["verify"], "replaying commits"),
        (["audit", "--format", "jsonl"], "deriving records of 4 commits"),
    ],
)
def test_progress_on_a_terminal_and_none_piped_or_quiet(
    repo: str, tmp_path: Path, args: list[str], what: str
) -> None:
    caches = Path(repo) / ".git" / "armgit"
    shown_out, shown = run([*args, "--repo", repo], terminal=True)
    assert what in shown
    assert "\x1b[" in shown  # drawn, then cleared (transient)
    for terminal, extra in ((False, []), (True, ["--quiet"])):
        if caches.exists():  # the same work again, not a cache hit
            subprocess.run(["rm", "-rf", str(caches)], check=True)
        out, err = run([*args, "--repo", repo, *extra], terminal=terminal)
        assert what not in err
        assert "\x1b[" not in err
        assert out == shown_out
