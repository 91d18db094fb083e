"""RFC 8785 (JCS) canonical JSON and the digests built on it.

A runtime in any language reproduces these bytes, so every hash armgit writes is computed here.

The reference implementation (the ``rfc8785`` package) costs ~150 µs for a typical genome; a
registry of 10,000 versions would spend seconds in it. So ``json.dumps(sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`` is used where it provably gives the JCS bytes: it
escapes strings as JCS does, and orders keys by code point, which equals JCS's UTF-16 order when
no key has a character above U+FFFF; numbers agree for integers within ±2^53 and for
non-integral floats with 1e-4 <= |x| < 1e16 (both print the shortest round-trip digits in fixed
notation). Anything else goes to the reference implementation. A property test checks that the
two agree on arbitrary JSON data.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

from armgit.core.jsondata import JsonValue

DIGEST_PREFIX = "sha256:"
_SAFE_INT = 2**53


class CanonicalizationError(ValueError):
    """The value is not JSON data RFC 8785 can encode (a lone surrogate, a huge integer, ...)."""


def _simple(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_SAFE_INT < value < _SAFE_INT)
    if kind is float:
        return bool(not value.is_integer() and 1e-4 <= abs(value) < 1e16)
    if kind is list:
        return all(_simple(v) for v in value)
    if kind is dict:
        return all(max(map(ord, k), default=0) <= 0xFFFF and _simple(v) for k, v in value.items())
    return False


def to_canonical_json(value: JsonValue) -> bytes:
    """Return the RFC 8785 canonical JSON encoding of plain JSON data."""
    try:
        if _simple(value):
            text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            return text.encode("utf-8")
        return rfc8785.dumps(value)
    except (UnicodeEncodeError, rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise CanonicalizationError(f"not canonicalizable JSON data: {exc}") from exc


def sha256_digest(data: bytes) -> str:
    """Return ``sha256:<hex>`` of raw bytes."""
    return DIGEST_PREFIX + hashlib.sha256(data).hexdigest()


def canonical_digest(value: JsonValue) -> str:
    """Return ``sha256:<hex>`` of the canonical JSON of ``value``."""
    return sha256_digest(to_canonical_json(value))


def genome_hash(genome: JsonValue) -> str:
    """The genome hash of SPEC section 3: SHA-256 over the JCS encoding of the genome as written."""
    return canonical_digest(genome)
