"""docs/runtime.md's complete runtime runs as written: index over loopback HTTP, legacy id,
a refund approved through the spool by `armgit actions approve`, and a chained decision log."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.approval_helpers import needs_ssh_keygen
from tests.conftest import GIT_ENV, REPO_ROOT, Git
from tests.integration.test_actions_cli import setup

DOC = REPO_ROOT / "docs" / "runtime.md"


def example() -> str:
    text = DOC.read_text()
    section = text[text.index("## A complete runtime") :]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found is not None
    return found.group(1)


@needs_ssh_keygen
def test_the_documented_runtime_runs(example_repo: Git, tmp_path: Path) -> None:
    index, trust, bob, _ = setup(example_repo, tmp_path)
    published = tmp_path / "published"
    published.mkdir()
    (published / "index.json").write_bytes(index.read_bytes())
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **os.environ,
        **GIT_ENV,
        "PYTHONPATH": str(REPO_ROOT),
        "ARMGIT_EXAMPLE_PUBLISHED": str(published),
        "ARMGIT_EXAMPLE_INDEX_KEY": trust[1],
        "ARMGIT_EXAMPLE_OPERATOR_KEY": str(bob),
        "ARMGIT_EXAMPLE_WORK": str(work),
    }
    result = subprocess.run(
        [sys.executable, "-c", example()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "agent support-prod-1 customer-support 2.0.0 prod" in out
    assert "refund_issue" in out  # armgit actions ls, as the operator saw it
    assert "decided ALLOW by arm-dev/bob" in out
    assert "log 3 lines, intact" in out
    records = [json.loads(line) for line in (work / "decisions.jsonl").read_text().splitlines()]
    assert [r["type"] for r in records] == [
        "TOOL_CALL_ALLOWED",
        "APPROVAL_REQUESTED",
        "APPROVAL_DECIDED",
    ]
    assert json.loads((work / "state" / "spent.json").read_text())
