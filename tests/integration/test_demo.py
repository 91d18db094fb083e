"""The README's main job, end to end: `armgit demo` on the bundled example."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO_ROOT, run_armgit


def test_the_demo_plays_the_whole_loop(tmp_path: Path) -> None:
    # from anywhere: the example comes with the package, not from the checkout
    result = run_armgit("demo", "--dir", str(tmp_path / "demo"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    for expected in (
        "approval-required: VERSION_PROMOTION of arm-dev/customer-support@2.1.0",
        "bob APPROVES VERSION_PROMOTION",
        "approval-required: DEPLOYMENT_ACTIVATION",
        "genome-hash-mismatch",
        ": unchanged",
        '"decision": "ALLOW"',
        '"decision": "NEEDS_APPROVAL"',
        '"decision": "DENY"',
        "VERSION_TRANSITIONED",
        "INTEGRITY_VERIFIED",
    ):
        assert expected in out, expected


def test_the_demo_refuses_a_used_directory(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("keep")
    result = run_armgit("demo", "--dir", str(tmp_path), cwd=REPO_ROOT)
    assert result.returncode == 2
    assert "is not empty" in result.stderr
    assert "Traceback" not in result.stderr
