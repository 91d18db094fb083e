"""docs/tutorial.md is run: every ``sh`` block, in order, in one shell, on a copy of the example."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLE, REPO_ROOT

TUTORIAL = REPO_ROOT / "docs" / "tutorial.md"
_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
_EXPECT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")


def tutorial_commands(text: str) -> list[tuple[str, int]]:
    """(command, expected exit code) for each command of the ``sh`` blocks."""
    commands = []
    for block in _BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            match = _EXPECT.search(line)
            expected = int(match.group(1)) if match else 0
            commands.append((_EXPECT.sub("", line).strip(), expected))
    return commands


def test_the_tutorial_has_commands() -> None:
    commands = tutorial_commands(TUTORIAL.read_text())
    assert len(commands) > 20
    assert ("armgit promote arm-dev/customer-support@2.1.0 --to CANDIDATE", 1) in commands


def test_the_tutorial_runs(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "armgit"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m armgit "$@"\n')
    shim.chmod(0o755)
    lines = ["set -u"]
    for number, (command, expected) in enumerate(tutorial_commands(TUTORIAL.read_text())):
        lines += [
            f"echo {shlex.quote('$ ' + command)}",
            command,
            f"rc=$?; if [ $rc -ne {expected} ]; then echo "
            f"{shlex.quote(f'TUTORIAL STEP {number} FAILED: {command}')} "
            f'"(exit $rc, expected {expected})"; exit 99; fi',
        ]
    work = tmp_path / "day"
    work.mkdir()
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "ARMGIT_"))
    }
    env |= {
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": str(REPO_ROOT),
        "ARMGIT_EXAMPLE": str(EXAMPLE),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_DATE": "2026-03-02T09:00:00Z",
        "GIT_COMMITTER_DATE": "2026-03-02T09:00:00Z",
        "NO_COLOR": "1",
    }
    result = subprocess.run(
        ["bash", "-c", "\n".join(lines)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "promote arm-dev/customer-support@2.1.0 TESTING -> CANDIDATE" in out
    assert "rollback arm-dev/customer-support in prod: 2.0.0 -> 1.0.0" in out
    assert "Reason: refunds issued twice" in out
    # the review before bob signs, and after
    assert out.count("MISSING 1") == 3, out
    assert "VERSION_PROMOTION of arm-dev/customer-support@2.1.0" in out
    reviewed = out.split("$ armgit review main..support-2.1.0")[2]
    assert "MISSING" not in reviewed.split("$ ")[0], reviewed
    assert reviewed.split("$ ")[0].count(": APPROVED") == 3, reviewed
    log = subprocess.run(
        ["git", "log", "--format=%s", "support-2.1.0"],
        cwd=work / "agents",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert log[:8] == [
        "bob approves 2.1.0 and its rollout to prod",
        "deploy arm-dev/customer-support@2.1.0 to prod (replaces 2.0.0)",
        "promote arm-dev/customer-support@2.1.0 CANDIDATE -> APPROVED",
        "deploy arm-dev/customer-support@2.1.0 to staging",
        "promote arm-dev/customer-support@2.1.0 TESTING -> CANDIDATE (evaluation PASS)",
        "deploy arm-dev/customer-support@2.1.0 to dev",
        "promote arm-dev/customer-support@2.1.0 DRAFT -> TESTING",
        "new version arm-dev/customer-support@2.1.0 (parent 2.0.0)",
    ]
