"""RFC 8785 digests, fast: ``json.dumps`` where it provably gives the JCS bytes, else rfc8785.

``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` escapes strings as JCS
does and orders keys by code point, which equals JCS's UTF-16 order when no key has a character
above U+FFFF. Numbers agree for integers within +-2**53 and for non-integral floats with
1e-4 <= |x| < 1e16 (both print the shortest round-trip digits in fixed notation). Anything else
goes to the reference implementation. A test checks both paths agree.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from armgit.core.canonical import canonical_digest

_SAFE_INT = 2**53


def _simple(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -_SAFE_INT < value < _SAFE_INT
    if kind is float:
        return not value.is_integer() and 1e-4 <= abs(value) < 1e16
    if kind is list:
        return all(_simple(v) for v in value)
    if kind is dict:
        return all(max(map(ord, k), default=0) <= 0xFFFF and _simple(v) for k, v in value.items())
    return False


def jcs_digest(value: Any) -> str:
    """``sha256:<hex>`` of the RFC 8785 canonical JSON of ``value``."""
    if _simple(value):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    return canonical_digest(value)
