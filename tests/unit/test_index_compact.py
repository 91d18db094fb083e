"""Format 2 of the index payload as the builder writes it: genomes split into inline members and
interned parts that put back together hash to the registry's genome hash, policies and parts
named by short refs, compact approval records, and no field repeated that a table holds."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from armgit.core.canonical import canonical_digest
from armgit.core.index.build import tenant_entries
from armgit.core.index.compact import keep, merge_genome, ref_of, split_genomes
from armgit.core.jsondata import JsonObject
from armgit.core.layout import version_id
from armgit.core.models import Version
from armgit.registry.loader import load_registry
from armgit.store.memory import MemoryTree
from tests.index_helpers import example_payload
from tests.unit.helpers import T, example_files


def test_every_genome_put_back_is_the_registry_s() -> None:
    files = example_files()
    snapshot = load_registry(MemoryTree(files)).snapshot
    tenant = example_payload()["tenants"]["arm-dev"]
    assert tenant["versions"]
    assert tenant["parts"]
    for key, entry in tenant["versions"].items():
        template, label = key.split("@")
        version = snapshot.get(version_id("arm-dev", template, label), Version)
        assert version is not None
        whole = merge_genome(entry["genome"], entry.get("parts", {}), tenant["parts"])
        assert whole == version.genome.model_dump(mode="json", by_alias=True, exclude_none=True)
        assert canonical_digest(whole) == entry["genomeHash"] == version.genome_hash
        assert set(entry) <= {"genome", "genomeHash", "lifecycle", "parts"}
    for ref, part in tenant["parts"].items():
        assert ref == ref_of(part)
    for ref, policy in tenant["policies"].items():
        assert canonical_digest(policy).startswith("sha256:" + ref)


def test_deployments_and_instances_name_what_the_tables_hold() -> None:
    tenant = example_payload()["tenants"]["arm-dev"]
    entries = [d for by in tenant["deployments"].values() for d in by.values()]
    entries += list(tenant["instances"].values())
    for entry in entries:
        assert "genomeHash" not in entry
        assert "status" not in entry
        assert entry["policy"] in tenant["policies"]
    # a canary rollout is kept; the default one (all at once, no steps) is left out
    assert tenant["deployments"]["prod"]["customer-support"]["rolloutPolicy"]["strategy"] == (
        "canary"
    )


def test_split_interns_tool_lists_item_by_item_and_repeated_objects() -> None:
    tool_a: JsonObject = {"toolId": "a", "risk": "low", "schemaVersion": "1.0"}
    tool_b: JsonObject = {"toolId": "b", "risk": "high", "schemaVersion": "1.0"}
    config: JsonObject = {"modelId": "m", "temperature": 0.5}
    genomes: dict[str, Any] = {
        "t@1": {"modelConfig": config, "provenance": {"by": "x"}, "toolManifest": [tool_a]},
        "t@2": {"modelConfig": config, "provenance": {"by": "y"}, "toolManifest": [tool_b, tool_a]},
        "u@1": {"modelConfig": {"modelId": "n"}, "toolManifest": []},
    }
    split, table = split_genomes(genomes)
    assert split["t@2"] == (
        {"provenance": {"by": "y"}},
        {"modelConfig": ref_of(config), "toolManifest": [ref_of(tool_b), ref_of(tool_a)]},
    )
    # an object only one genome has, and an empty list, stay inline
    assert split["u@1"] == ({"modelConfig": {"modelId": "n"}, "toolManifest": []}, {})
    assert len(table) == 3
    for key, genome in genomes.items():
        inline, parts = split[key]
        assert merge_genome(inline, parts, table) == genome


def test_a_ref_collision_stops_the_compile() -> None:
    table: dict[str, Any] = {}
    keep(table, "abc", {"a": 1}, "parts")
    assert keep(table, "abc", {"a": 1}, "parts") == "abc"
    with pytest.raises(ValueError, match="share the ref abc"):
        keep(table, "abc", {"a": 2}, "parts")


def test_an_approval_is_a_compact_record_naming_its_file() -> None:
    files = example_files()
    snapshot = load_registry(MemoryTree(files)).snapshot
    version = snapshot.get(version_id("arm-dev", "customer-support", "2.0.0"), Version)
    assert version is not None
    path = f"{T}/approvals/20260301-bob-0123456789.yaml"
    approval = (
        "apiVersion: armgit/v1\nkind: Approval\nstatement:\n  tenant: arm-dev\n"
        "  subject: {kind: Deployment, ref: arm-dev/deployment/prod/customer-support}\n"
        "  change: {type: DEPLOYMENT_ACTIVATION, from: 1.0.0, to: 2.0.0}\n"
        f"  digest: '{version.genome_hash}'\n  decision: APPROVE\n  approver: bob\n"
        "  justification: checked\n  createdAt: '2026-03-01T12:00:00Z'\n"
        "  expiresAt: '2026-03-02T12:00:00Z'\nsignature: |\n"
        "  -----BEGIN SSH SIGNATURE-----\n  AAAA\n  -----END SSH SIGNATURE-----\n"
    ).encode()
    loaded = load_registry(MemoryTree({**files, path: approval}))
    tenant: Any = tenant_entries(loaded.snapshot, "arm-dev")
    assert tenant["deployments"]["prod"]["customer-support"]["approvals"] == [
        "20260301-bob-0123456789"
    ]
    assert tenant["approvals"] == {
        "20260301-bob-0123456789": {
            "approver": "bob",
            "change": "DEPLOYMENT_ACTIVATION",
            "createdAt": "2026-03-01T12:00:00Z",
            "file": "sha256:" + hashlib.sha256(approval).hexdigest(),
        }
    }
