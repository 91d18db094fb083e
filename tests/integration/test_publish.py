"""The post-receive hook publishes a signed index after each accepted push."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import run_armgit
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
