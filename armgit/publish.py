"""Publishing the signed index after an accepted push (the post-receive hook).

The server's git config says where and with which key (secrets never enter the registry):
``armgit.publishDir``, ``armgit.signingKey`` and optionally ``armgit.expiresIn``. Each accepted
push to a protected branch writes ``<dir>/index.json`` (every tenant) and
``<dir>/tenants/<tenant>/index.json`` (one tenant, so a runtime downloads only its own fleet),
each atomically and with a version one above the file it replaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.core.findings import Finding
from armgit.index.compile import DEFAULT_EXPIRES_IN, compile_index, parse_duration, read_previous
from armgit.index.keys import parse_private_key
from armgit.store.atomic import write_atomic


@dataclass(frozen=True, slots=True)
class Published:
    """What a publish wrote (paths and index versions), or the findings that stopped it."""

    written: list[tuple[Path, int]]
    findings: list[Finding]


def publish(
    repo: Path, rev: str, directory: Path, key_file: Path, now: datetime, expires_in: str = ""
) -> Published:
    """Compile ``rev`` and write the full index and one per tenant into ``directory``."""
    key = parse_private_key(key_file.read_bytes(), name=str(key_file))
    lifetime = parse_duration(expires_in or DEFAULT_EXPIRES_IN)
    written: list[tuple[Path, int]] = []
    tenants, findings = _write(repo, rev, directory / "index.json", key, now, lifetime, None)
    if findings:
        return Published(written, findings)
    written.append((directory / "index.json", tenants[1]))
    for tenant in tenants[0]:
        target = directory / "tenants" / tenant / "index.json"
        (_, version), _ = _write(repo, rev, target, key, now, lifetime, tenant)
        written.append((target, version))
    return Published(written, [])


def _write(
    repo: Path,
    rev: str,
    target: Path,
    key: Ed25519PrivateKey,
    now: datetime,
    lifetime: timedelta,
    tenant: str | None,
) -> tuple[tuple[list[str], int], list[Finding]]:
    """Compile into ``target``; returns ((tenants in it, its version), findings)."""
    previous = read_previous(target.read_bytes()) if target.exists() else None
    result = compile_index(
        repo, rev, [key], issued_at=now, expires_in=lifetime, tenant=tenant, previous=previous
    )
    if result.envelope is None or result.payload is None:
        return ([], 0), result.findings
    write_atomic(target, result.envelope)
    tenants = result.payload["tenants"]
    version = result.payload["version"]
    assert isinstance(tenants, dict)
    assert isinstance(version, int)
    return (sorted(tenants), version), []
