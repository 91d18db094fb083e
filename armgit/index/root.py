"""``armgit index root``: the trust-root file runtimes pin, made from armgit.yaml's
``indexSigners``.

A root is a DSSE envelope (``application/vnd.armgit.root+json``) of ``{"kind": "IndexRoot",
"version": N, "threshold": T, "keys": [OpenSSH lines]}`` (:mod:`armgit.runtime.trust`). The
first one (version 1) is signed by the threshold of its own keys; each later one (version N + 1,
``previous``) also by the threshold of the root before it, so a runtime pinned to any root of
the chain can follow the rotations and nothing else can (TUF's rule). The file is checked here
exactly as a runtime will check it before it is returned.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.crypto.dsse import ROOT_PAYLOAD_TYPE, sign_envelope
from armgit.crypto.ed25519 import KeyFileError
from armgit.errors import UsageError
from armgit.index.signed import Signers
from armgit.runtime.errors import IndexRefused
from armgit.runtime.trust import TrustRoot, parse_root, root_payload_bytes


def make_root(
    signers: Signers, keys: Sequence[Ed25519PrivateKey], previous: bytes | None = None
) -> tuple[bytes, TrustRoot]:
    """The signed root of ``signers`` (the version after ``previous``'s, or 1), signed by
    ``keys``; :class:`UsageError` when a runtime would not accept it."""
    if not signers.keys:
        raise UsageError(
            "armgit.yaml lists no indexSigners: add the index keys' public lines there first "
            "(docs/index.md, Keys)"
        )
    before: TrustRoot | None = None
    if previous is not None:
        try:
            before = parse_root(previous)
        except IndexRefused as exc:
            raise UsageError(f"the previous root is not a valid root: {exc.detail}") from exc
    version = before.version + 1 if before is not None else 1
    try:
        root = TrustRoot.from_public_keys(signers.lines(), signers.threshold, version)
    except (KeyFileError, ValueError) as exc:
        raise UsageError(f"armgit.yaml indexSigners cannot be a trust root: {exc}") from exc
    data = sign_envelope(root_payload_bytes(root), ROOT_PAYLOAD_TYPE, keys)
    try:
        if before is not None:
            before.rotate(data)
        else:
            parse_root(data)
    except IndexRefused as exc:
        what = "the previous root's and the new" if before is not None else "its own"
        raise UsageError(
            f"the root would not be accepted: {exc.detail}. Sign it (--key, repeatable) with "
            f"the threshold of {what} keys"
        ) from exc
    return data, root
