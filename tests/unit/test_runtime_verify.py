"""The verifier refuses every tampered, stale, replayed or wrongly signed index, with its reason."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.core.canonical import to_canonical_json
from armgit.core.index.tables import pack_payload
from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE, sign_envelope
from armgit.runtime import Accepted, IndexRefused, TrustRoot, verify_index
from tests.index_helpers import EXPIRES_AT, NOW, example_payload, payload_bytes, sign, ssh_keygen


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Ed25519PrivateKey, str]]:
    directory = tmp_path_factory.mktemp("keys")
    return [ssh_keygen(directory, f"k{i}")[1:] for i in range(3)]


def trust(keys: list[tuple[Ed25519PrivateKey, str]], n: int = 1, threshold: int = 1) -> TrustRoot:
    return TrustRoot.from_public_keys([line for _, line in keys[:n]], threshold)


def refused(reason: str, call: Callable[[], object]) -> IndexRefused:
    with pytest.raises(IndexRefused) as info:
        call()
    assert info.value.reason == reason, info.value
    return info.value


def edit_envelope(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    envelope = json.loads(data)
    change(envelope)
    return json.dumps(envelope).encode()


def test_valid_index(keys: list[tuple[Ed25519PrivateKey, str]]) -> None:
    index = verify_index(sign(example_payload(), [keys[0][0]]), trust(keys), now=NOW)
    assert index.version == 1
    assert index.expires == EXPIRES_AT
    assert index.resolve("arm-dev", "prod", "customer-support").version == "2.0.0"


def test_flipped_payload_byte(keys: list[tuple[Ed25519PrivateKey, str]]) -> None:
    payload = bytearray(payload_bytes(example_payload()))
    payload[payload.index(b'"autonomyTier":2') + 15] = ord("5")
    good = sign(example_payload(), [keys[0][0]])

    def swap(envelope: dict[str, Any]) -> None:
        envelope["payload"] = base64.b64encode(bytes(payload)).decode()

    refused(
        "signature-threshold", lambda: verify_index(edit_envelope(good, swap), trust(keys), now=NOW)
    )


def test_flipped_signature_byte(keys: list[tuple[Ed25519PrivateKey, str]]) -> None:
    good = sign(example_payload(), [keys[0][0]])

    def flip(envelope: dict[str, Any]) -> None:
        sig = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
        sig[10] ^= 1
        envelope["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()

    refused(
        "signature-threshold", lambda: verify_index(edit_envelope(good, flip), trust(keys), now=NOW)
    )


@pytest.mark.parametrize(
    "payload_type",
    ["application/vnd.armgit.index+json ", "application/json", "APPLICATION/VND.ARMGIT.INDEX+JSON"],
)
def test_payload_type_must_be_exact(
    keys: list[tuple[Ed25519PrivateKey, str]], payload_type: str
) -> None:
    signed_other = sign_envelope(payload_bytes(example_payload()), payload_type, [keys[0][0]])
    refused("wrong-payload-type", lambda: verify_index(signed_other, trust(keys), now=NOW))

    def retype(envelope: dict[str, Any]) -> None:
        envelope["payloadType"] = payload_type

    good = sign(example_payload(), [keys[0][0]])
    refused(
        "wrong-payload-type",
        lambda: verify_index(edit_envelope(good, retype), trust(keys), now=NOW),
    )


def test_keyid_is_only_a_hint(keys: list[tuple[Ed25519PrivateKey, str]]) -> None:
    good = sign(example_payload(), [keys[0][0]])

    def relabel(envelope: dict[str, Any]) -> None:
        envelope["signatures"][0]["keyid"] = "SHA256:somebody-else"

    assert verify_index(edit_envelope(good, relabel), trust(keys), now=NOW).version == 1

    def no_keyid(envelope: dict[str, Any]) -> None:
        del envelope["signatures"][0]["keyid"]

    assert verify_index(edit_envelope(good, no_keyid), trust(keys), now=NOW).version == 1


def test_keyid_of_a_trusted_key_on_a_wrong_signature(
    keys: list[tuple[Ed25519PrivateKey, str]],
) -> None:
    rogue = sign(example_payload(), [keys[2][0]])
    trusted_id = json.loads(sign(example_payload(), [keys[0][0]]))["signatures"][0]["keyid"]

    def claim(envelope: dict[str, Any]) -> None:
        envelope["signatures"][0]["keyid"] = trusted_id

    refused(
        "signature-threshold",
        lambda: verify_index(edit_envelope(rogue, claim), trust(keys), now=NOW),
    )


def test_one_key_signing_twice_counts_once(keys: list[tuple[Ed25519PrivateKey, str]]) -> None:
    twice = sign(example_payload(), [keys[0][0], keys[0][0]])
    error = refused("signature-threshold", lambda: verify_index(twice, trust(keys, 2, 2), now=NOW))
    assert "1 trusted key" in str(error)
    both = sign(example_payload(), [keys[0][0], keys[1][0]])
    assert verify_index(both, trust(keys, 2, 2), now=NOW).version == 1


def test_threshold_not_met(keys: list[tuple[Ed25519PrivateKey, str]]) -> None:
    one = sign(example_payload(), [keys[0][0], keys[2][0]])  # keys[2] is not trusted
    refused("signature-threshold", lambda: verify_index(one, trust(keys, 2, 2), now=NOW))


def test_wrong_key(keys: list[tuple[Ed25519PrivateKey, str]]) -> None:
    refused(
        "signature-threshold",
        lambda: verify_index(sign(example_payload(), [keys[1][0]]), trust(keys), now=NOW),
    )


def test_duplicate_key_in_payload(keys: list[tuple[Ed25519PrivateKey, str]]) -> None:
    payload = payload_bytes(example_payload())
    doubled = payload.replace(b'"version":1', b'"version":1,"version":9', 1)
    data = sign_envelope(doubled, INDEX_PAYLOAD_TYPE, [keys[0][0]])
    error = refused("duplicate-key", lambda: verify_index(data, trust(keys), now=NOW))
    assert "version" in str(error)


def test_duplicate_key_in_envelope(keys: list[tuple[Ed25519PrivateKey, str]]) -> None:
    good = sign(example_payload(), [keys[0][0]])
    doubled = good.replace(b'"payloadType":', b'"payloadType":"x","payloadType":', 1)
    refused("duplicate-key", lambda: verify_index(doubled, trust(keys), now=NOW))


def test_expired(keys: list[tuple[Ed25519PrivateKey, str]]) -> None:
    data = sign(example_payload(), [keys[0][0]])
    refused("expired", lambda: verify_index(data, trust(keys), now=EXPIRES_AT))
    assert verify_index(data, trust(keys), now=EXPIRES_AT - 1).version == 1


def test_replayed_older_index(keys: list[tuple[Ed25519PrivateKey, str]]) -> None:
    data = sign(example_payload(version=3), [keys[0][0]])
    refused("rollback", lambda: verify_index(data, trust(keys), now=NOW, last=Accepted(4, "x")))
    index = verify_index(data, trust(keys), now=NOW)
    same = Accepted(3, index.digest)
    assert verify_index(data, trust(keys), now=NOW, last=same).version == 3
    other = sign(example_payload(version=3, registry="changed"), [keys[0][0]])
    refused("rollback", lambda: verify_index(other, trust(keys), now=NOW, last=same))


def test_genome_hash_recomputed(keys: list[tuple[Ed25519PrivateKey, str]]) -> None:
    payload = example_payload()
    version = payload["tenants"]["arm-dev"]["versions"]["customer-support@2.0.0"]
    version["genome"]["modelConfig"]["temperature"] = 1.5
    refused(
        "genome-hash-mismatch",
        lambda: verify_index(sign(payload, [keys[0][0]]), trust(keys), now=NOW),
    )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[]",
        b"{",
        b'{"payload":"!!","payloadType":"application/vnd.armgit.index+json",'
        b'"signatures":[{"sig":"AA=="}]}',
        "\ufeff{}".encode("utf-16"),
    ],
)
def test_malformed_envelopes(keys: list[tuple[Ed25519PrivateKey, str]], data: bytes) -> None:
    refused("malformed-envelope", lambda: verify_index(data, trust(keys), now=NOW))


def test_nan_in_payload_refused(keys: list[tuple[Ed25519PrivateKey, str]]) -> None:
    payload = payload_bytes(example_payload()).replace(b'"version":1', b'"version":NaN', 1)
    data = sign_envelope(payload, INDEX_PAYLOAD_TYPE, [keys[0][0]])
    refused("malformed-payload", lambda: verify_index(data, trust(keys), now=NOW))


def test_size_cap(keys: list[tuple[Ed25519PrivateKey, str]]) -> None:
    data = sign(example_payload(), [keys[0][0]])
    refused("too-large", lambda: verify_index(data, trust(keys), now=NOW, max_bytes=100))


def test_signature_over_structurally_broken_payload(
    keys: list[tuple[Ed25519PrivateKey, str]],
) -> None:
    payload: Any = pack_payload(example_payload())
    del payload["tenants"]["arm-dev"]["versions"]
    data = sign_envelope(to_canonical_json(payload), INDEX_PAYLOAD_TYPE, [keys[0][0]])
    refused("malformed-payload", lambda: verify_index(data, trust(keys), now=NOW))


def test_trusted_key_file_from_ssh_keygen_is_usable(tmp_path: Path) -> None:
    _, key, line = ssh_keygen(tmp_path, "fresh")
    index = verify_index(
        sign(example_payload(), [key]), TrustRoot.from_public_keys([line]), now=NOW
    )
    assert index.registry == "arm-example"
