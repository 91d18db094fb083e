"""Ed25519 keys in OpenSSH format, as stock ``ssh-keygen -t ed25519`` makes them.

A key's id is its OpenSSH fingerprint (``SHA256:<unpadded base64>``, what ``ssh-keygen -l``
prints), so the id in an envelope can be checked by hand. Only ``cryptography`` is imported.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from armgit.errors import ArmgitError


class KeyFileError(ArmgitError):
    """A key file or public key line could not be used (not Ed25519, encrypted, malformed)."""


def parse_private_key(data: bytes, *, name: str = "key") -> Ed25519PrivateKey:
    """An unencrypted Ed25519 private key from an OpenSSH private key file's bytes."""
    try:
        key = serialization.load_ssh_private_key(data, password=None)
    except TypeError as exc:
        raise KeyFileError(
            f"{name}: the key is protected by a passphrase; use an unencrypted key "
            "(ssh-keygen -t ed25519 -N '') kept in your CI's secret store"
        ) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(f"{name}: not an OpenSSH private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{name}: index keys are Ed25519 (ssh-keygen -t ed25519)")
    return key


def parse_public_key(line: str | bytes, *, name: str = "public key") -> Ed25519PublicKey:
    """An Ed25519 public key from an OpenSSH public key line (``ssh-ed25519 AAAA... comment``)."""
    raw = line.encode() if isinstance(line, str) else line
    raw = raw.strip()
    try:
        key = serialization.load_ssh_public_key(raw)
    except (ValueError, UnsupportedAlgorithm, binascii.Error) as exc:
        raise KeyFileError(f"{name}: not an OpenSSH public key line ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{name}: index keys are Ed25519 (ssh-keygen -t ed25519)")
    return key


def public_key_line(key: Ed25519PublicKey) -> str:
    """The OpenSSH public key line (``ssh-ed25519 AAAA...``) without a comment."""
    return key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


def keyid(key: Ed25519PublicKey) -> str:
    """The OpenSSH fingerprint: ``SHA256:`` + unpadded base64 of SHA-256 of the key blob."""
    blob = base64.b64decode(public_key_line(key).split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
