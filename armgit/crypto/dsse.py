"""DSSE envelopes (https://github.com/secure-systems-lab/dsse): sign and parse, bytes in and out.

The signature is over the pre-authentication encoding (PAE) of payload type and payload, never
over re-serialized JSON, so a verifier checks exactly the bytes it received.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.crypto.ed25519 import keyid

INDEX_PAYLOAD_TYPE = "application/vnd.armgit.index+json"
ROOT_PAYLOAD_TYPE = "application/vnd.armgit.root+json"
TIMESTAMP_PAYLOAD_TYPE = "application/vnd.armgit.timestamp+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """``"DSSEv1" SP len(type) SP type SP len(body) SP body`` (lengths in ASCII decimal bytes)."""
    type_bytes = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def sign_envelope(payload: bytes, payload_type: str, keys: Sequence[Ed25519PrivateKey]) -> bytes:
    """The envelope as JSON bytes (keys sorted, no whitespace: the same input gives the same
    bytes, as Ed25519 signatures are deterministic). Signatures are ordered by key id."""
    message = pae(payload_type, payload)
    signatures = sorted(
        (
            {"keyid": keyid(k.public_key()), "sig": base64.b64encode(k.sign(message)).decode()}
            for k in keys
        ),
        key=lambda s: s["keyid"],
    )
    # json.dumps(envelope, sort_keys=True, separators=(",", ":")) but for the payload, whose
    # base64 text needs no escaping: scanning megabytes of it for characters to escape is what
    # made json.dumps the slowest step of a cached compile
    return b"".join(
        (
            b'{"payload":"',
            base64.b64encode(payload),
            b'","payloadType":',
            _json(payload_type),
            b',"signatures":',
            _json(signatures),
            b"}\n",
        )
    )


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
