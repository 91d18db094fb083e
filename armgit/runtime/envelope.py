"""Parsing a DSSE envelope from raw bytes and checking its signatures. Pure: bytes in.

JSON is parsed strictly: UTF-8 only, duplicate keys, ``NaN`` and ``Infinity`` refused. The
payload is verified and parsed from the exact decoded bytes; nothing is re-serialized.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from armgit.index.dsse import pae
from armgit.runtime.errors import IndexRefused

MAX_SIGNATURES = 32


class _DuplicateKey(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes, what: str) -> Any:
    """Parse strict JSON; raises :class:`IndexRefused` (``duplicate-key`` or ``malformed-*``)."""
    malformed = "malformed-envelope" if what == "envelope" else "malformed-payload"
    try:
        text = data.decode("utf-8")
        return json.loads(text, object_pairs_hook=_object, parse_constant=_constant)
    except _DuplicateKey as exc:
        raise IndexRefused("duplicate-key", f"{what}: key {exc} appears twice") from exc
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise IndexRefused(malformed, f"{what} is not valid JSON ({exc})") from exc


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed envelope: the exact payload bytes, their PAE, and the signatures (keyid, raw)."""

    payload_type: str
    payload: bytes
    message: bytes
    signatures: tuple[tuple[str | None, bytes], ...]


def parse_envelope(data: bytes, payload_type: str) -> Envelope:
    """Parse envelope bytes, insisting on exactly ``payload_type``."""
    value = parse_json(data, "envelope")
    if not isinstance(value, dict) or set(value) != {"payload", "payloadType", "signatures"}:
        raise IndexRefused(
            "malformed-envelope", "expected an object with payload, payloadType and signatures"
        )
    if value["payloadType"] != payload_type:
        raise IndexRefused(
            "wrong-payload-type",
            f"payloadType is {value['payloadType']!r}, expected {payload_type!r}",
        )
    payload = _b64(value["payload"], "payload")
    raw_signatures = value["signatures"]
    if not isinstance(raw_signatures, list) or not 0 < len(raw_signatures) <= MAX_SIGNATURES:
        raise IndexRefused(
            "malformed-envelope", f"signatures is a list of 1 to {MAX_SIGNATURES} entries"
        )
    signatures = []
    for i, item in enumerate(raw_signatures):
        if not isinstance(item, dict) or not set(item) <= {"keyid", "sig"} or "sig" not in item:
            raise IndexRefused("malformed-envelope", f"signatures[{i}] is not {{keyid, sig}}")
        hint = item.get("keyid")
        if hint is not None and not isinstance(hint, str):
            raise IndexRefused("malformed-envelope", f"signatures[{i}].keyid is not a string")
        signatures.append((hint, _b64(item["sig"], f"signatures[{i}].sig")))
    return Envelope(payload_type, payload, pae(payload_type, payload), tuple(signatures))


def _b64(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise IndexRefused("malformed-envelope", f"{where} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise IndexRefused("malformed-envelope", f"{where} is not valid base64") from exc


def verified_keys(envelope: Envelope, keys: Mapping[str, Ed25519PublicKey]) -> set[str]:
    """The ids of the distinct ``keys`` with a valid signature in ``envelope``.

    A signature's keyid is only a hint of which key to try first: every trusted key is tried
    against every signature, and one key counts once however many signatures it made.
    """
    good: set[str] = set()
    for key_id, key in keys.items():
        ordered = sorted(envelope.signatures, key=lambda s: s[0] != key_id)
        for _, sig in ordered:
            try:
                key.verify(sig, envelope.message)
            except InvalidSignature:
                continue
            good.add(key_id)
            break
    return good
