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
from armgit.crypto.ed25519 import parse_private_key
from armgit.index.compile import DEFAULT_EXPIRES_IN, parse_duration, read_previous
from armgit.index.compiler import Compiler
from armgit.index.signed import Compiled, make_options
from armgit.store.atomic import write_atomic
from armgit.store.tree import open_tree


@dataclass(frozen=True, slots=True)
class Published:
    """What a publish wrote (paths and index versions), or the findings that stopped it."""

    written: list[tuple[Path, int]]
    findings: list[Finding]


def publish(
    repo: Path, rev: str, directory: Path, key_file: Path, now: datetime, expires_in: str = ""
) -> Published:
    """Compile ``rev`` and write the full index and one per tenant into ``directory``.

    One :class:`Compiler` serves every file: the registry is checked once and each tenant's
    fragment built (or read from the compile cache) once.
    """
    key = parse_private_key(key_file.read_bytes(), name=str(key_file))
    lifetime = parse_duration(expires_in or DEFAULT_EXPIRES_IN)
    compiler = Compiler(open_tree(repo, rev))
    full = _write(compiler, directory / "index.json", key, now, lifetime, None)
    if full.envelope is None:
        return Published([], full.findings)
    written = [(directory / "index.json", full.version)]
    for tenant in full.tenants:
        target = directory / "tenants" / tenant / "index.json"
        written.append((target, _write(compiler, target, key, now, lifetime, tenant).version))
    return Published(written, [])


def _write(
    compiler: Compiler,
    target: Path,
    key: Ed25519PrivateKey,
    now: datetime,
    lifetime: timedelta,
    tenant: str | None,
) -> Compiled:
    """Compile into ``target`` (unless refused), numbered after the index it replaces."""
    previous = read_previous(target.read_bytes()) if target.exists() else None
    result = compiler.compile([key], make_options(now, lifetime, tenant, previous))
    if result.envelope is not None:
        write_atomic(target, result.envelope)
    return result
