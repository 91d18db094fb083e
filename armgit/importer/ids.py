"""Convex document ids: Crockford base32 of varint(table number), 16 id bytes and a Fletcher-16
checksum, so the table of any id can be decoded (ARM stores some references as plain strings)."""

from __future__ import annotations

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
_ID_BYTES = 16
_CHECKSUM_BYTES = 2


def table_number(document_id: str) -> int | None:
    """The table number encoded in ``document_id``, or ``None`` when it is not a Convex id (bad
    characters, wrong length, or a checksum that does not match)."""
    if not 31 <= len(document_id) <= 37:
        return None
    bits = 0
    count = 0
    data = bytearray()
    for ch in document_id:
        value = _VALUES.get(ch)
        if value is None:
            return None
        bits = (bits << 5) | value
        count += 5
        if count >= 8:
            count -= 8
            data.append((bits >> count) & 0xFF)
            bits &= (1 << count) - 1
    if bits != 0:
        return None
    decoded = _varint(bytes(data))
    if decoded is None:
        return None
    number, used = decoded
    if len(data) != used + _ID_BYTES + _CHECKSUM_BYTES:
        return None
    if _fletcher16(bytes(data[:-_CHECKSUM_BYTES])) != bytes(data[-_CHECKSUM_BYTES:]):
        return None
    return number


def _varint(data: bytes) -> tuple[int, int] | None:
    value = 0
    for index, byte in enumerate(data[:5]):
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return value, index + 1
    return None


def _fletcher16(data: bytes) -> bytes:
    low = high = 0
    for byte in data:
        low = (low + byte) & 0xFF
        high = (high + low) & 0xFF
    return bytes((low, high))


def encode_id(table: int, internal: bytes) -> str:
    """A Convex id for ``table`` and 16 ``internal`` bytes (tests generate exports with it)."""
    if len(internal) != _ID_BYTES:
        raise ValueError("a Convex id holds 16 internal bytes")
    head = bytearray()
    number = table
    while True:
        byte = number & 0x7F
        number >>= 7
        head.append(byte | (0x80 if number else 0))
        if not number:
            break
    body = bytes(head) + internal
    data = body + _fletcher16(body)
    bits = int.from_bytes(data, "big")
    length = len(data) * 8
    pad = (-length) % 5
    bits <<= pad
    length += pad
    return "".join(ALPHABET[(bits >> shift) & 31] for shift in range(length - 5, -1, -5))
