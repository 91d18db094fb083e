"""The envelope checked independently (cryptography + base64 + the DSSE spec), the payload against
its JSON Schema, determinism, and trust root rotation."""

from __future__ import annotations

import base64
import gc
import hashlib
import json
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

from armgit.core.canonical import to_canonical_json
from armgit.core.index.tables import pack_payload
from armgit.crypto.dsse import ROOT_PAYLOAD_TYPE, sign_envelope
from armgit.runtime import IndexRefused, TrustRoot, parse_root, verify_index
from armgit.runtime.trust import root_payload_bytes
from tests.conftest import REPO_ROOT
from tests.index_helpers import NOW, example_payload, sign, ssh_keygen


def test_independent_dsse_check(tmp_path: Path) -> None:
    _, key, line = ssh_keygen(tmp_path, "k")
    envelope = json.loads(sign(example_payload(), [key]))
    payload_type = envelope["payloadType"]
    body = base64.b64decode(envelope["payload"])
    # DSSE v1 PAE, written out from the spec
    pae = b"DSSEv1 " + str(len(payload_type.encode())).encode() + b" " + payload_type.encode()
    pae += b" " + str(len(body)).encode() + b" " + body
    public = load_ssh_public_key(line.encode())
    assert isinstance(public, Ed25519PublicKey)
    public.verify(base64.b64decode(envelope["signatures"][0]["sig"]), pae)
    blob = base64.b64decode(line.split()[1])
    fingerprint = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    assert envelope["signatures"][0]["keyid"] == fingerprint
    assert payload_type == "application/vnd.armgit.index+json"
    assert json.loads(body)["kind"] == "Index"


def test_keyid_matches_ssh_keygen_fingerprint(tmp_path: Path) -> None:
    import subprocess

    path, key, _ = ssh_keygen(tmp_path, "k")
    printed = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{path}.pub"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert json.loads(sign(example_payload(), [key]))["signatures"][0]["keyid"] == printed


def test_payload_is_canonical_and_deterministic(tmp_path: Path) -> None:
    _, key, _ = ssh_keygen(tmp_path, "k")
    first, second = sign(example_payload(), [key]), sign(example_payload(), [key])
    assert first == second
    body = base64.b64decode(json.loads(first)["payload"])
    assert body == to_canonical_json(json.loads(body))


def test_payload_matches_schema() -> None:
    schema = json.loads((REPO_ROOT / "schemas/index.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(pack_payload(example_payload()))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(pack_payload(example_payload(version=0)))
    with pytest.raises(jsonschema.ValidationError):  # the tables of entries are rows
        jsonschema.Draft202012Validator(schema).validate(example_payload())


def _root(keys: list[str], threshold: int, version: int, signers: list[object]) -> bytes:
    root = TrustRoot.from_public_keys(keys, threshold, version)
    return sign_envelope(root_payload_bytes(root), ROOT_PAYLOAD_TYPE, signers)  # type: ignore[arg-type]


def test_key_rotation(tmp_path: Path) -> None:
    _, old, old_line = ssh_keygen(tmp_path, "old")
    _, new, new_line = ssh_keygen(tmp_path, "new")
    _, rogue, rogue_line = ssh_keygen(tmp_path, "rogue")
    v1 = parse_root(_root([old_line], 1, 1, [old]))
    assert v1.version == 1
    # only the new key signed: the current keys did not agree
    with pytest.raises(IndexRefused) as info:
        v1.rotate(_root([new_line], 1, 2, [new]))
    assert info.value.reason == "signature-threshold"
    # only the old key signed: the new keys did not prove possession
    with pytest.raises(IndexRefused):
        v1.rotate(_root([new_line], 1, 2, [old]))
    # skipping a version
    with pytest.raises(IndexRefused) as info:
        v1.rotate(_root([new_line], 1, 3, [old, new]))
    assert info.value.reason == "root-version"
    with pytest.raises(IndexRefused):
        v1.rotate(_root([rogue_line], 1, 2, [rogue]))
    v2 = v1.rotate(_root([new_line], 1, 2, [old, new]))
    assert v2.version == 2
    payload = example_payload()
    assert verify_index(sign(payload, [new]), v2, now=NOW).version == 1
    with pytest.raises(IndexRefused):
        verify_index(sign(payload, [old]), v2, now=NOW)


def test_root_must_meet_its_own_threshold(tmp_path: Path) -> None:
    _, a, a_line = ssh_keygen(tmp_path, "a")
    _, _, b_line = ssh_keygen(tmp_path, "b")
    with pytest.raises(IndexRefused):
        parse_root(_root([a_line, b_line], 2, 1, [a]))


def test_loading_leaves_no_reference_cycle(tmp_path: Path) -> None:
    """A cycle through the payload reader would keep the payload's text and bytes (tens of MB
    for a fleet) alive until the cyclic collector next ran, or for ever where it is off."""
    _, key, line = ssh_keygen(tmp_path, "k")
    data = sign(example_payload(), [key])
    trust = TrustRoot.from_public_keys([line])
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        verify_index(data, trust, now=NOW)
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()
