"""The root of trust: which keys may sign the index, and how many must.

Pinned by the runtime, from arguments (:meth:`TrustRoot.from_public_keys`) or a root file
(:func:`parse_root`). A root file is a DSSE envelope (payload type
``application/vnd.armgit.root+json``) whose payload is the canonical JSON of
``{"kind": "IndexRoot", "version": N, "threshold": T, "keys": ["ssh-ed25519 AAAA...", ...]}``.
Rotation is a new root whose version is the current one plus one, signed by the threshold of the
current keys and by the threshold of its own keys (TUF's rule): :meth:`TrustRoot.rotate`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from armgit.crypto.dsse import ROOT_PAYLOAD_TYPE
from armgit.crypto.ed25519 import KeyFileError, keyid, parse_public_key, public_key_line
from armgit.runtime.envelope import Envelope, parse_envelope, parse_json, verified_keys
from armgit.runtime.errors import IndexRefused

ROOT_KIND = "IndexRoot"


@dataclass(frozen=True, slots=True)
class TrustRoot:
    """Trusted index keys by key id, the number of distinct keys that must sign, and the root's
    version (0 when pinned from arguments rather than a root file)."""

    keys: Mapping[str, Ed25519PublicKey]
    threshold: int
    version: int = 0

    @classmethod
    def from_public_keys(
        cls, lines: Iterable[str | bytes], threshold: int = 1, version: int = 0
    ) -> TrustRoot:
        """Pin OpenSSH public key lines (duplicates count once)."""
        keys: dict[str, Ed25519PublicKey] = {}
        for line in lines:
            key = parse_public_key(line)
            keys[keyid(key)] = key
        if threshold < 1:
            raise ValueError("the threshold is at least 1")
        if threshold > len(keys):
            raise ValueError(
                f"threshold {threshold} needs at least {threshold} distinct trusted keys, "
                f"got {len(keys)}"
            )
        return cls(MappingProxyType(keys), threshold, version)

    def to_payload(self) -> dict[str, Any]:
        return {
            "kind": ROOT_KIND,
            "version": self.version,
            "threshold": self.threshold,
            "keys": sorted(public_key_line(k) for k in self.keys.values()),
        }

    def require(self, envelope: Envelope, what: str) -> None:
        """Raise :class:`IndexRefused` unless ``threshold`` distinct keys of this root signed."""
        good = verified_keys(envelope, self.keys)
        if len(good) < self.threshold:
            raise IndexRefused(
                "signature-threshold",
                f"{what} has valid signatures from {len(good)} trusted key(s); "
                f"{self.threshold} needed",
            )

    def rotate(self, data: bytes) -> TrustRoot:
        """Accept the next root: version + 1, signed by the threshold of this root's keys and by
        the threshold of its own. Returns the new root; raises :class:`IndexRefused`."""
        envelope = parse_envelope(data, ROOT_PAYLOAD_TYPE)
        new = _root_from_payload(envelope.payload)
        if new.version != self.version + 1:
            raise IndexRefused(
                "root-version",
                f"root version {new.version} does not follow the trusted version {self.version}",
            )
        self.require(envelope, "the new root (by the current keys)")
        new.require(envelope, "the new root (by its own keys)")
        return new


def parse_root(data: bytes) -> TrustRoot:
    """A root file pinned as trusted (first use): it must be signed by its own threshold."""
    envelope = parse_envelope(data, ROOT_PAYLOAD_TYPE)
    root = _root_from_payload(envelope.payload)
    root.require(envelope, "the root")
    return root


def _root_from_payload(payload: bytes) -> TrustRoot:
    value = parse_json(payload, "root payload")
    try:
        if not isinstance(value, dict) or value.get("kind") != ROOT_KIND:
            raise ValueError(f"kind is not {ROOT_KIND}")
        version, threshold, keys = value["version"], value["threshold"], value["keys"]
        if type(version) is not int or version < 1 or type(threshold) is not int:
            raise ValueError("version and threshold are positive integers")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ValueError("keys is a list of OpenSSH public key lines")
        return TrustRoot.from_public_keys(keys, threshold, version)
    except (KeyError, ValueError, KeyFileError) as exc:
        raise IndexRefused("malformed-payload", f"root: {exc}") from exc


def root_payload_bytes(root: TrustRoot) -> bytes:
    """The canonical JSON payload of ``root`` (for signing it)."""
    from armgit.core.canonical import to_canonical_json

    return to_canonical_json(root.to_payload())
