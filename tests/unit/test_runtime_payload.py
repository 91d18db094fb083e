"""The payload reader: genome hashes from the canonical encoding of each genome put back
together, policy digests from canonical slices of the signed bytes, tables of rows (format 3),
duplicate keys and rows anywhere, canonical punctuation at the levels it walks, and the
envelope's fast path giving the same answers as a whole parse."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.core.canonical import canonical_digest, to_canonical_json
from armgit.core.index.compact import merge_genome
from armgit.core.index.tables import pack_payload
from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE, sign_envelope
from armgit.crypto.ed25519 import public_key_line
from armgit.runtime import IndexRefused, TrustRoot, verify_index
from armgit.runtime.envelope import parse_envelope
from tests.index_helpers import NOW, example_payload, payload_bytes

KEY = Ed25519PrivateKey.generate()
TRUST = TrustRoot.from_public_keys([public_key_line(KEY.public_key())])
VERSION = "customer-support@2.0.0"


def signed(payload: bytes) -> bytes:
    return sign_envelope(payload, INDEX_PAYLOAD_TYPE, [KEY])


def refused(reason: str, data: bytes) -> IndexRefused:
    with pytest.raises(IndexRefused) as info:
        verify_index(data, TRUST, now=NOW)
    assert info.value.reason == reason, info.value
    return info.value


def tenant(payload: dict[str, Any]) -> dict[str, Any]:
    return payload["tenants"]["arm-dev"]  # type: ignore[no-any-return]


def example(**changes: Any) -> dict[str, Any]:
    """The example payload with VERSION's genome written whole (its parts put back inline), so
    that its hash is the sha256 of its slice."""
    payload = example_payload(**changes)
    version = tenant(payload)["versions"][VERSION]
    version["genome"] = merge_genome(
        version["genome"], version.pop("parts"), tenant(payload)["parts"]
    )
    return payload


def with_genome_text(genome_text: bytes, genome_hash: str) -> bytes:
    """The example payload's bytes with the genome of VERSION replaced by ``genome_text`` (any
    bytes) and its genomeHash (and its deployments' and instances') set to ``genome_hash``."""
    payload = example()
    old_hash = tenant(payload)["versions"][VERSION]["genomeHash"]
    marker: dict[str, Any] = {"marker": True}
    tenant(payload)["versions"][VERSION]["genome"] = marker
    data = payload_bytes(payload).replace(old_hash.encode(), genome_hash.encode())
    return data.replace(to_canonical_json(marker), genome_text, 1)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def example_genome() -> dict[str, Any]:
    return tenant(example())["versions"][VERSION]["genome"]  # type: ignore[no-any-return]


def test_the_slice_is_what_is_hashed() -> None:
    genome = to_canonical_json(example_genome())
    assert verify_index(signed(with_genome_text(genome, sha(genome))), TRUST, now=NOW)
    refused("genome-hash-mismatch", signed(with_genome_text(genome, sha(genome + b" "))))


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text.replace(b'":', b'": ', 1),  # whitespace
        lambda text: text.replace(b"0.5", b"0.50", 1),  # a number not in shortest form
        lambda text: text.replace(b"0.5", b"5e-1", 1),
        lambda text: text.replace(b'"temperature":0.5', b'"temperature":1.0', 1),  # 1 in JCS
        lambda text: text.replace(b"a", b"\\u0061", 1),  # an escape JCS does not use
        lambda text: b'{"zzz":1,' + text[1:],  # keys out of order
    ],
    ids=["space", "trailing-zero", "exponent", "integral-float", "escape", "key-order"],
)
def test_a_genome_hashes_as_its_canonical_form(edit: Callable[[bytes], bytes]) -> None:
    """Format 3: a genome is hashed as the canonical encoding of what was parsed (the registry's
    genome hash), whatever its text: the hash of a non-canonical text is refused."""
    canonical = to_canonical_json(example_genome())
    assert b'"temperature":0.5' in canonical
    text = edit(canonical)
    assert text != canonical
    refused("genome-hash-mismatch", signed(with_genome_text(text, sha(text))))
    index = verify_index(
        signed(with_genome_text(text, canonical_digest(json.loads(text)))), TRUST, now=NOW
    )
    assert index.resolve("arm-dev", "prod", "customer-support").genome == json.loads(text)


def test_a_duplicate_key_inside_a_genome() -> None:
    text = to_canonical_json(example_genome()).replace(
        b'"modelConfig":', b'"modelConfig":{},"modelConfig":', 1
    )
    error = refused("duplicate-key", signed(with_genome_text(text, sha(text))))
    assert "modelConfig" in str(error)


def test_look_alike_genome_key_inside_the_genome() -> None:
    payload = example()
    version = tenant(payload)["versions"][VERSION]
    inner: dict[str, Any] = {"a": 1}
    version["genome"]["modelConfig"]["genome"] = inner
    version["genome"]["provenance"]["note"] = '"genome":{"a":1},"genomeHash":"x"'
    good = canonical_digest(version["genome"])
    version["genomeHash"] = good
    index = verify_index(signed(payload_bytes(payload)), TRUST, now=NOW)
    assert (
        index.resolve("arm-dev", "prod", "customer-support").genome["modelConfig"]["genome"]
        == inner
    )
    # the hash of the look-alike is not the genome's hash
    data = payload_bytes(payload).replace(good.encode(), canonical_digest(inner).encode())
    refused("genome-hash-mismatch", signed(data))


def test_policy_table_entries_are_hashed() -> None:
    payload = example()
    policies = tenant(payload)["policies"]
    digest = next(iter(policies))
    policies[digest]["autonomyTier"] = 5
    refused("policy-digest-mismatch", signed(payload_bytes(payload)))


def test_a_policy_not_in_the_table() -> None:
    payload = example()
    tenant(payload)["deployments"]["prod"]["customer-support"]["policy"] = "0" * 12
    refused("malformed-payload", signed(payload_bytes(payload)))


def test_an_approval_not_in_the_table() -> None:
    payload = example()
    tenant(payload)["deployments"]["prod"]["customer-support"]["approvals"] = ["nobody"]
    refused("malformed-payload", signed(payload_bytes(payload)))


@pytest.mark.parametrize(
    ("needle", "doubled"),
    [
        (b'"approvals":{', b'"approvals":{"x":{},"x":{},'),  # a table's object
        (b'"provenance":{', b'"provenance":{"x":1,"x":2,'),  # in a row (a genome)
        (b'"arm-dev":{', b'"arm-dev":{"name":"a","name":"b",'),  # a tenant (walked)
        (b'"tenants":{', b'"tenants":{"arm-dev":{},'),  # a tenant named twice
    ],
    ids=["table", "in-a-row", "tenant-member", "tenant"],
)
def test_duplicate_keys_anywhere(needle: bytes, doubled: bytes) -> None:
    data = payload_bytes(example_payload())
    assert needle in data
    refused("duplicate-key", signed(data.replace(needle, doubled, 1)))


@pytest.mark.parametrize("table", ["versions", "approvals", "instances", "deployments"])
def test_two_rows_naming_one_entry(table: str) -> None:
    payload = pack_payload(example_payload())
    rows = tenant(payload)[table]
    rows = rows["prod"]["rows"] if table == "deployments" else rows["rows"]
    if not rows:  # the example's approvals
        rows.append(["20270101-bob-0123456789", "bob"])
    rows.append(list(rows[0]))
    error = refused("duplicate-key", signed(to_canonical_json(payload)))
    assert repr(rows[0][0]) in str(error)


@pytest.mark.parametrize(
    "edit",
    [
        lambda data: data + b"\n",
        lambda data: data.replace(b'"tenants":{', b'"tenants": {', 1),
        lambda data: data.replace(b'"versions":{', b'"versions" :{', 1),
        lambda data: b" " + data,
    ],
)
def test_the_walked_levels_are_canonical(edit: Callable[[bytes], bytes]) -> None:
    data = edit(payload_bytes(example_payload()))
    json.loads(data)  # still JSON
    refused("malformed-payload", signed(data))


def test_truncated_payload() -> None:
    data = payload_bytes(example_payload())
    for cut in (1, len(data) // 2, len(data) - 1):
        refused("malformed-payload", signed(data[:cut]))


def test_non_ascii_payload_hashes_bytes() -> None:
    payload = example()
    version = tenant(payload)["versions"][VERSION]
    version["genome"]["provenance"]["note"] = "café ☕ \U0001f600"
    good = canonical_digest(version["genome"])
    version["genomeHash"] = good
    index = verify_index(signed(payload_bytes(payload)), TRUST, now=NOW)
    assert index.resolve("arm-dev", "prod", "customer-support").genome_hash == good


# -- the envelope: the payload cut out, or the whole envelope parsed --------------------------


def envelope_variants(data: bytes) -> list[bytes]:
    envelope = json.loads(data)
    b64 = envelope["payload"]
    escaped = json.dumps(envelope).replace(b64[:4], "".join(f"\\u{ord(c):04x}" for c in b64[:4]))
    return [
        data,
        json.dumps(envelope, indent=2).encode(),  # whitespace
        json.dumps(dict(reversed(envelope.items()))).encode(),  # another key order
        escaped.encode(),  # escapes inside the payload: parsed whole
        json.dumps({"signatures": [dict(envelope["signatures"][0])], **envelope}).encode(),
    ]


def test_envelope_fast_path_and_whole_parse_agree() -> None:
    data = signed(payload_bytes(example_payload()))
    expected = parse_envelope(data, INDEX_PAYLOAD_TYPE)
    for variant in envelope_variants(data):
        assert parse_envelope(variant, INDEX_PAYLOAD_TYPE) == expected


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d.replace(b'"payload":', b'"payload":"AAAA","payload":', 1), "duplicate-key"),
        (
            lambda d: d.replace(b'{"payload":', b'{"x":{"payload":"AAAA"},"payload":', 1),
            "malformed-envelope",
        ),
        (lambda d: d.replace(b'"payload":"', b'"payload":"\x01', 1), "malformed-envelope"),
        (lambda d: d.replace(b'"payload":"', b'"payload":"\xff', 1), "malformed-envelope"),
        (lambda d: d.replace(b'"payload":"', b'"payload":"=', 1), "malformed-envelope"),
        (lambda d: d.replace(b'"payload":"', b'"payload": 12, "y":"', 1), "malformed-envelope"),
        (lambda d: d.replace(b'"payload":"', b'"payload":["', 1), "malformed-envelope"),
        (
            lambda d: d.replace(b'"payloadType"', b'"payloadType\\u0000armgit-cut"', 1),
            "malformed-envelope",
        ),
        (lambda d: d[: d.index(b'"payloadType"')], "malformed-envelope"),
    ],
)
def test_envelope_refusals(edit: Callable[[bytes], bytes], reason: str) -> None:
    data = edit(signed(payload_bytes(example_payload())))
    refused(reason, data)


def test_a_nested_payload_key_is_not_taken_for_the_payload() -> None:
    data = signed(payload_bytes(example_payload()))
    envelope = json.loads(data)
    inner = base64.b64encode(b"{}").decode()
    nested = {"payloadType": envelope["payloadType"], "signatures": envelope["signatures"]}
    nested["signatures"] = [{**envelope["signatures"][0], "keyid": "k"}]
    text = json.dumps(
        {
            "signatures": nested["signatures"],
            "payload": envelope["payload"],
            "payloadType": envelope["payloadType"],
        }
    )
    assert verify_index(text.encode(), TRUST, now=NOW)
    with_inner = text.replace('"keyid": "k"', f'"keyid": "k", "payload": "{inner}"')
    refused("malformed-envelope", with_inner.encode())


def test_a_version_entry_look_alike_inside_the_genome() -> None:
    """A genome holding the text that follows a genome in its version entry, with a hash of
    what precedes it: the genome's end is where its parse ends, not where that text is."""
    payload = example()
    version = tenant(payload)["versions"][VERSION]
    version["genome"] = {
        "a": {
            "b": 1,
            "genomeHash": "",
            "lifecycle": version["lifecycle"],
        }
    }
    prefix = b'{"a":{"b":1'
    fake = sha(prefix)
    version["genome"]["a"]["genomeHash"] = fake
    version["genomeHash"] = fake
    data = payload_bytes(payload)
    assert prefix + b',"genomeHash":"' + fake.encode() in data
    refused("genome-hash-mismatch", signed(data))


def packed_versions(edit: Callable[[dict[str, Any]], None]) -> bytes:
    """The example payload, packed, with its ``versions`` table edited."""
    payload = pack_payload(example_payload())
    edit(tenant(payload)["versions"])
    return signed(to_canonical_json(payload))


def _add_column(table: dict[str, Any]) -> None:
    table["columns"].append("extra")
    table["rows"][0].append(1)


def _long_row(table: dict[str, Any]) -> None:
    table["rows"][0] += [{}, 1]


def _drop_column(table: dict[str, Any]) -> None:
    table["columns"].remove("lifecycle")


def _first_column(table: dict[str, Any]) -> None:
    table["columns"][0] = "name"


def _columns_twice(table: dict[str, Any]) -> None:
    table["columns"].append("genome")


def _extra_member(table: dict[str, Any]) -> None:
    table["more"] = []


def _not_a_row(table: dict[str, Any]) -> None:
    table["rows"][0] = {"version": table["rows"][0][0]}


@pytest.mark.parametrize(
    "edit",
    [
        _add_column,
        _long_row,
        _drop_column,
        _first_column,
        _columns_twice,
        _extra_member,
        _not_a_row,
    ],
)
def test_version_rows_are_exactly_the_schema(edit: Callable[[dict[str, Any]], None]) -> None:
    assert verify_index(packed_versions(lambda table: None), TRUST, now=NOW)
    refused("malformed-payload", packed_versions(edit))


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t["instances"]["columns"].remove("state"),
        lambda t: t["deployments"]["prod"]["columns"].remove("policy"),
        lambda t: t["approvals"]["rows"].append([1]),
        lambda t: t["instances"]["rows"].append([]),
        lambda t: t.update(deployments=[]),
    ],
    ids=["instance-column", "deployment-column", "key-not-a-string", "empty-row", "not-tables"],
)
def test_rows_of_instances_and_deployments_are_checked(
    edit: Callable[[dict[str, Any]], None],
) -> None:
    payload = pack_payload(example_payload())
    edit(tenant(payload))
    refused("malformed-payload", signed(to_canonical_json(payload)))


def test_a_row_cut_short_or_a_null_is_a_field_the_entry_does_not_have() -> None:
    payload = pack_payload(example_payload())
    instances = tenant(payload)["instances"]
    row = instances["rows"][0]
    columns = instances["columns"]
    assert "secretRef" in columns
    name = row[0]
    row[columns.index("secretRef")] = None
    index = verify_index(signed(to_canonical_json(payload)), TRUST, now=NOW)
    entry = index.payload["tenants"]["arm-dev"]["instances"][name]
    assert "secretRef" not in entry
    assert entry["state"] == row[columns.index("state")]


def test_loads_on_many_threads_at_once() -> None:
    import gc
    import threading

    data = signed(payload_bytes(example_payload()))
    digests: list[str] = []

    def load() -> None:
        for _ in range(20):
            digests.append(verify_index(data, TRUST, now=NOW).digest)

    assert gc.isenabled()
    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(digests) == 80
    assert digests == [sha(base64.b64decode(json.loads(data)["payload"]))] * 80
    assert gc.isenabled()  # the collector is paused during a load, never left off


# -- format 2: genome parts, policy refs -----------------------------------------------------


def test_genomes_with_parts_load_whole() -> None:
    payload = example_payload()
    versions, parts = tenant(payload)["versions"], tenant(payload)["parts"]
    assert all("parts" in v for v in versions.values())  # every example genome has tools
    index = verify_index(signed(payload_bytes(payload)), TRUST, now=NOW)
    resolved = index.resolve("arm-dev", "prod", "customer-support")
    entry = versions[f"customer-support@{resolved.version}"]
    whole = merge_genome(entry["genome"], entry["parts"], parts)
    assert resolved.genome == whole
    assert "toolManifest" in whole
    assert canonical_digest(whole) == resolved.genome_hash == entry["genomeHash"]


def test_a_changed_part_changes_the_genome_hash() -> None:
    payload = example_payload()
    parts = tenant(payload)["parts"]
    ref = tenant(payload)["versions"][VERSION]["parts"]["toolManifest"][0]
    parts[ref] = {**parts[ref], "risk": "low" if parts[ref]["risk"] != "low" else "high"}
    refused("genome-hash-mismatch", signed(payload_bytes(payload)))


@pytest.mark.parametrize(
    "edit",
    [
        lambda version: version["parts"].update(toolManifest=["0" * 12]),  # no such part
        lambda version: version["parts"].update(toolManifest="0" * 12),
        lambda version: version["parts"].update(modelConfig=7),  # neither a ref nor refs
        lambda version: version["genome"].update(toolManifest=[]),  # inline and a part
    ],
    ids=["unknown-ref", "unknown-single-ref", "not-a-ref", "both"],
)
def test_malformed_parts(edit: Callable[[dict[str, Any]], None]) -> None:
    payload = example_payload()
    edit(tenant(payload)["versions"][VERSION])
    refused("malformed-payload", signed(payload_bytes(payload)))


def test_a_part_with_a_number_json_dumps_prints_otherwise() -> None:
    """A part holding 1.0 (JCS: 1): the whole genome is encoded with the reference encoder."""
    payload = example_payload()
    versions, parts = tenant(payload)["versions"], tenant(payload)["parts"]
    version = versions[VERSION]
    tool = parts[version["parts"]["toolManifest"][0]]
    tool["weight"] = 1.0
    whole = merge_genome(version["genome"], version["parts"], parts)
    for other in versions.values():  # every genome naming that tool hashes anew
        other["genomeHash"] = canonical_digest(merge_genome(other["genome"], other["parts"], parts))
    assert b'"weight":1}' in to_canonical_json(tool)
    index = verify_index(signed(payload_bytes(payload)), TRUST, now=NOW)
    assert index.resolve("arm-dev", "prod", "customer-support").genome_hash == canonical_digest(
        whole
    )


def test_policy_refs_are_checked_and_decisions_name_the_full_digest() -> None:
    payload = example_payload()
    policies = tenant(payload)["policies"]
    ref = tenant(payload)["deployments"]["prod"]["customer-support"]["policy"]
    digest = canonical_digest(policies[ref])
    assert digest.startswith("sha256:" + ref)
    assert len(ref) == 12
    index = verify_index(signed(payload_bytes(payload)), TRUST, now=NOW)
    assert index.resolve("arm-dev", "prod", "customer-support").policy["digest"] == digest
    # a key that is not the digest's first 12 hex digits, or the whole digest
    for key in (ref[:-1] + ("0" if ref[-1] != "0" else "1"), digest, digest[7:]):
        wrong = example_payload()
        table = tenant(wrong)["policies"]
        table[key] = table.pop(ref)
        refused("policy-digest-mismatch", signed(payload_bytes(wrong)))


@pytest.mark.parametrize("found", [None, 1, 2, 4, "3"])
def test_another_format_is_refused(found: object) -> None:
    payload = example_payload(format=found)
    if found is None:
        del payload["format"]
    error = refused("malformed-payload", signed(payload_bytes(payload)))
    assert "this runtime reads format 3" in str(error)


def test_a_genome_with_parts_and_a_number_json_dumps_prints_otherwise() -> None:
    """1e21 in the inline genome (JCS: 1e+21): the table is read with the reference encoder,
    parts and all, and the whole genome hashes as JCS has it."""
    payload = example_payload()
    versions, parts = tenant(payload)["versions"], tenant(payload)["parts"]
    version = versions[VERSION]
    version["genome"]["provenance"]["big"] = 1e21
    whole = merge_genome(version["genome"], version["parts"], parts)
    version["genomeHash"] = canonical_digest(whole)
    data = payload_bytes(payload)
    assert b'"big":1e+21' in data
    index = verify_index(signed(data), TRUST, now=NOW)
    resolved = index.resolve("arm-dev", "prod", "customer-support")
    assert resolved.genome == whole
    assert resolved.genome_hash == canonical_digest(whole)
    version["genomeHash"] = canonical_digest({**whole, "x": 1})
    refused("genome-hash-mismatch", signed(payload_bytes(payload)))
