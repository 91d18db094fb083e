"""Mapping ARM and Mission Control rows to registry files: names, labels, genomes and their
hash verdicts, legacy blocks, evidence, references to deleted rows, and the report."""

from __future__ import annotations

from typing import Any

import pytest

from armgit.core.canonical import genome_hash
from armgit.core.content import parse_content
from armgit.importer.build import map_exports
from armgit.importer.export import parse_export
from armgit.importer.files import read_export
from armgit.importer.model import Mapped
from armgit.importer.names import NameBook, slugify, to_label
from armgit.importer.render import render_yaml
from tests.import_exports import SAMPLES, small_arm, small_mc


def _doc(mapped: Mapped, path: str) -> dict[str, Any]:
    return mapped.entities[path].doc


def _tables(mapped: Mapped) -> dict[str, Any]:
    tables = mapped.report()["tables"]
    assert isinstance(tables, dict)
    return tables


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("v1.0.0", "1.0.0"),
        ("1.2.3-rc.1", "1.2.3-rc.1"),
        ("v2", "2.0.0"),
        ("V1.2", "1.2.0"),
        ("01.002.3", "1.2.3"),
        ("beta-3", "0.0.0-legacy.beta-3"),
        ("2024 Jan!", "0.0.0-legacy.2024-jan"),
        ("", "0.0.0-legacy.unnamed"),
    ],
)
def test_labels_become_semver(label: str, expected: str) -> None:
    assert to_label(label) == expected


def test_names_are_valid_and_collisions_deterministic() -> None:
    assert slugify("Customer Support Agent", "x") == "customer-support-agent"
    assert slugify("Ünïcode — Agent!", "x") == "unicode-agent"
    assert slugify("🗺️", "agent") == "agent"
    assert len(slugify("a" * 100, "x")) == 63
    book = NameBook({"id9": "chosen"})
    assert [book.name("s", i, "echo") for i in ("id1", "id2", "id3")] == [
        "echo",
        "echo-2",
        "echo-3",
    ]
    assert book.name("s", "id1", "other") == "echo"  # one name per id
    assert book.name("s", "id9", "echo") == "chosen"
    assert book.name("other-scope", "id4", "echo") == "echo"


def test_the_arm_sample_maps_to_valid_files() -> None:
    mapped = map_exports(read_export(SAMPLES / "arm-sample-export.zip"), None, "arm-prod", {})
    for path, entity in mapped.entities.items():
        content = parse_content(render_yaml(entity.doc))
        assert not content.problems, (path, content.problems)
    version = _doc(mapped, "tenants/arm-dev/templates/customer-support-agent/versions/2.0.0.yaml")
    assert version["parent"] == "1.0.0"
    assert version["genome"]["modelConfig"]["modelId"] == "claude-3-5-sonnet-20241022"
    assert version["genome"]["modelConfig"]["maxTokens"] == 8192
    assert version["genome"]["provenance"] == {
        "createdBy": "ops@arm-dev.com",
        "source": "arm:arm-prod",
        "createdAt": "2026-01-20T09:30:00.000Z",
        "commitRef": "4d5e6f",
    }
    assert version["genomeHash"] == genome_hash(version["genome"])
    assert version["legacy"]["genomeHash"] == "hash_v2_1768901400000"
    assert version["legacy"]["genomeHashVerdict"] == "PLACEHOLDER"
    assert version["legacy"]["genome"]["provenance"]["parentVersionId"] == (
        "js731esndq90nvsxg7s5srxvhwq9ae56"
    )
    ops = _doc(mapped, "tenants/arm-dev/operators/arm-ops.yaml")
    assert ops["identities"] == ["auth0:ops", "email:ops@arm-dev.com"]
    assert ops["legacy"]["fields"] == {"authIdentity": "auth0|ops", "role": "admin"}
    sam = _doc(mapped, "tenants/arm-dev/operators/sam-lee.yaml")
    assert sam["identities"][0] == "github:sam-lee"
    assert sam["roles"] == [{"role": "reviewer", "expiresAt": "2026-04-20T09:30:00Z"}]
    instance = _doc(mapped, "tenants/arm-dev/instances/customer-support-agent-prod.yaml")
    assert (instance["version"], instance["policy"], instance["state"]) == (
        "customer-support-agent@2.0.0",
        "support-prod",
        "QUARANTINED",
    )
    evidence = instance["legacy"]["approvals"]
    assert [(e["requestType"], e["status"], e["signed"], e["justification"]) for e in evidence] == [
        ("INSTANCE_REACTIVATION", "PENDING", False, "resume after incident")
    ]
    policy = _doc(mapped, "tenants/arm-dev/policies/support-prod.yaml")
    assert (policy["autonomyTier"], policy["costLimits"]) == (
        2,
        {"dailyTokens": 500000, "monthlyCost": 750.0},
    )
    assert _tables(mapped)["permissions"] == {"rows": 1, "notImported": 1}


@pytest.mark.parametrize("fmt", ["uniform", "older"])
def test_generated_export_covers_the_messy_cases(fmt: str) -> None:
    builder, _ids = small_arm(fmt)
    mc, mc_ids = small_mc()
    mapped = map_exports(parse_export(builder.entries()), parse_export(mc.entries()), "acme", {})
    for entity in mapped.entities.values():
        assert not parse_content(render_yaml(entity.doc)).problems
    report = mapped.report()
    assert report["genomeHashes"] == {"VERIFIED": 1, "MISMATCH": 1, "PLACEHOLDER": 4}
    tables = _tables(mapped)
    assert tables["costLedger"] == {"rows": 1, "notImported": 1}
    assert tables["approvalRecords"] == {"rows": 2, "evidence": 2}
    assert tables["mc:toolCalls"] == {"rows": 1, "notImported": 1}
    base = "tenants/acme/templates"
    v1 = _doc(mapped, f"{base}/support-agent/versions/1.0.0.yaml")
    assert v1["legacy"]["genomeHashVerdict"] == "VERIFIED"
    v2 = _doc(mapped, f"{base}/support-agent/versions/2.0.0.yaml")
    assert (v2["legacy"]["versionLabel"], v2["legacy"]["genomeHashVerdict"]) == ("2", "MISMATCH")
    # two templates named alike: the later one takes -2; a non-SemVer label is kept in legacy
    beta = _doc(mapped, f"{base}/support-agent-2/versions/0.0.0-legacy.beta-3.yaml")
    assert beta["legacy"]["versionLabel"] == "beta-3"
    template = _doc(mapped, f"{base}/support-agent/template.yaml")
    assert (template["owners"], template["tags"]) == (["acme-ops"], ["support"])
    assert template["legacy"]["fields"]["tags"] == ["support", "Bad Tag!"]
    env = _doc(mapped, "tenants/acme/environments/prod.yaml")
    assert (env["protected"], env["requiredApprovals"]) == (True, 1)
    assert env["legacy"]["config"] == {"region": "eu"}
    # an instance whose policy was deleted: no policy, the id kept, a note says so
    dev = _doc(mapped, "tenants/acme/instances/support-agent-dev.yaml")
    assert "policy" not in dev
    assert dev["secretRef"] == "vault://support/dev"
    assert dev["legacy"]["fields"]["policyEnvelopeId"]
    notes = "\n".join(report["notes"])  # type: ignore[arg-type]
    assert "its policy is not in the export" in notes
    assert "its target is not in the export" in notes
    role = _doc(mapped, "tenants/acme/roles/reviewer.yaml")
    assert role["permissions"] == ["approve:versions"]
    assert role["legacy"]["permissionsNotMapped"] == ["manage:everything"]
    tenant = _doc(mapped, "tenants/acme/tenant.yaml")
    assert tenant["legacy"]["approvals"][0]["status"] == "DENIED"  # its target is gone
    # Mission Control: its resolver's names and states; a colliding name takes -2
    atlas = _doc(mapped, "tenants/acme/instances/atlas.yaml")
    assert (atlas["legacyAgentId"], atlas["state"], atlas["version"]) == (
        mc_ids["atlas"],
        "READONLY",
        "legacy-atlas@1.0.0",
    )
    assert _doc(mapped, "tenants/acme/instances/echo.yaml")["state"] == "PROVISIONING"
    assert _doc(mapped, "tenants/acme/instances/echo-2.yaml")["state"] == "PAUSED"
    mc_version = _doc(mapped, f"{base}/legacy-atlas/versions/1.0.0.yaml")
    assert mc_version["lifecycle"] == "APPROVED"
    assert mc_version["genome"]["modelConfig"] == {
        "provider": "openai",
        "modelId": "gpt-4o",
        "temperature": 0.2,
        "maxTokens": 2048,
    }
    assert _doc(mapped, "tenants/acme/instances/echo.yaml")["legacy"]["parentAgent"] == "atlas"


def test_names_file_overrides_and_links_are_not_duplicated() -> None:
    _builder, ids = small_arm(legacy_agent=None)
    mc, mc_ids = small_mc()
    linked, _ = small_arm(legacy_agent=mc_ids["atlas"])
    names = {ids["tenant"]: "acme-corp", ids["support"]: "support"}
    mapped = map_exports(parse_export(linked.entries()), parse_export(mc.entries()), "acme", names)
    assert "tenants/acme-corp/templates/support/template.yaml" in mapped.entities
    # the ARM instance already names Atlas: no second template, version or instance for it
    assert not any("legacy-atlas" in p for p in mapped.entities)
    assert any("already an ARM instance" in n for n in mapped.notes)
    again = map_exports(parse_export(linked.entries()), parse_export(mc.entries()), "acme", names)
    assert {p: e.doc for p, e in again.entities.items()} == {
        p: e.doc for p, e in mapped.entities.items()
    }


def test_rows_whose_references_are_gone_are_counted_not_dropped() -> None:
    builder, _ids = small_arm()
    entries = builder.entries()
    # remove the template of 1.0.0 and 2.0.0: both versions, and the instances on 2.0.0, go
    lines = entries["agentTemplates/documents.jsonl"].decode().splitlines()
    entries["agentTemplates/documents.jsonl"] = (lines[1] + "\n").encode()
    mapped = map_exports(parse_export(entries), None, "acme", {})
    tables = _tables(mapped)
    assert tables["agentVersions"] == {"rows": 3, "mapped": 1, "notImported": 2}
    assert tables["agentInstances"] == {"rows": 2, "notImported": 2}
    assert sum("its template is not in the export" in n for n in mapped.notes) == 2
