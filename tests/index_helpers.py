"""Helpers for index and runtime tests: real ssh-keygen keys, the example payload, signing."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.core.canonical import to_canonical_json
from armgit.core.index.assemble import IndexOptions, Source, payload_head
from armgit.core.index.build import tenant_entries, tenant_names
from armgit.core.index.tables import pack_payload
from armgit.core.jsondata import JsonObject
from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE, sign_envelope
from armgit.crypto.ed25519 import parse_private_key
from armgit.registry.loader import load_registry
from armgit.store.tree import WorkTree
from tests.conftest import EXAMPLE

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
ISSUED = "2027-01-15T00:00:00Z"
EXPIRES = "2027-01-22T00:00:00Z"
EXPIRES_AT = 1_800_576_000.0


def ssh_keygen(directory: Path, name: str) -> tuple[Path, Ed25519PrivateKey, str]:
    """A key made by stock ``ssh-keygen -t ed25519 -N ''``: path, private key, public line."""
    path = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True
    )
    key = parse_private_key(path.read_bytes())
    return path, key, (directory / f"{name}.pub").read_text()


@cache
def _example_payload() -> JsonObject:
    loaded = load_registry(WorkTree(EXAMPLE))
    assert not loaded.findings, loaded.findings
    options = IndexOptions(issued_at=ISSUED, expires=EXPIRES)
    registry = loaded.snapshot.registry
    assert registry is not None
    head = payload_head(registry.name, Source("example", "a" * 40, "b" * 40), options)
    tenants = tenant_names(loaded.snapshot)
    return {**head, "tenants": {t: tenant_entries(loaded.snapshot, t) for t in tenants}}


def example_payload(**changes: Any) -> dict[str, Any]:
    """A fresh copy of the example registry's payload, with top-level fields replaced. Its
    tables are objects of entries by key, as the runtime reads them back (genomes still in
    parts): :func:`payload_bytes` packs them into rows, as ``armgit compile`` writes them."""
    payload: dict[str, Any] = copy.deepcopy(_example_payload())
    payload.update(changes)
    return payload


def payload_bytes(payload: dict[str, Any]) -> bytes:
    """The canonical payload of ``payload`` (tables of entries) as compile writes it: its entry
    tables packed into rows (format 3)."""
    return to_canonical_json(pack_payload(payload))


def sign(payload: dict[str, Any], keys: Sequence[Ed25519PrivateKey]) -> bytes:
    return sign_envelope(payload_bytes(payload), INDEX_PAYLOAD_TYPE, keys)
