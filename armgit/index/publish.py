"""Publishing the signed index after an accepted push (the post-receive hook).

The server's git config says where and with which key (secrets never enter the registry):
``armgit.publishDir``, ``armgit.signingKey`` and optionally ``armgit.expiresIn``. Each accepted
push to a protected branch writes ``<dir>/index.json`` (every tenant) and
``<dir>/tenants/<tenant>/index.json`` (one tenant, so a runtime downloads only its own fleet),
each atomically, readable by the web server that serves them (0644), and with a version one
above the last one published for that scope.

The last version is the higher of the file being replaced and the server's own ledger,
``<git dir>/armgit/published.json`` (version and digest per scope), so neither a wiped publish
directory nor a restored old file can make a version repeat or go backwards. A file that is
there but unreadable stops the publish (loudly, to the pusher) rather than start again at 1.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.core.findings import Finding
from armgit.core.index.assemble import WHOLE_REGISTRY
from armgit.crypto.ed25519 import parse_private_key
from armgit.errors import UsageError
from armgit.index.compile import DEFAULT_EXPIRES_IN, parse_duration, read_previous
from armgit.index.compiler import Compiler
from armgit.index.signed import Compiled, PreviousIndex, make_options
from armgit.store.atomic import PUBLISHED, write_atomic
from armgit.store.tenants import git_dir_of
from armgit.store.tree import open_tree

LEDGER = ("armgit", "published.json")


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
    git_dir = git_dir_of(compiler.tree)
    ledger = Ledger(git_dir.joinpath(*LEDGER) if git_dir is not None else None)
    with ledger.locked():  # two pushes publishing at once must not both take version N + 1
        full = _write(compiler, directory / "index.json", key, now, lifetime, None, ledger)
        if full.envelope is None:
            return Published([], full.findings)
        written = [(directory / "index.json", full.version)]
        for tenant in full.tenants:
            target = directory / "tenants" / tenant / "index.json"
            result = _write(compiler, target, key, now, lifetime, tenant, ledger)
            written.append((target, result.version))
    return Published(written, [])


class Ledger:
    """The last version published per scope (``*`` or a tenant), kept beside the repository."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock beside the ledger for a whole publish."""
        if self.path is None:
            yield
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _read(self) -> dict[str, dict[str, object]]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_bytes())
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return data
        except (OSError, ValueError) as exc:
            raise UsageError(f"{self.path} is damaged ({exc}): fix or restore it") from exc

    def get(self, scope: str) -> PreviousIndex | None:
        entry = self._read().get(scope)
        if not isinstance(entry, dict):
            return None
        version, digest = entry.get("version"), entry.get("digest")
        if type(version) is not int or not isinstance(digest, str):
            raise UsageError(f"{self.path}: the entry of {scope!r} is damaged")
        return PreviousIndex(version, digest, None, (scope.removeprefix("timestamp:"),))

    def put(self, scope: str, version: int, digest: str) -> None:
        if self.path is None:
            return
        data = self._read()
        data[scope] = {"version": version, "digest": digest}
        write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True).encode())


def _write(
    compiler: Compiler,
    target: Path,
    key: Ed25519PrivateKey,
    now: datetime,
    lifetime: timedelta,
    tenant: str | None,
    ledger: Ledger,
) -> Compiled:
    """Compile into ``target`` (unless refused), numbered after the last index published for
    its scope (the file it replaces or the ledger, whichever is higher)."""
    scope = tenant or WHOLE_REGISTRY
    found = read_previous(target.read_bytes(), str(target)) if target.exists() else None
    recorded = ledger.get(scope)
    previous = found
    if recorded is not None and (found is None or recorded.version > found.version):
        previous = recorded
    result = compiler.compile([key], make_options(now, lifetime, tenant, previous))
    if result.envelope is not None and result.payload_bytes is not None:
        write_atomic(target, result.envelope, mode=PUBLISHED)
        digest = "sha256:" + hashlib.sha256(result.payload_bytes).hexdigest()
        ledger.put(scope, result.version, digest)
        stamp = target.with_name("timestamp.json")
        _stamp(stamp, result.envelope, key, now, lifetime, tenant, ledger)
    return result


def _stamp(
    target: Path,
    index: bytes,
    key: Ed25519PrivateKey,
    now: datetime,
    lifetime: timedelta,
    tenant: str | None,
    ledger: Ledger,
) -> None:
    """The freshness record beside the index (``timestamp.json``), numbered after the last
    one published for the scope; a cron job re-signs it with ``armgit index timestamp``."""
    from armgit.index.timestamp import make_timestamp, read_previous_timestamp

    found = read_previous_timestamp(target.read_bytes(), str(target)) if target.exists() else None
    scope = "timestamp:" + (tenant or WHOLE_REGISTRY)
    recorded = ledger.get(scope)
    envelope, payload = make_timestamp(
        index,
        [key],
        issued_at=now,
        expires_in=lifetime,
        previous=found,
        after=recorded.version if recorded is not None else 0,
    )
    write_atomic(target, envelope, mode=PUBLISHED)
    digest = "sha256:" + hashlib.sha256(envelope).hexdigest()
    ledger.put(scope, int(str(payload["version"])), digest)
