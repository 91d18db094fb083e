"""``armgit index timestamp``: sign the small freshness record of a published index
(:mod:`armgit.runtime.timestamp`), so a scheduled re-sign moves the expiry without a new index.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.core.canonical import to_canonical_json
from armgit.core.timeutil import format_time
from armgit.crypto.dsse import TIMESTAMP_PAYLOAD_TYPE, sign_envelope
from armgit.errors import UsageError
from armgit.index.compile import read_previous
from armgit.runtime.envelope import parse_envelope
from armgit.runtime.errors import IndexRefused
from armgit.runtime.timestamp import Timestamp, read_timestamp, timestamp_payload


def read_previous_timestamp(data: bytes, what: str) -> Timestamp:
    """A published record (signatures not checked: it only numbers the next one)."""
    try:
        return read_timestamp(parse_envelope(data, TIMESTAMP_PAYLOAD_TYPE).payload)
    except IndexRefused as exc:
        raise UsageError(f"{what} is not an armgit timestamp: {exc.detail}") from exc


def make_timestamp(
    index: bytes,
    keys: Sequence[Ed25519PrivateKey],
    *,
    issued_at: datetime,
    expires_in: timedelta,
    previous: Timestamp | None = None,
    after: int = 0,
) -> tuple[bytes, dict[str, object]]:
    """The signed record of ``index`` (the envelope bytes as published), numbered after
    ``previous`` (which must be of the same registry and scope) and ``after``; returns the
    envelope and its payload."""
    head = read_previous(index, "the index")
    if head.registry is None or head.scope is None:
        raise UsageError("the index names no registry or scope: compile it again")
    if previous is not None and (previous.registry, previous.scope) != (head.registry, head.scope):
        raise UsageError(
            f"the previous timestamp is of {previous.registry}/{','.join(previous.scope)}, "
            f"the index of {head.registry}/{','.join(head.scope)}"
        )
    version = max(previous.version if previous is not None else 0, after) + 1
    payload = timestamp_payload(
        head.registry,
        head.scope,
        version,
        format_time(issued_at),
        format_time(issued_at + expires_in),
        head.version,
        head.digest,
        len(index),
    )
    envelope = sign_envelope(to_canonical_json(payload), TIMESTAMP_PAYLOAD_TYPE, keys)
    return envelope, payload
