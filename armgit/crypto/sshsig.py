"""SSH signatures in the format of ``ssh-keygen -Y sign`` (OpenSSH ``PROTOCOL.sshsig``).

Approvals carry one of these, so anyone can check them with stock OpenSSH. The functions are
pure: text and bytes in, text and values out. Verification is stricter than OpenSSH where that
costs no interoperability: exactly version 1, an empty reserved field, canonical base64 and
minimal number encodings, so a signature has one encoding and cannot be altered and still verify.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeAlias

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from nacl.exceptions import BadSignatureError

from armgit.crypto._wire import Reader, WireError, put_mpint, put_string, put_uint32
from armgit.crypto.sshkeys import (
    CryptoPrivateKey,
    CryptoPublicKey,
    PublicKey,
    SshKeyError,
    fingerprint,
    parse_private_key,
    parse_public_key_blob,
    public_key_of,
)
from armgit.errors import ArmgitError

if TYPE_CHECKING:
    from nacl.signing import VerifyKey

APPROVAL_NAMESPACE = "armgit-approval"

HashName: TypeAlias = Literal["sha256", "sha512"]

_MAGIC = b"SSHSIG"
_VERSION = 1
_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_END = "-----END SSH SIGNATURE-----"
_LINE_WIDTH = 70
_MAX_ARMORED = 65536
_MESSAGE_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
_RSA_SIGNATURE_HASHES: dict[str, hashes.HashAlgorithm] = {
    "rsa-sha2-256": hashes.SHA256(),
    "rsa-sha2-512": hashes.SHA512(),
}
_RSA_SIGN_ALG = "rsa-sha2-512"  # what ssh-keygen uses
_ECDSA_HASHES: dict[int, hashes.HashAlgorithm] = {
    256: hashes.SHA256(),
    384: hashes.SHA384(),
    521: hashes.SHA512(),
}


class SignatureError(ArmgitError):
    """A signature could not be made, read or verified; the message says exactly why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SshSig:
    """The fields of an SSHSIG blob. ``public_key`` and ``signature`` stay in wire format."""

    version: int
    public_key: bytes
    namespace: str
    reserved: bytes
    hash_algorithm: HashName
    signature: bytes

    @property
    def signer_fingerprint(self) -> str:
        """The ``SHA256:`` fingerprint of the key the signature names."""
        return fingerprint(self.public_key)

    def to_blob(self) -> bytes:
        """The binary SSHSIG blob."""
        return (
            _MAGIC
            + put_uint32(self.version)
            + put_string(self.public_key)
            + put_string(self.namespace)
            + put_string(self.reserved)
            + put_string(self.hash_algorithm)
            + put_string(self.signature)
        )

    def to_armored(self) -> str:
        """The armored text, laid out exactly as ``ssh-keygen -Y sign`` writes it."""
        encoded = base64.b64encode(self.to_blob()).decode("ascii")
        lines = [encoded[i : i + _LINE_WIDTH] for i in range(0, len(encoded), _LINE_WIDTH)]
        return "\n".join([_BEGIN, *lines, _END]) + "\n"


def sign(
    message: bytes,
    private_key: bytes | CryptoPrivateKey,
    namespace: str,
    hash_alg: str = "sha512",
    *,
    passphrase: bytes | None = None,
) -> str:
    """Sign ``message`` in ``namespace`` and return the armored SSHSIG text.

    ``private_key`` is an OpenSSH private key file's bytes (``passphrase`` if it is encrypted)
    or a ``cryptography`` private key. RSA keys sign with ``rsa-sha2-512``, as ``ssh-keygen``
    does. Raises ``SignatureError`` for a bad namespace or hash, ``SshKeyError`` for a bad key.
    """
    hash_name = _check_hash(hash_alg)
    _check_namespace(namespace)
    key = (
        parse_private_key(private_key, passphrase)
        if isinstance(private_key, bytes)
        else private_key
    )
    public = public_key_of(key)
    to_sign = _signed_data(namespace, hash_name, message)
    sig = SshSig(
        version=_VERSION,
        public_key=public.blob,
        namespace=namespace,
        reserved=b"",
        hash_algorithm=hash_name,
        signature=_sign_raw(key, to_sign),
    )
    return sig.to_armored()


def parse_armored(text: str) -> SshSig:
    """Parse armored SSHSIG text into its fields, checking framing, magic and version.

    Accepts LF or CRLF line ends and any line width; surrounding whitespace is ignored.
    """
    return parse_blob(_dearmor(text))


def parse_blob(blob: bytes) -> SshSig:
    """Parse a binary SSHSIG blob into its fields."""
    reader = Reader(blob)
    try:
        if reader.raw(len(_MAGIC), "magic") != _MAGIC:
            raise SignatureError("not an SSH signature: wrong magic preamble (expected 'SSHSIG')")
        version = reader.uint32("version")
        if version != _VERSION:
            raise SignatureError(f"unsupported SSHSIG version {version} (expected {_VERSION})")
        public_key = reader.string("public key")
        namespace = reader.text("namespace")
        reserved = reader.string("reserved")
        hash_algorithm = _check_hash(reader.text("hash algorithm"))
        signature = reader.string("signature")
        reader.end("signature blob")
    except WireError as exc:
        raise SignatureError(f"malformed signature: {exc}") from exc
    return SshSig(
        version=version,
        public_key=public_key,
        namespace=namespace,
        reserved=reserved,
        hash_algorithm=hash_algorithm,
        signature=signature,
    )


def verify(armored: str, message: bytes, namespace: str, allowed: Sequence[PublicKey]) -> PublicKey:
    """Check that ``armored`` signs ``message`` in ``namespace`` by one of the ``allowed`` keys.

    Returns the allowed key that made the signature. Raises ``SignatureError`` naming the first
    problem found: malformed armor or blob, wrong magic or version, unsupported hash, namespace
    mismatch, non-empty reserved field, a key outside ``allowed``, a refused signature algorithm
    (``ssh-rsa`` with SHA-1 among them) or a signature that does not verify.
    """
    fast = _verify_ed25519(armored, message, namespace, allowed)
    if fast is not None:
        return fast
    return _verify_full(armored, message, namespace, allowed)


def _verify_full(
    armored: str, message: bytes, namespace: str, allowed: Sequence[PublicKey]
) -> PublicKey:
    """:func:`verify` field by field, for every key type and layout; says what is wrong."""
    _check_namespace(namespace)
    sig = parse_armored(armored)
    if sig.namespace != namespace:
        raise SignatureError(
            f"namespace mismatch: signature is for {sig.namespace!r}, expected {namespace!r}"
        )
    if sig.reserved:
        raise SignatureError("reserved field is not empty")
    signer = _find_signer(sig, allowed)
    to_verify = _signed_data(namespace, sig.hash_algorithm, message)
    _verify_raw(signer, sig.signature, to_verify)
    return signer


def _verify_ed25519(
    armored: str, message: bytes, namespace: str, allowed: Sequence[PublicKey]
) -> PublicKey | None:
    """The common case of :func:`verify`: an Ed25519 signature armored as ``ssh-keygen`` writes
    it. Everything before the 64 signature bytes is fixed for a key, a namespace and a hash, so
    each allowed key's armored text up to there is made once (:func:`_ed25519_head`) and the
    signature is only compared with it and the rest decoded. Returns the allowed key that made a
    good signature, or ``None`` for anything else (the full path then reads it again and says
    what is wrong). It accepts only what the full path accepts: the same fields, each exactly
    checked, in canonical base64 without empty lines."""
    for signer in allowed:
        if signer.key_type != "ssh-ed25519":
            continue
        for hash_name in _HASH_NAMES:
            head = _ed25519_head(signer.blob, namespace, hash_name)
            if armored.startswith(head.text):
                break
        else:
            continue
        end = len(armored) - len(_LF_END)
        if armored[-1] == "\n":
            end -= 1
        encoded = armored[len(head.text) : end]
        if (
            armored[end:] not in _ENDS
            or "\n\n" in encoded
            or encoded[:1] == "\n"
            or encoded[-1:] == "\n"
        ):
            return None  # other armor, or an empty line: the full path names it
        encoded = encoded.replace("\n", "")
        try:
            tail = binascii.a2b_base64(encoded, strict_mode=True)
        except (binascii.Error, ValueError):
            return None
        if len(tail) != head.tail_size or not tail.startswith(head.tail_start):
            return None  # another length or field
        if "=" in encoded[-2:] and binascii.b2a_base64(tail, newline=False) != encoded.encode():
            return None  # padded, and not canonical base64 (unpadded base64 has one form)
        digest = _MESSAGE_HASHES[head.hash_name](message).digest()
        try:
            head.key.verify(head.signed_prefix + digest, tail[-64:])
        except BadSignatureError:
            return None  # libsodium refuses more than OpenSSL: the full path decides
        return signer
    return None


_HASH_NAMES: tuple[HashName, ...] = ("sha512", "sha256")


class _Head(NamedTuple):
    """An Ed25519 SSHSIG of one key, namespace and hash, up to its signature bytes."""

    text: str  # the armor's first line and the base64 of every whole 3-byte group before them
    tail_start: bytes  # the fixed bytes left (0 to 2) before the signature
    tail_size: int  # bytes the rest of the armor decodes to: tail_start and the 64 signature bytes
    hash_name: HashName
    key: VerifyKey  # libsodium's: verifies in about half the time OpenSSL's takes here
    signed_prefix: bytes  # the signed data before the message's digest


@functools.lru_cache(maxsize=256)
def _ed25519_head(blob: bytes, namespace: str, hash_name: HashName) -> _Head:
    """What every ssh-keygen armored SSHSIG by the Ed25519 key ``blob`` in ``namespace`` with
    ``hash_name`` starts with (pure, made once per key)."""
    _check_namespace(namespace)
    fixed = (
        _MAGIC
        + put_uint32(_VERSION)
        + put_string(blob)
        + put_string(namespace)
        + put_string(b"")
        + put_string(hash_name)
        + put_uint32(4 + 11 + 4 + 64)
        + put_string(b"ssh-ed25519")
        + put_uint32(64)
    )
    whole = len(fixed) // 3 * 3
    encoded = base64.b64encode(fixed[:whole]).decode("ascii")
    lines = [encoded[i : i + _LINE_WIDTH] for i in range(0, len(encoded), _LINE_WIDTH)]
    text = "\n".join([_BEGIN, *lines])
    if len(encoded) % _LINE_WIDTH == 0:
        text += "\n"  # the next line starts with the rest
    key = parse_public_key_blob(blob).to_cryptography()
    assert isinstance(key, ed25519.Ed25519PublicKey)
    from nacl.signing import VerifyKey  # imported here: only approvals are checked with it

    digest_size = _MESSAGE_HASHES[hash_name]().digest_size
    return _Head(
        text,
        fixed[whole:],
        len(fixed) - whole + 64,
        hash_name,
        VerifyKey(key.public_bytes_raw()),
        _signed_prefix(namespace, hash_name, digest_size),
    )


_LF_END = "\n" + _END
_ENDS = (_LF_END, _LF_END + "\n")


@functools.lru_cache(maxsize=64)
def _signed_prefix(namespace: str, hash_name: HashName, digest_size: int) -> bytes:
    """The signed data before the message's digest (``PROTOCOL.sshsig``), the digest's length
    included."""
    return (
        _MAGIC
        + put_string(namespace)
        + put_string(b"")
        + put_string(hash_name)
        + put_uint32(digest_size)
    )


def _check_hash(name: str) -> HashName:
    if name == "sha256":
        return "sha256"
    if name == "sha512":
        return "sha512"
    raise SignatureError(f"unsupported hash algorithm {name!r} (expected 'sha256' or 'sha512')")


def _check_namespace(namespace: str) -> None:
    if not namespace:
        raise SignatureError("namespace must not be empty")
    if "\0" in namespace:
        raise SignatureError("namespace must not contain a NUL character")


def _signed_data(namespace: str, hash_name: HashName, message: bytes) -> bytes:
    digest = _MESSAGE_HASHES[hash_name](message).digest()
    return _signed_prefix(namespace, hash_name, len(digest)) + digest


def _dearmor(text: str) -> bytes:
    if len(text) > _MAX_ARMORED:
        raise SignatureError(f"malformed armor: longer than {_MAX_ARMORED} characters")
    lines = [line.removesuffix("\r") for line in text.strip().split("\n")]
    if lines[0] != _BEGIN:
        raise SignatureError(f"malformed armor: first line must be {_BEGIN!r}")
    if lines[-1] != _END:
        raise SignatureError(f"malformed armor: last line must be {_END!r}")
    if len(lines) < 3:
        raise SignatureError("malformed armor: no signature between the armor lines")
    body = lines[1:-1]
    if any(not line for line in body):
        raise SignatureError("malformed armor: empty line inside the signature")
    encoded = "".join(body)
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"malformed armor: invalid base64 ({exc})") from exc
    if base64.b64encode(blob).decode("ascii") != encoded:
        raise SignatureError("malformed armor: base64 is not in canonical form")
    return blob


def _find_signer(sig: SshSig, allowed: Sequence[PublicKey]) -> PublicKey:
    for key in allowed:
        if key.blob == sig.public_key:
            return key
    raise SignatureError(
        f"signed by a key that is not allowed ({sig.signer_fingerprint}); "
        f"allowed: {', '.join(key.fingerprint for key in allowed) or 'none'}"
    )


def _sign_raw(key: CryptoPrivateKey, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return put_string("ssh-ed25519") + put_string(key.sign(data))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = _ECDSA_HASHES[key.curve.key_size]
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(algorithm)))
        return put_string(public_key_of(key).key_type) + put_string(put_mpint(r) + put_mpint(s))
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm = _RSA_SIGNATURE_HASHES[_RSA_SIGN_ALG]
        raw = key.sign(data, padding.PKCS1v15(), algorithm)
        return put_string(_RSA_SIGN_ALG) + put_string(raw)
    raise SshKeyError(f"unsupported private key type {type(key).__name__}")


def _verify_raw(signer: PublicKey, signature: bytes, data: bytes) -> None:
    reader = Reader(signature)
    try:
        sig_type = reader.text("signature type")
        raw = reader.string("signature value")
        reader.end("signature")
    except WireError as exc:
        raise SignatureError(f"malformed signature: {exc}") from exc
    key = signer.to_cryptography()
    try:
        _check_primitive(key, signer.key_type, sig_type, raw, data)
    except InvalidSignature as exc:
        raise SignatureError(
            f"bad signature: it does not verify for this message and key ({signer.fingerprint})"
        ) from exc


def _check_primitive(
    key: CryptoPublicKey, key_type: str, sig_type: str, raw: bytes, data: bytes
) -> None:
    """Verify ``raw`` over ``data``; raises ``InvalidSignature`` or ``SignatureError``."""
    if isinstance(key, rsa.RSAPublicKey):
        _check_rsa(key, sig_type, raw, data)
        return
    if sig_type != key_type:
        raise SignatureError(f"signature type {sig_type!r} does not match key type {key_type!r}")
    if isinstance(key, ed25519.Ed25519PublicKey):
        if len(raw) != 64:
            raise SignatureError(f"malformed signature: Ed25519 needs 64 bytes, not {len(raw)}")
        key.verify(raw, data)
    else:
        key.verify(_ecdsa_der(raw), data, ec.ECDSA(_ECDSA_HASHES[key.curve.key_size]))


def _check_rsa(key: rsa.RSAPublicKey, sig_type: str, raw: bytes, data: bytes) -> None:
    if sig_type == "ssh-rsa":
        raise SignatureError(
            "refused 'ssh-rsa' signature (RSA with SHA-1); sign with rsa-sha2-256 or rsa-sha2-512"
        )
    algorithm = _RSA_SIGNATURE_HASHES.get(sig_type)
    if algorithm is None:
        raise SignatureError(f"signature type {sig_type!r} does not match an RSA key")
    size = (key.key_size + 7) // 8
    if len(raw) != size:
        raise SignatureError(f"malformed signature: RSA needs {size} bytes, not {len(raw)}")
    key.verify(raw, data, padding.PKCS1v15(), algorithm)


def _ecdsa_der(raw: bytes) -> bytes:
    reader = Reader(raw)
    try:
        r = reader.mpint("ECDSA r")
        s = reader.mpint("ECDSA s")
        reader.end("ECDSA signature")
    except WireError as exc:
        raise SignatureError(f"malformed signature: {exc}") from exc
    return encode_dss_signature(r, s)


__all__ = [
    "APPROVAL_NAMESPACE",
    "HashName",
    "SignatureError",
    "SshSig",
    "parse_armored",
    "parse_blob",
    "sign",
    "verify",
]
