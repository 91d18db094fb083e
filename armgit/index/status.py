"""``armgit index status``: how fresh a published index is, for cron and monitoring.

Reads the envelope and the payload's top-level fields only (not the tenants, which may be tens
of MB), and does not check signatures: it answers "when does this file stop being accepted?",
which ``armgit index verify`` does not. The warning window defaults to a quarter of the
index's lifetime, the point at which :class:`armgit.runtime.Runtime` logs its own warning.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from armgit.core.timeutil import parse_time
from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE
from armgit.errors import UsageError
from armgit.index.signed import read_head

WARN_FRACTION = 0.25


@dataclass(frozen=True, slots=True)
class Status:
    """An index's freshness at ``now``: ``state`` is ``ok``, ``warn`` (inside the window) or
    ``expired``."""

    version: int
    digest: str
    registry: str
    scope: tuple[str, ...]
    source: dict[str, Any]
    issued_at: datetime
    expires: datetime
    now: datetime
    warn_within: timedelta

    @property
    def time_left(self) -> timedelta:
        return self.expires - self.now

    @property
    def state(self) -> str:
        if self.time_left <= timedelta(0):
            return "expired"
        return "warn" if self.time_left <= self.warn_within else "ok"

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.state,
            "version": self.version,
            "digest": self.digest,
            "registry": self.registry,
            "scope": {"tenants": list(self.scope)},
            "source": self.source,
            "issuedAt": _iso(self.issued_at),
            "expires": _iso(self.expires),
            "secondsLeft": int(self.time_left.total_seconds()),
            "warnWithinSeconds": int(self.warn_within.total_seconds()),
        }


def read_status(
    data: bytes, now: datetime, warn_within: timedelta | None = None, *, what: str = "the index"
) -> Status:
    """The status of index envelope ``data``; :class:`UsageError` when it is not one."""
    from armgit.runtime.envelope import parse_envelope, parse_json
    from armgit.runtime.errors import IndexRefused
    from armgit.runtime.verify import parse_scope

    try:
        envelope = parse_envelope(data, INDEX_PAYLOAD_TYPE)
        head = read_head(envelope.payload) or parse_json(envelope.payload, "payload")
        if not isinstance(head, dict):
            raise ValueError("the payload is not an object")
        version = head["version"]
        if type(version) is not int:
            raise ValueError("version is not an integer")
        issued = parse_time(str(head["issuedAt"]))
        expires = parse_time(str(head["expires"]))
        scope = parse_scope(head) if "scope" in head else ("?",)
        registry = str(head.get("registry", ""))
        source = head.get("source")
        if not isinstance(source, dict):
            source = {}
    except IndexRefused as exc:
        raise UsageError(f"{what} is not an armgit index: {exc.detail}") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{what} is not an armgit index: {exc}") from exc
    window = warn_within if warn_within is not None else (expires - issued) * WARN_FRACTION
    digest = "sha256:" + hashlib.sha256(envelope.payload).hexdigest()
    return Status(version, digest, registry, scope, source, issued, expires, now, window)


def describe(seconds: float) -> str:
    """``2d 5h``, ``3h 20m``, ``12m``, ``40s`` (sign dropped)."""
    left = int(abs(seconds))
    days, rest = divmod(left, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
