"""``armgit compile``: a registry at one commit -> one signed index file.

Reads the registry like :func:`armgit.api.load`, refuses it if it has findings, builds the
payload with the pure :func:`armgit.core.index.build.build_index`, encodes it as RFC 8785
canonical JSON and signs it in a DSSE envelope.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit import api
from armgit.core import timeutil
from armgit.core.canonical import to_canonical_json
from armgit.core.findings import Finding
from armgit.core.index.build import IndexOptions, Source, build_index
from armgit.core.jsondata import JsonObject
from armgit.core.timeutil import format_time
from armgit.errors import UsageError
from armgit.index.dsse import INDEX_PAYLOAD_TYPE, sign_envelope
from armgit.loader import load_registry
from armgit.runtime.envelope import parse_envelope, parse_json
from armgit.runtime.errors import IndexRefused

DEFAULT_EXPIRES_IN = "7d"


def parse_duration(text: str) -> timedelta:
    """``30s``, ``15m``, ``12h``, ``7d``."""
    try:
        return timeutil.parse_duration(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def parse_issued_at(text: str | None, source_date_epoch: str | None) -> datetime:
    """``--issued-at`` (RFC 3339 with a zone), else ``SOURCE_DATE_EPOCH``, else now."""
    if text is not None:
        try:
            when = datetime.fromisoformat(text)
        except ValueError as exc:
            raise UsageError(f"--issued-at {text!r} is not an RFC 3339 time") from exc
        if when.tzinfo is None:
            raise UsageError(f"--issued-at {text!r} needs a time zone (Z or +01:00)")
        return when.astimezone(UTC)
    if source_date_epoch:
        if not source_date_epoch.isdigit():
            raise UsageError(f"SOURCE_DATE_EPOCH={source_date_epoch!r} is not a number of seconds")
        return datetime.fromtimestamp(int(source_date_epoch), UTC)
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PreviousIndex:
    version: int
    digest: str


def read_previous(data: bytes) -> PreviousIndex:
    """The version and payload digest of a previously published index (signatures not checked:
    it only numbers the next one)."""
    try:
        envelope = parse_envelope(data, INDEX_PAYLOAD_TYPE)
        payload = parse_json(envelope.payload, "payload")
    except IndexRefused as exc:
        raise UsageError(f"--previous is not an armgit index: {exc.detail}") from exc
    version = payload.get("version") if isinstance(payload, dict) else None
    if type(version) is not int or version < 1:
        raise UsageError("--previous is not an armgit index: it has no version")
    return PreviousIndex(version, "sha256:" + hashlib.sha256(envelope.payload).hexdigest())


@dataclass(frozen=True, slots=True)
class Compiled:
    """The result: the envelope bytes and payload, or the findings that refused the registry."""

    envelope: bytes | None
    payload: JsonObject | None
    findings: list[Finding]


def compile_index(
    repo: str | Path | None,
    rev: str | None,
    keys: Sequence[Ed25519PrivateKey],
    *,
    issued_at: datetime,
    expires_in: timedelta,
    tenant: str | None = None,
    previous: PreviousIndex | None = None,
    source_repo: str | None = None,
) -> Compiled:
    """Compile the registry at ``repo``/``rev`` and sign it with every key of ``keys``."""
    tree, cache = api.open_cached(repo, rev)
    loaded = load_registry(tree, cache)
    cache.save()
    if loaded.findings:
        return Compiled(None, None, loaded.findings)
    info = tree.source
    options = IndexOptions(
        issued_at=format_time(issued_at),
        expires=format_time(issued_at + expires_in),
        version=previous.version + 1 if previous is not None else 1,
        previous=previous.digest if previous is not None else None,
        tenant=tenant,
    )
    source = Source(source_repo or info.repo, info.commit, info.tree)
    try:
        payload = build_index(loaded.snapshot, source, options)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    envelope = sign_envelope(to_canonical_json(payload), INDEX_PAYLOAD_TYPE, keys)
    return Compiled(envelope, payload, [])
