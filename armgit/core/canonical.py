"""RFC 8785 (JCS) canonical JSON and the digests built on it.

A runtime in any language reproduces these bytes, so every hash armgit writes is computed here.
"""

from __future__ import annotations

import hashlib

import rfc8785

from armgit.core.jsondata import JsonValue

DIGEST_PREFIX = "sha256:"


def to_canonical_json(value: JsonValue) -> bytes:
    """Return the RFC 8785 canonical JSON encoding of plain JSON data."""
    return rfc8785.dumps(value)


def sha256_digest(data: bytes) -> str:
    """Return ``sha256:<hex>`` of raw bytes."""
    return DIGEST_PREFIX + hashlib.sha256(data).hexdigest()


def canonical_digest(value: JsonValue) -> str:
    """Return ``sha256:<hex>`` of the canonical JSON of ``value``."""
    return sha256_digest(to_canonical_json(value))


def genome_hash(genome: JsonValue) -> str:
    """The genome hash of SPEC section 3: SHA-256 over the JCS encoding of the genome as written."""
    return canonical_digest(genome)
