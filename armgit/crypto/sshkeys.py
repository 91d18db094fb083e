"""OpenSSH public keys (``ssh-ed25519 AAAA... comment``) and private keys, as values.

Supported: Ed25519, ECDSA on NIST P-256/384/521, RSA of 2048 to 16384 bits. Every failure is a
``SshKeyError`` that says what is wrong; errors from ``base64``, ``cryptography`` or the wire
decoder never escape.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from dataclasses import dataclass
from typing import TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from armgit.crypto._wire import Reader, WireError
from armgit.errors import ArmgitError

CryptoPublicKey: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
CryptoPrivateKey: TypeAlias = (
    ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
)

_ED25519 = "ssh-ed25519"
_RSA = "ssh-rsa"
_ECDSA_PREFIX = "ecdsa-sha2-"
_CURVES: dict[str, ec.EllipticCurve] = {
    "nistp256": ec.SECP256R1(),
    "nistp384": ec.SECP384R1(),
    "nistp521": ec.SECP521R1(),
}
KEY_TYPES = (_ED25519, *(_ECDSA_PREFIX + curve for curve in _CURVES), _RSA)
_RSA_MIN_BITS = 2048
_RSA_MAX_BITS = 16384
_MAX_LINE = 16384
_PRIVATE_BEGIN = b"-----BEGIN OPENSSH PRIVATE KEY-----"
_PRIVATE_END = b"-----END OPENSSH PRIVATE KEY-----"
_PRIVATE_MAGIC = b"openssh-key-v1\0"


class SshKeyError(ArmgitError):
    """An OpenSSH key could not be read or is of a kind armgit does not accept."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicKey:
    """An OpenSSH public key: its type, its wire-format blob and the comment from its line.

    Construction checks the blob, so every ``PublicKey`` holds a usable key. Two keys are the
    same key when their blobs are equal; the comment is only a label.
    """

    key_type: str
    blob: bytes
    comment: str = ""

    def __post_init__(self) -> None:
        decoded_type = _decode_blob(self.blob)[0]
        if decoded_type != self.key_type:
            raise SshKeyError(
                f"key type {self.key_type!r} does not match the key data ({decoded_type!r})"
            )

    @property
    def fingerprint(self) -> str:
        """``SHA256:<unpadded base64>``, exactly as ``ssh-keygen -l`` prints it."""
        return fingerprint(self.blob)

    def to_line(self) -> str:
        """The ``authorized_keys`` form: ``<type> <base64 blob> [comment]``."""
        line = f"{self.key_type} {base64.b64encode(self.blob).decode('ascii')}"
        return f"{line} {self.comment}" if self.comment else line

    def to_cryptography(self) -> CryptoPublicKey:
        """The ``cryptography`` public key object for this key."""
        return _decode_blob(self.blob)[1]


def fingerprint(blob: bytes) -> str:
    """The SHA-256 fingerprint of a public key blob, as ``ssh-keygen -l`` prints it."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii")
    return "SHA256:" + digest.rstrip("=")


def parse_public_key(line: str) -> PublicKey:
    """Parse one OpenSSH public key line: ``<type> <base64> [comment]``.

    Leading and trailing whitespace is ignored; options before the type (as in
    ``authorized_keys``) are not accepted.
    """
    if len(line) > _MAX_LINE:
        raise SshKeyError(f"public key line is longer than {_MAX_LINE} characters")
    text = line.strip()
    if "\n" in text or "\r" in text:
        raise SshKeyError("public key must be a single line")
    parts = text.split(None, 2)
    if len(parts) < 2:
        raise SshKeyError("public key line needs '<type> <base64 key data> [comment]'")
    key_type, encoded = parts[0], parts[1]
    comment = parts[2].strip() if len(parts) == 3 else ""
    if key_type not in KEY_TYPES:
        raise SshKeyError(_unsupported(key_type))
    blob = _b64decode(encoded)
    return PublicKey(key_type=key_type, blob=blob, comment=comment)


def parse_public_key_blob(blob: bytes, comment: str = "") -> PublicKey:
    """Parse a public key in its SSH wire format (the bytes a key line base64-encodes)."""
    key_type = _decode_blob(blob)[0]
    return PublicKey(key_type=key_type, blob=blob, comment=comment)


def from_cryptography(key: CryptoPublicKey, comment: str = "") -> PublicKey:
    """Wrap a ``cryptography`` public key as a ``PublicKey``."""
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise SshKeyError(f"unsupported key object {type(key).__name__}")
    try:
        line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    except ValueError as exc:
        raise SshKeyError(f"cannot encode key as OpenSSH: {exc}") from exc
    key_type, encoded = line.decode("ascii").split(" ", 1)
    return PublicKey(key_type=key_type, blob=_b64decode(encoded), comment=comment)


def parse_private_key(data: bytes, passphrase: bytes | None = None) -> CryptoPrivateKey:
    """Load an OpenSSH private key (``-----BEGIN OPENSSH PRIVATE KEY-----``) from its bytes.

    Encrypted keys need ``passphrase`` (and the optional ``bcrypt`` package, which
    ``cryptography`` uses for OpenSSH's key derivation).
    """
    _refuse_unsupported_private(data)
    try:
        key = serialization.load_ssh_private_key(data, password=passphrase)
    except TypeError as exc:  # passphrase missing, or given for a key that has none
        raise SshKeyError(f"cannot load private key: {exc}") from exc
    except UnsupportedAlgorithm as exc:
        raise SshKeyError(_unsupported_private(str(exc))) from exc
    except ValueError as exc:
        hint = " (wrong passphrase?)" if passphrase is not None else ""
        raise SshKeyError(f"cannot load private key: {exc}{hint}") from exc
    if not isinstance(
        key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ):
        raise SshKeyError(f"unsupported private key type {type(key).__name__}")
    public_key_of(key)  # applies the same rules as to public keys (curve, RSA size)
    return key


def public_key_of(private_key: CryptoPrivateKey, comment: str = "") -> PublicKey:
    """The public half of a private key, e.g. to write its ``.pub`` line with ``to_line``."""
    return from_cryptography(private_key.public_key(), comment)


def _refuse_unsupported_private(data: bytes) -> None:
    """Refuse a key type we do not accept before ``cryptography`` loads it (and, for DSA, warns).

    The public key sits unencrypted in the file's header. Input that does not parse here is
    left for ``cryptography`` to reject with its own message.
    """
    lines = data.strip().splitlines()
    if len(lines) < 3 or lines[0] != _PRIVATE_BEGIN or lines[-1] != _PRIVATE_END:
        return
    try:
        reader = Reader(base64.b64decode(b"".join(lines[1:-1]), validate=True))
        if reader.raw(len(_PRIVATE_MAGIC), "magic") != _PRIVATE_MAGIC:
            return
        for field in ("cipher", "kdf", "kdf options"):
            reader.string(field)
        reader.uint32("key count")
        key_type = Reader(reader.string("public key")).text("key type")
    except (binascii.Error, ValueError):
        return
    if key_type not in KEY_TYPES:
        raise SshKeyError(_unsupported(key_type))


def _unsupported(key_type: str) -> str:
    return f"unsupported key type {key_type!r} (accepted: {', '.join(KEY_TYPES)})"


def _unsupported_private(detail: str) -> str:
    if "bcrypt" in detail:
        return (
            "cannot decrypt private key: encrypted OpenSSH keys need the 'bcrypt' package, "
            "which is not installed"
        )
    return f"cannot load private key: {detail}"


def _b64decode(encoded: str) -> bytes:
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SshKeyError(f"key data is not valid base64: {exc}") from exc
    if base64.b64encode(blob).decode("ascii") != encoded:
        raise SshKeyError("key data is not canonical base64")
    return blob


@functools.lru_cache(maxsize=1024)  # a runtime checks approvals of the same few keys
def _decode_blob(blob: bytes) -> tuple[str, CryptoPublicKey]:
    """Check a public key blob completely and return its type and key object."""
    reader = Reader(blob)
    try:
        key_type = reader.text("key type")
        if key_type == _ED25519:
            key: CryptoPublicKey = _ed25519(reader)
        elif key_type.startswith(_ECDSA_PREFIX) and key_type in KEY_TYPES:
            key = _ecdsa(reader, key_type.removeprefix(_ECDSA_PREFIX))
        elif key_type == _RSA:
            key = _rsa(reader)
        else:
            raise SshKeyError(_unsupported(key_type))
        reader.end("public key")
    except WireError as exc:
        raise SshKeyError(f"malformed public key: {exc}") from exc
    return key_type, key


def _ed25519(reader: Reader) -> ed25519.Ed25519PublicKey:
    raw = reader.string("Ed25519 key")
    if len(raw) != 32:
        raise SshKeyError(f"Ed25519 key must be 32 bytes, not {len(raw)}")
    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


def _ecdsa(reader: Reader, curve_name: str) -> ec.EllipticCurvePublicKey:
    named = reader.text("ECDSA curve")
    if named != curve_name:
        raise SshKeyError(f"ECDSA key type says {curve_name!r} but its data says {named!r}")
    point = reader.string("ECDSA point")
    curve = _CURVES[curve_name]
    if len(point) != 1 + 2 * ((curve.key_size + 7) // 8) or point[0] != 4:
        raise SshKeyError(f"ECDSA point for {curve_name} is not an uncompressed point")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
    except ValueError as exc:
        raise SshKeyError(f"ECDSA point is not on {curve_name}") from exc


def _rsa(reader: Reader) -> rsa.RSAPublicKey:
    exponent = reader.mpint("RSA exponent")
    modulus = reader.mpint("RSA modulus")
    bits = modulus.bit_length()
    if not _RSA_MIN_BITS <= bits <= _RSA_MAX_BITS:
        raise SshKeyError(
            f"RSA key has {bits} bits; armgit accepts {_RSA_MIN_BITS} to {_RSA_MAX_BITS}"
        )
    try:
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    except ValueError as exc:
        raise SshKeyError(f"invalid RSA key: {exc}") from exc


__all__ = [
    "CryptoPrivateKey",
    "CryptoPublicKey",
    "KEY_TYPES",
    "PublicKey",
    "SshKeyError",
    "fingerprint",
    "from_cryptography",
    "parse_private_key",
    "parse_public_key",
    "parse_public_key_blob",
    "public_key_of",
]
