"""A runtime bound to a tenant, and rollback floors kept per registry and scope (SPEC 7a)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.runtime import IndexRefused, Runtime, TrustRoot
from tests.conftest import run_armgit
from tests.index_helpers import NOW, example_payload, sign, ssh_keygen


def scoped(version: int, *tenants: str, scope: list[str] | None = None) -> dict[str, Any]:
    """The example payload holding ``tenants`` (copies of arm-dev), with ``scope``."""
    payload = example_payload(version=version)
    arm_dev = payload["tenants"]["arm-dev"]
    payload["tenants"] = {t: {**copy.deepcopy(arm_dev), "name": t} for t in tenants}
    payload["scope"] = {"tenants": scope if scope is not None else list(tenants)}
    return payload


@pytest.fixture
def signer(tmp_path: Path) -> tuple[Path, Ed25519PrivateKey, str]:
    return ssh_keygen(tmp_path, "k")


def test_runtime_bound_to_a_tenant_refuses_another_tenants_index(
    tmp_path: Path, signer: tuple[Path, Ed25519PrivateKey, str]
) -> None:
    _, key, line = signer
    state = tmp_path / "state"
    runtime = Runtime(
        TrustRoot.from_public_keys([line]), state_dir=state, tenant="sandbox", clock=lambda: NOW
    )
    runtime.load_bytes(sign(scoped(3, "sandbox"), [key]))
    before = {p.name: p.read_bytes() for p in state.iterdir()}

    # the mirror shows sandbox's runtime arm-dev's index, with a far higher version
    with pytest.raises(IndexRefused) as info:
        runtime.load_bytes(sign(scoped(40, "arm-dev"), [key]))
    assert info.value.reason == "wrong-scope"
    assert "sandbox" in str(info.value)
    assert {p.name: p.read_bytes() for p in state.iterdir()} == before  # state untouched
    assert runtime.index.version == 3

    # sandbox's next real index is still accepted: nothing was frozen
    runtime.load_bytes(sign(scoped(4, "sandbox"), [key]))
    assert runtime.index.version == 4
    # the whole registry covers every tenant; an old index without a scope covers its tenants
    runtime.load_bytes(sign(scoped(1, "sandbox", "arm-dev", scope=["*"]), [key]))
    unscoped = scoped(9, "sandbox", "arm-dev")
    del unscoped["scope"]
    runtime.load_bytes(sign(unscoped, [key]))
    only_arm_dev = scoped(10, "arm-dev")
    del only_arm_dev["scope"]
    with pytest.raises(IndexRefused, match="wrong-scope"):
        runtime.load_bytes(sign(only_arm_dev, [key]))


def test_floors_are_kept_per_registry_and_scope(
    tmp_path: Path, signer: tuple[Path, Ed25519PrivateKey, str]
) -> None:
    _, key, line = signer
    state = tmp_path / "state"
    trust = TrustRoot.from_public_keys([line])
    runtime = Runtime(trust, state_dir=state, clock=lambda: NOW)  # not bound: any scope
    runtime.load_bytes(sign(scoped(40, "arm-dev"), [key]))
    runtime.load_bytes(sign(scoped(3, "sandbox"), [key]))  # its own counter, not arm-dev's
    runtime.load_bytes(sign(scoped(7, "a", "b", scope=["*"]), [key]))
    assert {k: v.version for k, v in runtime.floors.items()} == {
        "arm-example/arm-dev": 40,
        "arm-example/sandbox": 3,
        "arm-example/*": 7,
    }
    with pytest.raises(IndexRefused, match="rollback"):
        runtime.load_bytes(sign(scoped(39, "arm-dev"), [key]))
    other = scoped(2, "arm-dev")
    other["registry"] = "another"
    runtime.load_bytes(sign(other, [key]))

    again = Runtime(trust, state_dir=state, clock=lambda: NOW)  # the floors survive a restart
    assert again.index.registry == "another"
    with pytest.raises(IndexRefused, match="rollback"):
        again.load_bytes(sign(scoped(2, "sandbox"), [key]))


def test_old_single_floor_state_becomes_its_index_scope_floor(
    tmp_path: Path, signer: tuple[Path, Ed25519PrivateKey, str]
) -> None:
    _, key, line = signer
    state = tmp_path / "state"
    state.mkdir()
    data = sign(scoped(5, "arm-dev"), [key])
    first = Runtime(TrustRoot.from_public_keys([line]), clock=lambda: NOW)
    digest = first.load_bytes(data).digest
    (state / "index.json").write_bytes(data)  # what the runtime wrote before scopes
    (state / "state.json").write_text(json.dumps({"version": 5, "digest": digest, "etag": None}))
    runtime = Runtime(TrustRoot.from_public_keys([line]), state_dir=state, clock=lambda: NOW)
    assert runtime.index.version == 5
    assert {k: v.version for k, v in runtime.floors.items()} == {"arm-example/arm-dev": 5}
    runtime.load_bytes(sign(scoped(1, "sandbox"), [key]))  # another scope: not frozen


def test_cli_tenant_refuses_an_index_of_another_scope(
    tmp_path: Path, signer: tuple[Path, Ed25519PrivateKey, str]
) -> None:
    path, key, _ = signer
    index = tmp_path / "arm-dev.json"
    payload = scoped(2, "arm-dev")
    payload["expires"] = "2999-01-01T00:00:00Z"
    index.write_bytes(sign(payload, [key]))
    public = f"{path}.pub"
    state = tmp_path / "state"
    refused = run_armgit(
        "index", "verify", str(index), "--trusted-key", public, "--tenant", "sandbox",
        "--state-dir", str(state),
    )  # fmt: skip
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["reason"] == "wrong-scope"
    assert not (state / "state.json").exists()
    ok = run_armgit("index", "verify", str(index), "--trusted-key", public, "--tenant", "arm-dev")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["scope"] == {"tenants": ["arm-dev"]}
    resolve = run_armgit(
        "index", "resolve", str(index), "--trusted-key", public, "--tenant", "sandbox",
        "--env", "prod", "--template", "customer-support",
    )  # fmt: skip
    assert resolve.returncode == 1
    assert json.loads(resolve.stdout)["reason"] == "wrong-scope"
