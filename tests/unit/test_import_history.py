"""ARM's change records as a plan of commits: one per mutation, in time order, by the record's
operator, with each entity's state as the records say it was."""

from __future__ import annotations

import json

from armgit.core.importmark import import_mark
from armgit.core.yamldata import YamlDoc, parse_yaml
from armgit.importer.build import map_exports
from armgit.importer.export import parse_export
from armgit.importer.history import IMPORTER, PlannedCommit, plan_history
from tests.import_exports import MINUTE, T0, small_arm, small_mc

PROD = "tenants/acme/instances/support-agent-prod.yaml"
V2 = "tenants/acme/templates/support-agent/versions/2.0.0.yaml"


def _plan() -> list[PlannedCommit]:
    builder, _ = small_arm()
    export = parse_export(builder.entries())
    mapped = map_exports(export, parse_export(small_mc()[0].entries()), "acme", {})
    return plan_history(mapped, export.rows("changeRecords"), "acme", "sha256:" + "a" * 64)


def _field(commit: PlannedCommit, path: str, name: str) -> object:
    doc = parse_yaml(commit.changes[path])
    assert isinstance(doc, YamlDoc)
    assert isinstance(doc.data, dict)
    return doc.data.get(name)


def test_one_commit_per_mutation_in_time_order_by_its_operator() -> None:
    plan = _plan()
    times = [c.time for c in plan]
    assert times == sorted(times)
    # 14 distinct timestamps (two records share T0 + 3), then the snapshot commit
    assert len(plan) == 15
    assert plan[1].message.startswith("ARM: TEMPLATE_UPDATED, VERSION_CREATED")
    assert plan[0].author == ("Acme Ops", "ops@acme.example")
    assert plan[4].author == ("Sam", "sam@acme.example")
    assert plan[-1].author == IMPORTER  # the snapshot commit: 1.0.0 back to DRAFT
    v1 = "tenants/acme/templates/support-agent/versions/1.0.0.yaml"
    assert plan[-1].changes.keys() == {v1}
    assert _field(plan[-1], v1, "lifecycle") == "DRAFT"
    assert _field(plan[8], v1, "lifecycle") == "TESTING"
    for commit in plan:
        assert import_mark(commit.message) == ("acme", "sha256:" + "a" * 64)
    records = [json.loads(line) for line in plan[1].message.split("\n\n")[1].splitlines()]
    assert [r["type"] for r in records] == ["VERSION_CREATED", "TEMPLATE_UPDATED"]
    assert records[0]["operator"] == "acme-ops"
    assert records[0]["target"] == "tenants/acme/templates/support-agent/versions/1.0.0.yaml"


def test_states_follow_the_transition_records() -> None:
    plan = _plan()
    by_time = {c.time: c for c in plan}
    created = by_time[T0 + 7]
    assert _field(created, PROD, "state") == "PROVISIONING"  # the first record's "from"
    assert "policy" not in created.changes[PROD].decode()  # the policy came later
    assert _field(by_time[T0 + 12 * MINUTE], PROD, "state") == "ACTIVE"
    assert _field(by_time[T0 + 14 * MINUTE], PROD, "policy") == "support-prod"
    assert _field(by_time[T0 + 20 * MINUTE], PROD, "state") == "QUARANTINED"
    assert _field(by_time[T0 + 4], V2, "lifecycle") == "DRAFT"
    assert _field(by_time[T0 + 10 * MINUTE], V2, "lifecycle") == "TESTING"
    assert _field(by_time[T0 + 11 * MINUTE], V2, "lifecycle") == "APPROVED"
    # the approval evidence appears when it was requested
    requested = by_time[T0 + 30 * MINUTE].changes[PROD].decode()
    assert "resume after incident" in requested
    assert "requestedMs" not in requested


def test_rows_without_records_and_records_without_targets() -> None:
    plan = _plan()
    first = plan[0].changes
    # no record created the tenant, its environments, operators, providers or Mission
    # Control's agents: they appear with the first mutation that needs or follows them
    assert "tenants/acme/tenant.yaml" in first
    assert "tenants/acme/environments/prod.yaml" in first
    assert "tenants/acme/instances/atlas.yaml" in first
    deleted = next(c for c in plan if c.message.startswith("ARM: POLICY_DELETED"))
    assert deleted.changes == {}  # its target is gone: the record is kept in the message
    assert "POLICY_DELETED" in deleted.message.split("\n\n")[1]


def test_the_plan_is_deterministic() -> None:
    assert _plan() == _plan()
