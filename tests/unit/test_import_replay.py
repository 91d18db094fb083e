"""Update records replayed: each commit shows a template, policy or role as ARM's records say
it was at that moment, the last commit still equals the snapshot, and where the records give
no value or contradict the snapshot the snapshot's value is kept and counted, never an error."""

from __future__ import annotations

import pytest

from armgit.core.jsondata import JsonObject
from armgit.core.yamldata import YamlDoc, parse_yaml
from armgit.importer.build import map_exports
from armgit.importer.export import parse_export
from armgit.importer.history import HEADER, PlannedCommit, plan_history
from armgit.importer.model import Mapped
from armgit.importer.render import render_yaml
from armgit.importer.replay import record_values, row_states
from tests.import_exports import MINUTE, T0, patched_arm

TEMPLATE = "tenants/acme/templates/support-agent/template.yaml"
POLICY = "tenants/acme/policies/support-prod.yaml"
ROLE = "tenants/acme/roles/reviewer.yaml"
FIELDS = ("name", "description", "tags")


def _plan(fmt: str) -> tuple[Mapped, list[PlannedCommit]]:
    export = parse_export(patched_arm(fmt)[0].entries())
    mapped = map_exports(export, None, "acme", {})
    digest = "sha256:" + "a" * 64
    return mapped, plan_history(mapped, export.rows("changeRecords"), "acme", digest)


def _at(plan: list[PlannedCommit], path: str, minutes: float) -> JsonObject:
    """The file as the commits up to ``T0 + minutes`` left it."""
    data = None
    for commit in plan:
        if commit.time <= T0 + minutes * MINUTE and path in commit.changes:
            data = commit.changes[path]
    assert data is not None
    doc = parse_yaml(data)
    assert isinstance(doc, YamlDoc)
    assert isinstance(doc.data, dict)
    return doc.data


@pytest.mark.parametrize("fmt", ["uniform", "older"])
def test_files_are_as_the_update_records_say_at_each_moment(fmt: str) -> None:
    mapped, plan = _plan(fmt)
    # the template: description unknown before its first patch (the snapshot's), "x" after it
    assert _at(plan, TEMPLATE, 0.00002)["description"] == "Answers customers"
    assert _at(plan, TEMPLATE, 0.0001)["description"] == "x"
    assert _at(plan, TEMPLATE, 15)["description"] == "x"
    assert _at(plan, TEMPLATE, 16)["description"] == "Answers customers"
    # the policy: its creation record's tier, then the snapshot's after the key-only update;
    # the update that contradicts the snapshot changes nothing
    assert _at(plan, POLICY, 14)["autonomyTier"] == 1
    assert _at(plan, POLICY, 16)["autonomyTier"] == 2
    limits = {"dailyTokens": 500000, "monthlyCost": 750}
    assert _at(plan, POLICY, 14)["costLimits"] == _at(plan, POLICY, 17)["costLimits"] == limits
    # the role: the "before" of its update, then the snapshot
    assert _at(plan, ROLE, 0.00002)["permissions"] == ["read:templates"]
    assert _at(plan, ROLE, 18)["permissions"] == ["approve:versions"]
    # the update commits carry those files
    at16 = next(c for c in plan if c.time == T0 + 16 * MINUTE)
    assert {TEMPLATE, POLICY} <= at16.changes.keys()
    # and the last commit leaves every replayed file as the snapshot has it
    tree: dict[str, bytes] = {}
    for commit in plan:
        tree.update(commit.changes)
    for path in (TEMPLATE, POLICY, ROLE):
        assert mapped.entities[path].earlier
        assert tree[path] == render_yaml(mapped.entities[path].doc, HEADER)


@pytest.mark.parametrize("fmt", ["uniform", "older"])
def test_what_the_records_do_not_give_is_the_snapshots_and_counted(fmt: str) -> None:
    mapped, plan = _plan(fmt)
    report = mapped.report()
    assert report["history"] == {"fieldsReplayed": 3, "snapshotValuesKept": 5}
    notes = "\n".join(str(n) for n in mapped.notes)
    assert "costLimits: its change records disagree" in notes
    assert "allowedTools: no change record gives its value at 1 of 2 moments" in notes
    assert "description: no change record gives its value at 1 of 3 moments" in notes
    # an old name armgit cannot hold: the snapshot's values throughout, with a note
    assert "give values armgit cannot hold" in notes
    second = "tenants/acme/templates/support-agent-2/template.yaml"
    assert sum(second in c.changes for c in plan) == 1
    assert plan == _plan(fmt)[1]  # deterministic


def test_record_shapes() -> None:
    patch = record_values({"description": "d", "updatedAt": 1.0}, FIELDS)
    assert patch.after == {"description": "d"}
    assert patch.before == {}
    assert patch.named == {"description"}
    keys = record_values({"changes": ["tags", "other"]}, FIELDS)
    assert keys.after == keys.before == {}
    assert keys.named == {"tags"}
    pairs = record_values({"changes": {"name": {"from": "a", "to": "b"}, "tags": ["t"]}}, FIELDS)
    assert pairs.after == {"name": "b", "tags": ["t"]}
    assert pairs.before == {"name": "a"}
    both = record_values({"before": {"name": "a"}, "after": {"name": "b"}}, FIELDS)
    assert both.after == {"name": "b"}
    assert both.before == {"name": "a"}
    assert both.named == {"name"}
    assert record_values("not an object", FIELDS).named == frozenset()


def test_a_patch_to_absent_and_chained_patches() -> None:
    from armgit.importer.export import Row

    def update(when: float, payload: object) -> tuple[float, Row]:
        fields = {"type": "TEMPLATE_UPDATED", "payload": payload, "timestamp": when}
        return when, Row("changeRecords", 1, f"r{when}", when, fields)  # type: ignore[arg-type]

    snapshot: JsonObject = {"name": "n", "tags": ["c"]}
    states = row_states(
        snapshot,
        {"name": "n", "description": "first"},
        [
            update(1, {"description": None, "tags": ["a"]}),
            update(2, {"tags": ["b"]}),
            update(3, {"changes": {"tags": {"from": ["b"], "to": ["c"]}}}),
        ],
        FIELDS,
    )
    assert [fields for _, fields in states.earlier] == [
        {"name": "n", "description": "first", "tags": ["c"]},  # tags before the first: unknown
        {"name": "n", "tags": ["a"]},  # description patched away
        {"name": "n", "tags": ["b"]},
    ]
    assert (states.replayed, states.kept) == (2, 1)
    # a chain that breaks (b, then "from": x) keeps the snapshot's value throughout
    broken = row_states(
        snapshot,
        None,
        [
            update(1, {"tags": ["b"]}),
            update(2, {"changes": {"tags": {"from": ["x"], "to": ["c"]}}}),
        ],
        FIELDS,
    )
    assert [fields["tags"] for _, fields in broken.earlier] == [["c"], ["c"]]
    assert broken.kept == 1
    assert "disagree" in broken.notices[0]
