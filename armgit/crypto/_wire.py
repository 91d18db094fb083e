"""The SSH wire encoding (RFC 4251 section 5): uint32, string and mpint, read with bounds checks.

Every read checks the bytes left first, so truncated or oversized input raises ``WireError``
(which callers turn into their own error) and never ``IndexError`` or ``struct.error``.
"""

from __future__ import annotations

from dataclasses import dataclass


class WireError(ValueError):
    """The bytes do not follow the SSH wire encoding; the message names the field."""


@dataclass(slots=True)
class Reader:
    """Reads SSH wire fields from the front of ``data``."""

    data: bytes
    pos: int = 0

    def remaining(self) -> int:
        """How many bytes are left unread."""
        return len(self.data) - self.pos

    def raw(self, size: int, field: str) -> bytes:
        """Read exactly ``size`` bytes."""
        if size > self.remaining():
            raise WireError(f"{field}: needs {size} bytes, only {self.remaining()} left")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def uint32(self, field: str) -> int:
        """Read a big-endian uint32."""
        return int.from_bytes(self.raw(4, field), "big")

    def string(self, field: str) -> bytes:
        """Read a uint32 length and that many bytes."""
        return self.raw(self.uint32(field), field)

    def text(self, field: str) -> str:
        """Read a string that must be UTF-8 without NUL bytes (OpenSSH's cstring)."""
        value = self.string(field)
        if b"\0" in value:
            raise WireError(f"{field}: contains a NUL byte")
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WireError(f"{field}: not valid UTF-8") from exc

    def mpint(self, field: str) -> int:
        """Read a non-negative mpint in its one minimal encoding (no redundant zero byte)."""
        value = self.string(field)
        if value and value[0] & 0x80:
            raise WireError(f"{field}: negative number")
        if len(value) > 1 and value[0] == 0 and not value[1] & 0x80:
            raise WireError(f"{field}: number has a redundant leading zero byte")
        if value == b"\0":
            raise WireError(f"{field}: zero is encoded as an empty string")
        return int.from_bytes(value, "big")

    def end(self, what: str) -> None:
        """Require that everything was read."""
        if self.remaining():
            raise WireError(f"{what}: {self.remaining()} unexpected trailing bytes")


def put_uint32(value: int) -> bytes:
    """Encode a uint32."""
    return value.to_bytes(4, "big")


def put_string(value: bytes | str) -> bytes:
    """Encode a string (``str`` is written as UTF-8)."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    return put_uint32(len(data)) + data


def put_mpint(value: int) -> bytes:
    """Encode a non-negative integer as a minimal mpint."""
    if value < 0:
        raise ValueError("negative mpint")
    data = value.to_bytes((value.bit_length() + 8) // 8, "big") if value else b""
    return put_string(data)
