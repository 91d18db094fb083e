"""``armgit compile`` and ``armgit index`` end to end through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Git, run_armgit
from tests.index_helpers import ssh_keygen


def compile_example(repo: Git, out: Path, key: Path, *extra: str) -> str:
    result = run_armgit(
        "compile",
        "--repo",
        str(repo.path),
        "--rev",
        "HEAD",
        "--key",
        str(key),
        "--out",
        str(out),
        "--issued-at",
        "2026-02-01T00:00:00Z",
        "--expires-in",
        "36500d",
        *(extra if "--previous" in extra else ("--first-publish", *extra)),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_compile_verify_resolve_evaluate(example_repo: Git, tmp_path: Path) -> None:
    key, _, _ = ssh_keygen(tmp_path, "index")
    pub = f"{key}.pub"
    out = tmp_path / "index.json"
    assert "index version 1" in compile_example(example_repo, out, key)

    verified = run_armgit("index", "verify", str(out), "--trusted-key", pub)
    assert verified.returncode == 0, verified.stderr
    report = json.loads(verified.stdout)
    assert report["valid"] is True
    assert report["source"]["commit"] == example_repo("rev-parse", "HEAD")

    resolved = run_armgit(
        "index",
        "resolve",
        str(out),
        "--trusted-key",
        pub,
        "--tenant",
        "arm-dev",
        "--env",
        "prod",
        "--template",
        "customer-support",
    )
    assert resolved.returncode == 0, resolved.stderr
    found = json.loads(resolved.stdout)
    assert found["version"] == "2.0.0"
    assert found["policy"]["sources"] == ["support-prod", "prod-ceiling", "tenant-ceiling"]

    evaluated = run_armgit(
        "index",
        "evaluate",
        str(out),
        "--trusted-key",
        pub,
        "--tenant",
        "arm-dev",
        "--env",
        "prod",
        "--instance",
        "support-prod-1",
        "--tool",
        "refund_issue",
    )
    assert evaluated.returncode == 0, evaluated.stderr
    decision = json.loads(evaluated.stdout)
    assert (decision["decision"], decision["risk"]) == ("NEEDS_APPROVAL", "critical")

    missing = run_armgit(
        "index",
        "resolve",
        str(out),
        "--trusted-key",
        pub,
        "--tenant",
        "arm-dev",
        "--env",
        "dev",
        "--template",
        "customer-support",
    )
    assert missing.returncode == 1


def test_compile_is_deterministic_and_versions_grow(example_repo: Git, tmp_path: Path) -> None:
    key, _, _ = ssh_keygen(tmp_path, "index")
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    compile_example(example_repo, first, key)
    compile_example(example_repo, second, key)
    assert first.read_bytes() == second.read_bytes()

    third = tmp_path / "c.json"
    assert "index version 2" in compile_example(example_repo, third, key, "--previous", str(first))
    state = tmp_path / "state"
    pub = f"{key}.pub"
    assert (
        run_armgit(
            "index", "verify", str(third), "--trusted-key", pub, "--state-dir", str(state)
        ).returncode
        == 0
    )
    replay = run_armgit(
        "index", "verify", str(first), "--trusted-key", pub, "--state-dir", str(state)
    )
    assert replay.returncode == 1
    assert json.loads(replay.stdout)["reason"] == "rollback"


def test_verify_refuses_wrong_key_and_tampering(example_repo: Git, tmp_path: Path) -> None:
    key, _, _ = ssh_keygen(tmp_path, "index")
    other, _, _ = ssh_keygen(tmp_path, "other")
    out = tmp_path / "index.json"
    compile_example(example_repo, out, key)
    wrong = run_armgit("index", "verify", str(out), "--trusted-key", f"{other}.pub")
    assert wrong.returncode == 1
    assert json.loads(wrong.stdout)["reason"] == "signature-threshold"
    out.write_bytes(
        out.read_bytes().replace(b"application/vnd.armgit.index+json", b"application/json")
    )
    tampered = run_armgit("index", "verify", str(out), "--trusted-key", f"{key}.pub")
    assert tampered.returncode == 1
    assert "Traceback" not in tampered.stderr


def test_compile_refuses_invalid_registry(example_repo: Git, tmp_path: Path) -> None:
    key, _, _ = ssh_keygen(tmp_path, "index")
    version = example_repo.path / "tenants/arm-dev/templates/customer-support/versions/2.0.0.yaml"
    version.write_text(version.read_text().replace("temperature: 0.5", "temperature: 0.9"))
    example_repo.commit_all("tamper")
    out = tmp_path / "index.json"
    result = run_armgit(
        "compile",
        "--repo",
        str(example_repo.path),
        "--rev",
        "HEAD",
        "--key",
        str(key),
        "--out",
        str(out),
        "--first-publish",
    )
    assert result.returncode == 1
    assert "genome-hash-mismatch" in result.stdout
    assert not out.exists()


def test_usage_errors_exit_2(example_repo: Git, tmp_path: Path) -> None:
    key, _, _ = ssh_keygen(tmp_path, "index")
    out = tmp_path / "i.json"
    bad_key = run_armgit(
        "compile", "--repo", str(example_repo.path), "--key", f"{key}.pub", "--out", str(out)
    )
    assert bad_key.returncode == 2
    assert "Traceback" not in bad_key.stderr
    bad_duration = run_armgit(
        "compile",
        "--repo",
        str(example_repo.path),
        "--key",
        str(key),
        "--out",
        str(out),
        "--expires-in",
        "soon",
        "--first-publish",
    )
    assert bad_duration.returncode == 2
    no_tenant = run_armgit(
        "compile",
        "--repo",
        str(example_repo.path),
        "--key",
        str(key),
        "--out",
        str(out),
        "--tenant",
        "nobody",
        "--first-publish",
    )
    assert no_tenant.returncode == 2
    no_trust = run_armgit("index", "verify", str(out))
    assert no_trust.returncode == 2


def test_source_date_epoch(example_repo: Git, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import GIT_ENV, REPO_ROOT

    key, _, _ = ssh_keygen(tmp_path, "index")
    out = tmp_path / "i.json"
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT), "SOURCE_DATE_EPOCH": "1769940000"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "armgit",
            "compile",
            "--repo",
            str(example_repo.path),
            "--rev",
            "HEAD",
            "--key",
            str(key),
            "--out",
            str(out),
            "--tenant",
            "arm-dev",
            "--first-publish",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    import base64

    payload = json.loads(base64.b64decode(json.loads(out.read_bytes())["payload"]))
    assert payload["issuedAt"] == "2026-02-01T10:00:00Z"
    assert list(payload["tenants"]) == ["arm-dev"]
