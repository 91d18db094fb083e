"""The freshness record: TUF's timestamp role in miniature. Pure: bytes and the time in.

Re-signing the whole index only to move its expiry makes every runtime download it again. So
the publisher may also sign a small record (``armgit index timestamp``), DSSE with payload type
``application/vnd.armgit.timestamp+json``, of the canonical JSON::

    {"apiVersion": "armgit/v1", "kind": "IndexTimestamp", "registry": R,
     "scope": {"tenants": [...]}, "version": N, "issuedAt": T, "expires": T,
     "index": {"version": V, "digest": "sha256:<payload>", "size": <envelope bytes>}}

and re-sign only that on a schedule, with a short lifetime, and the index once per change, with
a long one. A runtime given a timestamp source polls the record and downloads the index only
when the digest it names changes (:meth:`armgit.runtime.Runtime.refresh`); an index it holds is
good until the earlier of its own ``expires`` and the record's. The record has its own version
counter and rollback floor (per registry and scope), is refused once expired, and must be signed
by the same trust root as the index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from armgit.crypto.dsse import TIMESTAMP_PAYLOAD_TYPE
from armgit.runtime.envelope import parse_envelope, parse_json
from armgit.runtime.errors import IndexRefused
from armgit.runtime.trust import TrustRoot
from armgit.runtime.verify import (
    Accepted,
    check_floor,
    covers,
    parse_scope,
    parse_time,
    scope_key,
)

TIMESTAMP_KIND = "IndexTimestamp"
MAX_TIMESTAMP_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A verified freshness record."""

    registry: str
    scope: tuple[str, ...]
    version: int
    issued_at: float
    expires: float
    index_version: int
    index_digest: str
    index_size: int
    digest: str  # of the record's own payload

    @property
    def floor_key(self) -> str:
        """Where the record's rollback floor is kept (beside the index's, not shared)."""
        return "timestamp:" + scope_key(self.registry, self.scope)


def timestamp_payload(
    registry: str,
    scope: tuple[str, ...],
    version: int,
    issued_at: str,
    expires: str,
    index_version: int,
    index_digest: str,
    index_size: int,
) -> dict[str, Any]:
    """The record's payload, as JSON data (canonicalize it to sign it)."""
    return {
        "apiVersion": "armgit/v1",
        "kind": TIMESTAMP_KIND,
        "registry": registry,
        "scope": {"tenants": list(scope)},
        "version": version,
        "issuedAt": issued_at,
        "expires": expires,
        "index": {"version": index_version, "digest": index_digest, "size": index_size},
    }


def read_timestamp(payload: bytes) -> Timestamp:
    """The record's fields from its payload bytes (no signature or time checked)."""
    import hashlib

    value = parse_json(payload, "timestamp payload")
    try:
        if not isinstance(value, dict) or value.get("kind") != TIMESTAMP_KIND:
            raise ValueError(f"kind is not {TIMESTAMP_KIND}")
        index = value["index"]
        version, size, index_version = value["version"], index["size"], index["version"]
        digest = index["digest"]
        for name, number in (("version", version), ("index.version", index_version)):
            if type(number) is not int or number < 1:
                raise ValueError(f"{name} is a positive integer")
        if type(size) is not int or size < 1:
            raise ValueError("index.size is a positive integer")
        if not isinstance(digest, str) or not digest.startswith("sha256:"):
            raise ValueError("index.digest is sha256:<hex>")
        registry = value["registry"]
        if not isinstance(registry, str):
            raise ValueError("registry is a string")
        return Timestamp(
            registry,
            parse_scope(value),
            version,
            parse_time(value["issuedAt"]),
            parse_time(value["expires"]),
            index_version,
            digest,
            size,
            "sha256:" + hashlib.sha256(payload).hexdigest(),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexRefused("malformed-payload", f"timestamp: {exc}") from exc


def verify_timestamp(
    data: bytes,
    trust: TrustRoot,
    *,
    now: float,
    floors: Mapping[str, Accepted] | None = None,
    tenant: str | None = None,
) -> Timestamp:
    """Verify a freshness record: size, exact payload type, the trust root's threshold, not
    expired, its scope covering ``tenant``, its version not below its floor (or equal with
    the same digest). Raises :class:`IndexRefused`."""
    if len(data) > MAX_TIMESTAMP_BYTES:
        raise IndexRefused("too-large", f"a timestamp of {len(data)} bytes is over the cap")
    envelope = parse_envelope(data, TIMESTAMP_PAYLOAD_TYPE)
    trust.require(envelope, "the timestamp")
    stamp = read_timestamp(envelope.payload)
    if stamp.expires <= now:
        raise IndexRefused("expired", "the timestamp expired: no fresh one was published")
    if tenant is not None and not covers(stamp.scope, tenant):
        raise IndexRefused(
            "wrong-scope", f"the timestamp covers {', '.join(stamp.scope)}, not {tenant!r}"
        )
    check_floor(stamp.version, stamp.digest, (floors or {}).get(stamp.floor_key))
    return stamp
