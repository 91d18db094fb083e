"""The post-receive hook publishes a signed index after each accepted push."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from armgit.errors import UsageError
from armgit.index.publish import publish
from tests.conftest import Git, run_armgit
from tests.integration.test_push_rules import V1, Server


def payload_of(index: Path) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(
        base64.b64decode(json.loads(index.read_bytes())["payload"])
    )
    return payload


def keypair(directory: Path) -> tuple[Path, Path]:
    key = directory / "index_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key, directory / "index_ed25519.pub"


def test_accepted_pushes_publish_a_growing_signed_index(tmp_path: Path) -> None:
    server = Server(tmp_path)
    key, public = keypair(tmp_path)
    published = tmp_path / "www"
    installed = run_armgit(
        "hooks",
        "install",
        "--server",
        str(server.bare),
        "--publish-dir",
        str(published),
        "--signing-key",
        str(key),
        "--force",
    )
    assert installed.returncode == 0, installed.stderr
    server.edit(V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    commit = server.work.commit_all("retire 1.0.0")
    result = server.push("github:alice-chen")
    assert result.returncode == 0, result.stderr
    assert "published" in result.stderr
    state = tmp_path / "state"
    for path in (published / "index.json", published / "tenants/arm-dev/index.json"):
        check = run_armgit(
            "index",
            "verify",
            str(path),
            "--trusted-key",
            str(public),
            "--state-dir",
            str(state / path.parent.name),
        )
        assert check.returncode == 0, check.stdout + check.stderr
    payload = payload_of(published / "index.json")
    assert payload["source"]["commit"] == commit
    assert payload["version"] == 1
    server.edit(V1, "description: First release", "description: The first release")
    server.work.commit_all("describe")
    assert server.push("github:alice-chen").returncode == 0
    again = payload_of(published / "index.json")
    assert again["version"] == 2
    assert again["previous"] is not None
    # readable by the web server that serves them
    for path in (published / "index.json", published / "tenants/arm-dev/index.json"):
        assert path.stat().st_mode & 0o777 == 0o644

    # the publish directory is wiped (a new disk, a cleanup): the server's ledger still knows
    # the last versions, so the next ones follow them rather than start again at 1
    shutil.rmtree(published)
    server.edit(V1, "description: The first release", "description: The very first release")
    server.work.commit_all("describe again")
    assert server.push("github:alice-chen").returncode == 0
    assert payload_of(published / "index.json")["version"] == 3
    assert payload_of(published / "tenants/arm-dev/index.json")["version"] == 3
    # an older file put back is not believed either: the ledger is higher
    old = published / "index.json"
    state_before = old.read_bytes()
    server.edit(V1, "description: The very first release", "description: Release one")
    server.work.commit_all("describe once more")
    assert server.push("github:alice-chen").returncode == 0
    assert payload_of(old)["version"] == 4
    assert state_before != old.read_bytes()
    # beside each index, its freshness record (numbered the same way), naming it
    for where in (published, published / "tenants/arm-dev"):
        stamp = payload_of(where / "timestamp.json")
        assert stamp["kind"] == "IndexTimestamp"
        assert stamp["version"] == 4
        assert stamp["index"]["version"] == 4
        assert (where / "timestamp.json").stat().st_mode & 0o777 == 0o644


def test_publish_refuses_a_key_not_in_index_signers(example_repo: Git, tmp_path: Path) -> None:
    key, _ = keypair(tmp_path)
    listed = tmp_path / "listed"
    listed.mkdir()
    listed_key, listed_public = keypair(listed)
    config = example_repo.path / "armgit.yaml"
    line = listed_public.read_text().strip()
    config.write_text(
        config.read_text()
        + f"indexSigners:\n  threshold: 1\n  keys:\n    - {{name: ci, publicKey: '{line}'}}\n"
    )
    example_repo.commit_all("index signers")
    published = tmp_path / "www"
    now = datetime(2026, 2, 1, tzinfo=UTC)
    with pytest.raises(UsageError, match=r"not listed in armgit\.yaml indexSigners"):
        publish(example_repo.path, "HEAD", published, key, now)
    assert not (published / "index.json").exists()
    done = publish(example_repo.path, "HEAD", published, listed_key, now)
    assert [version for _, version in done.written] == [1, 1]
