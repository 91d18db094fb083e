"""A compiled index: what it holds or why it was refused, its options, and its signing.

Shared by the two ways of compiling — :mod:`armgit.index.compile` (straight from the caches)
and :mod:`armgit.index.compiler` (reading git where the caches lack something) — so neither
imports the other. No git, no files: the payload bytes come from :mod:`armgit.core.index`, the
envelope from :mod:`armgit.crypto.dsse`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.core.findings import Finding
from armgit.core.index.assemble import IndexOptions, Source, assemble_payload, payload_head
from armgit.core.jsondata import JsonObject
from armgit.core.timeutil import format_time
from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE, sign_envelope
from armgit.errors import UsageError


@dataclass(frozen=True, slots=True)
class PreviousIndex:
    version: int
    digest: str


@dataclass(frozen=True, slots=True)
class Compiled:
    """The result: the envelope and canonical payload bytes with what the payload holds, or
    the findings that refused the registry."""

    envelope: bytes | None
    payload_bytes: bytes | None
    findings: list[Finding]
    tenants: tuple[str, ...] = ()
    version: int = 0
    expires: str = ""

    @property
    def payload(self) -> JsonObject | None:
        """The payload as JSON data (parsed from its bytes on each call)."""
        if self.payload_bytes is None:
            return None
        data: JsonObject = json.loads(self.payload_bytes)
        return data


def make_options(
    issued_at: datetime, expires_in: timedelta, tenant: str | None, previous: PreviousIndex | None
) -> IndexOptions:
    return IndexOptions(
        issued_at=format_time(issued_at),
        expires=format_time(issued_at + expires_in),
        version=previous.version + 1 if previous is not None else 1,
        previous=previous.digest if previous is not None else None,
        tenant=tenant,
    )


def sign_index(
    keys: Sequence[Ed25519PrivateKey],
    registry: str,
    source: Source,
    options: IndexOptions,
    fragments: dict[str, bytes],
) -> Compiled:
    """The signed index made of the tenants' canonical ``fragments``."""
    payload = assemble_payload(payload_head(registry, source, options), fragments)
    envelope = sign_envelope(payload, INDEX_PAYLOAD_TYPE, keys)
    return Compiled(
        envelope, payload, [], tuple(sorted(fragments)), options.version, options.expires
    )


def select_tenants(tenants: list[str], tenant: str | None) -> list[str]:
    """All ``tenants``, or ``tenant`` alone if it is one of them."""
    if tenant is None:
        return tenants
    if tenant not in tenants:
        raise UsageError(f"tenant {tenant!r} does not exist in this registry")
    return [tenant]


def parse_name(body: bytes) -> str | None:
    """The registry's name from its cache entry (canonical JSON of a string)."""
    try:
        name = json.loads(body)
    except ValueError:
        return None
    return name if isinstance(name, str) else None
