"""RFC 8785 (JCS) canonical JSON and the digests built on it.

A runtime in any language reproduces these bytes, so every hash armgit writes is computed here.

The reference implementation (the ``rfc8785`` package) costs ~150 µs for a typical genome; a
registry of 10,000 versions would spend seconds in it. So ``json.dumps(sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`` is used where it provably gives the JCS bytes: it
escapes strings as JCS does, and orders keys by code point, which equals JCS's UTF-16 order when
no key has a character above U+FFFF; numbers agree for integers within ±2^53 (integral floats
are printed as those integers, as JCS does) and for non-integral floats with
1e-4 <= |x| < 1e16 (both print the shortest round-trip digits in fixed notation). Anything else
goes to the reference implementation. orjson (with sorted keys) prints those same bytes faster
and is used where installed. A property test checks that they agree on arbitrary JSON data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import rfc8785

from armgit.core.jsondata import JsonValue

# orjson prints the same bytes as json.dumps for what _fast lets through (property-tested),
# several times faster; armgit depends on it, but a runtime reading the index works without
_ORJSON_DUMPS: Callable[..., bytes] | None
try:
    from orjson import OPT_SORT_KEYS as _ORJSON_SORT_KEYS
    from orjson import dumps as _ORJSON_DUMPS
except ImportError:  # pragma: no cover - installed with armgit
    _ORJSON_DUMPS, _ORJSON_SORT_KEYS = None, 0

DIGEST_PREFIX = "sha256:"
_SAFE_INT = 2**53


class CanonicalizationError(ValueError):
    """The value is not JSON data RFC 8785 can encode (a lone surrogate, a huge integer, ...)."""


class _Slow(Exception):
    """The value needs the reference implementation."""


def _fast(value: Any) -> Any:
    """``value`` ready for ``json.dumps`` to print its JCS form (integral floats as integers),
    or :class:`_Slow` where only the reference implementation is right."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if -_SAFE_INT < value < _SAFE_INT:
            return value
        raise _Slow
    if kind is float:
        if value.is_integer():
            if abs(value) < _SAFE_INT:
                return int(value)  # JCS prints 1.0 as 1, json.dumps as 1.0
            raise _Slow
        if 1e-4 <= abs(value) < 1e16:
            return value
        raise _Slow
    if kind is list:
        return [_fast(v) for v in value]
    if kind is dict:
        for key in value:
            if not key.isascii() and max(map(ord, key)) > 0xFFFF:
                raise _Slow  # JCS orders keys by UTF-16 units, Python by code points
        return {k: _fast(v) for k, v in value.items()}
    raise _Slow


def to_canonical_json(value: JsonValue) -> bytes:
    """Return the RFC 8785 canonical JSON encoding of plain JSON data."""
    try:
        try:
            ready = _fast(value)
        except _Slow:
            return rfc8785.dumps(value)
        if _ORJSON_DUMPS is not None:
            try:
                return _ORJSON_DUMPS(ready, option=_ORJSON_SORT_KEYS)
            except TypeError:  # orjson's own limits (a lone surrogate, deep nesting)
                pass
        text = json.dumps(ready, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")
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
