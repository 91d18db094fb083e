"""Parsing a DSSE envelope from raw bytes and checking its signatures. Pure: bytes in.

JSON is parsed strictly: UTF-8 only, duplicate keys, ``NaN`` and ``Infinity`` refused. The
payload is verified and parsed from the exact decoded bytes; nothing is re-serialized.

An index envelope is one huge base64 string and a few small fields. Scanning that string as JSON
costs as much as decoding it, so :func:`parse_envelope` cuts it out first (it holds no quote and
no backslash, so its end is the next quote) and parses the rest strictly; anything unusual falls
back to parsing the whole envelope. Either way the result and the refusal reasons are the same.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from armgit.crypto.dsse import pae
from armgit.runtime.errors import IndexRefused

MAX_SIGNATURES = 32
# stands in for the cut-out payload string while the rest of the envelope is parsed; a NUL must be
# escaped in JSON, so with no other backslash in the rest, no other string can equal it
_CUT = b'"\\u0000armgit-cut"'
_CUT_VALUE = "\x00armgit-cut"


class DuplicateKey(ValueError):
    """A JSON object names a key twice."""


def strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` refusing duplicate keys (one C-level ``dict`` and two lengths)."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return result


def reject_constant(name: str) -> Any:
    """``parse_constant`` refusing ``NaN``, ``Infinity`` and ``-Infinity``."""
    raise ValueError(f"{name} is not JSON")


def strict_decoder() -> json.JSONDecoder:
    """A decoder refusing duplicate keys and ``NaN``; one per parse (its C scanner keeps a memo
    of keys that another thread's parse must not share)."""
    return json.JSONDecoder(object_pairs_hook=strict_object, parse_constant=reject_constant)


def parse_json(data: bytes, what: str) -> Any:
    """Parse strict JSON; raises :class:`IndexRefused` (``duplicate-key`` or ``malformed-*``)."""
    malformed = "malformed-envelope" if what == "envelope" else "malformed-payload"
    try:
        text = data.decode("utf-8")
        return strict_decoder().decode(text)
    except DuplicateKey as exc:
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


def _skip_space(data: bytes, pos: int) -> int:
    while data[pos : pos + 1] in (b" ", b"\t", b"\n", b"\r"):
        pos += 1
    return pos


def _cut_payload(data: bytes) -> tuple[Any, memoryview] | None:
    """The envelope parsed with its payload string cut out, and that string's raw bytes; or
    ``None`` when the envelope does not have the plain shape this needs (then parse it whole)."""
    key = data.find(b'"payload"')
    if key < 0:
        return None
    start = _skip_space(data, key + len(b'"payload"'))
    if data[start : start + 1] != b":":
        return None
    start = _skip_space(data, start + 1)
    if data[start : start + 1] != b'"':
        return None
    end = data.find(b'"', start + 1)
    if end < 0 or data.find(b"\\", start + 1, end) >= 0:
        return None
    rest = data[:start] + _CUT + data[end + 1 :]
    if rest.count(b"\\") != 1:
        return None  # only the stand-in has an escape, so no other string can equal it
    value = parse_json(rest, "envelope")
    if not isinstance(value, dict) or value.get("payload") != _CUT_VALUE:
        return None  # the string cut out was not the envelope's payload
    return value, memoryview(data)[start + 1 : end]


def parse_envelope(data: bytes, payload_type: str) -> Envelope:
    """Parse envelope bytes, insisting on exactly ``payload_type``."""
    cut = _cut_payload(data)
    if cut is not None:
        value, raw_payload = cut
    else:
        value = parse_json(data, "envelope")
        raw_payload = None
    if not isinstance(value, dict) or set(value) != {"payload", "payloadType", "signatures"}:
        raise IndexRefused(
            "malformed-envelope", "expected an object with payload, payloadType and signatures"
        )
    if value["payloadType"] != payload_type:
        raise IndexRefused(
            "wrong-payload-type",
            f"payloadType is {value['payloadType']!r}, expected {payload_type!r}",
        )
    payload = _b64(value["payload"] if raw_payload is None else raw_payload, "payload")
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
    if isinstance(value, str):
        if not value.isascii():
            raise IndexRefused("malformed-envelope", f"{where} is not valid base64")
        value = value.encode("ascii")
    if not isinstance(value, bytes | memoryview):
        raise IndexRefused("malformed-envelope", f"{where} is not a base64 string")
    try:
        return binascii.a2b_base64(value, strict_mode=True)
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
