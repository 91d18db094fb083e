"""A compiled index: what it holds or why it was refused, its options, and its signing.

Shared by the two ways of compiling — :mod:`armgit.index.compile` (straight from the caches)
and :mod:`armgit.index.compiler` (reading git where the caches lack something) — so neither
imports the other. No git, no files: the payload bytes come from :mod:`armgit.core.index`, the
envelope from :mod:`armgit.crypto.dsse`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.core.canonical import to_canonical_json
from armgit.core.findings import Finding
from armgit.core.index.assemble import (
    WHOLE_REGISTRY,
    IndexOptions,
    Source,
    assemble_payload,
    payload_head,
)
from armgit.core.jsondata import JsonObject
from armgit.core.timeutil import format_time
from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE, sign_envelope
from armgit.crypto.ed25519 import KeyFileError, keyid, parse_public_key
from armgit.errors import UsageError


@dataclass(frozen=True, slots=True)
class PreviousIndex:
    """The index a new one follows: its version and payload digest (and, when known, its
    registry and scope, which the new one must share)."""

    version: int
    digest: str
    registry: str | None = None
    scope: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Signers:
    """``indexSigners`` of armgit.yaml: ``(name, OpenSSH public key line)`` pairs and how many
    of them must sign. No keys: the registry names none, and any key may sign."""

    threshold: int = 1
    keys: tuple[tuple[str, str], ...] = ()

    def to_bytes(self) -> bytes:
        return to_canonical_json(
            {
                "threshold": self.threshold,
                "keys": [{"name": n, "publicKey": k} for n, k in self.keys],
            }
        )

    def lines(self) -> list[str]:
        """The public key lines (for a trust root)."""
        return [line for _, line in self.keys]


def parse_signers(body: bytes) -> Signers | None:
    """:class:`Signers` from their cache entry (``None`` when it is damaged)."""
    try:
        data = json.loads(body)
        keys = tuple((str(k["name"]), str(k["publicKey"])) for k in data["keys"])
        return Signers(int(data["threshold"]), keys)
    except (ValueError, KeyError, TypeError):
        return None


def check_signers(keys: Sequence[Ed25519PrivateKey], signers: Signers) -> None:
    """Refuse (:class:`UsageError`) signing keys that armgit.yaml's ``indexSigners`` does not
    list, or fewer distinct listed keys than its threshold: runtimes that pin the trust root
    made from ``indexSigners`` (``armgit index root``) would refuse such an index."""
    if not signers.keys:
        return
    listed: dict[str, str] = {}
    for name, line in signers.keys:
        try:
            listed[keyid(parse_public_key(line))] = name
        except KeyFileError:
            continue  # not an Ed25519 key: it cannot sign an index
    used = {keyid(k.public_key()) for k in keys}
    stray = sorted(used - listed.keys())
    if stray:
        names = ", ".join(f"{n} {k}" for k, n in sorted(listed.items())) or "no Ed25519 key"
        raise UsageError(
            f"signing key {', '.join(stray)} is not listed in armgit.yaml indexSigners "
            f"({names}); sign with a listed key, or add this one (a REGISTRY_TRUST_CHANGE)"
        )
    if len(used) < signers.threshold:
        raise UsageError(
            f"armgit.yaml indexSigners needs {signers.threshold} signatures; "
            f"give --key {signers.threshold} times with distinct listed keys (got {len(used)})"
        )


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
    scope = (tenant or WHOLE_REGISTRY,)
    if previous is not None and previous.scope is not None and previous.scope != scope:
        raise UsageError(
            f"the previous index covers {', '.join(previous.scope)}, not {scope[0]}: give the "
            "previous index of the same scope (each published file has its own versions)"
        )
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
    signers: Signers | None = None,
) -> Compiled:
    """The signed index made of the tenants' canonical ``fragments``, refused (UsageError)
    when ``keys`` are not what ``signers`` (armgit.yaml ``indexSigners``) allows."""
    if signers is not None:
        check_signers(keys, signers)
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


_TAIL = re.compile(rb',"version":([1-9][0-9]{0,15})\}\Z')
_TENANTS = b',"tenants":{'


def read_head(payload: bytes) -> dict[str, object] | None:
    """The top-level fields of a canonical payload but ``tenants``, without parsing the
    tenants (tens of MB for a fleet): in RFC 8785 order ``version`` is the last member and
    every other one comes before ``tenants``, and no string can hold ``,"tenants":{`` (its
    quote would be escaped). ``None`` when the payload does not have that shape."""
    tail = _TAIL.search(payload, max(len(payload) - 40, 0))
    cut = payload.find(_TENANTS)
    if tail is None or cut < 0:
        return None
    try:
        head = json.loads(payload[:cut] + b"}")
    except ValueError:
        return None
    if not isinstance(head, dict):
        return None
    head["version"] = int(tail.group(1))
    head["tenants"] = {}
    return head
