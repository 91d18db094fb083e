"""The values a row held before ARM's update records patched it, so that the history shows each
file as it was at each moment (SPEC section 14, point 3). Pure.

ARM writes ``TEMPLATE_UPDATED`` with the patch as its payload, ``POLICY_UPDATED`` with the names
of the keys it changed (``{"changes": [...]}``), and, in other versions, ``before`` / ``after``
objects or ``{"changes": {key: {"from": ..., "to": ...}}}``; every ``*_UPDATED`` record of a
table listed in :data:`FIELDS` is read in any of these shapes. For each field the records
change, the values it held are known from: the creation record's payload (the value before the
first update), each update's new value (after it) and old value (before it), and the snapshot
(after the last). A field is replayed when those agree; a value no record gives is the
snapshot's; a field whose records disagree with each other or with the snapshot shows the
snapshot's value throughout. Each field not replayed in full is a counted notice, never an
error: the records are ARM's word, the snapshot is what ARM held last.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from pydantic import ValidationError

from armgit.core.jsondata import JsonObject, JsonValue
from armgit.core.layout import named_id
from armgit.core.models import MODELS
from armgit.importer.export import ExportError, Row
from armgit.importer.fleet import template_doc
from armgit.importer.history import record_time
from armgit.importer.mapping import ArmMapper

# the fields of each table an update record may patch, as the row builders read them
FIELDS: dict[str, tuple[str, ...]] = {
    "agentTemplates": ("name", "description", "owners", "tags"),
    "policyEnvelopes": ("name", "autonomyTier", "allowedTools", "costLimits"),
    "roles": ("name", "description", "permissions"),
}
_WRAPPERS = ("changes", "before", "after", "previous", "patch", "updates")
REPLAYED, KEPT = "fieldsReplayed", "snapshotValuesKept"


@dataclass(frozen=True, slots=True)
class Values:
    """What one record says about the fields: new values, old values, keys named without
    either. A value of ``None`` is "absent" (Convex drops a field patched to ``undefined``)."""

    after: dict[str, JsonValue]
    before: dict[str, JsonValue]
    named: frozenset[str]


def record_values(payload: JsonValue, fields: tuple[str, ...]) -> Values:
    """The values an update record's payload gives for ``fields``, in any of ARM's shapes."""
    after: dict[str, JsonValue] = {}
    before: dict[str, JsonValue] = {}
    named: set[str] = set()
    if not isinstance(payload, dict):
        return Values(after, before, frozenset())
    if not any(key in payload for key in _WRAPPERS):
        after = {k: v for k, v in payload.items() if k in fields}
        return Values(after, before, frozenset(after))
    changes = payload.get("changes")
    if isinstance(changes, list):
        named.update(k for k in changes if isinstance(k, str) and k in fields)
    elif isinstance(changes, dict):
        for key, value in changes.items():
            if key not in fields:
                continue
            named.add(key)
            pair = _pair(value)
            if pair is None:
                after[key] = value
                continue
            old, new = pair
            if old is not _MISSING:
                before[key] = old
            if new is not _MISSING:
                after[key] = new
    for wrapper, into in (
        ("after", after),
        ("patch", after),
        ("updates", after),
        ("before", before),
        ("previous", before),
    ):
        values = payload.get(wrapper)
        if isinstance(values, dict):
            for key, value in values.items():
                if key in fields:
                    into.setdefault(key, value)
                    named.add(key)
    return Values(after, before, frozenset(named))


_MISSING: JsonValue = {"$missing": True}


def _pair(value: JsonValue) -> tuple[JsonValue, JsonValue] | None:
    if not isinstance(value, dict) or len(value) > 2:
        return None
    for old, new in (("from", "to"), ("before", "after"), ("old", "new")):
        if set(value) <= {old, new} and value:
            return value.get(old, _MISSING), value.get(new, _MISSING)
    return None


@dataclass
class RowStates:
    """A row's fields before each of its update records, and the notices about it."""

    earlier: list[tuple[float, JsonObject]] = field(default_factory=list)
    replayed: int = 0
    kept: int = 0
    notices: list[str] = field(default_factory=list)


def row_states(
    snapshot: JsonObject,
    created: JsonValue,
    updates: list[tuple[float, Row]],
    fields: tuple[str, ...],
) -> RowStates:
    """The row's fields before each update (``updates`` in time order), from the snapshot's
    ``snapshot``, the creation record's payload ``created`` and the updates' payloads."""
    said = [record_values(row.fields.get("payload"), fields) for _, row in updates]
    first: dict[str, JsonValue] = {}
    if isinstance(created, dict):
        first = {k: v for k, v in created.items() if k in fields}
    result = RowStates()
    notices = result.notices
    # values[field][i]: the field's value before update i (i = len(updates): the snapshot's)
    values: dict[str, list[JsonValue]] = {}
    for name in fields:
        touched = [i for i, v in enumerate(said) if name in v.named]
        if not touched:
            continue
        # the value after each of the field's updates (and before the first), as the records
        # and the snapshot give it; a list of candidates per interval
        spans: list[list[JsonValue]] = [[] for _ in range(len(touched) + 1)]
        if name in first:
            spans[0].append(first[name])
        for k, i in enumerate(touched):
            if name in said[i].before:
                spans[k].append(said[i].before[name])
            if name in said[i].after:
                spans[k + 1].append(said[i].after[name])
        spans[-1].append(snapshot.get(name))
        current = snapshot.get(name)
        if any(len({_key(v) for v in span}) > 1 for span in spans):
            result.kept += 1
            notices.append(
                f"{name}: its change records disagree with each other or with the snapshot; "
                "the snapshot's value is shown throughout"
            )
            continue
        unknown = sum(1 for span in spans if not span)
        if unknown:
            result.kept += 1
            notices.append(
                f"{name}: no change record gives its value at {unknown} of "
                f"{len(spans)} moments; the snapshot's value is shown there"
            )
        if any(spans[:-1]):
            result.replayed += 1
        held = [span[0] if span else current for span in spans]
        per_update: list[JsonValue] = []
        k = 0
        for i in range(len(updates)):
            per_update.append(held[k])
            if k < len(touched) and touched[k] == i:
                k += 1
        values[name] = per_update
    for i, (when, _) in enumerate(updates):
        state = dict(snapshot)
        for name, per_update in values.items():
            value = per_update[i]
            if value is None:
                state.pop(name, None)
            else:
                state[name] = value
        result.earlier.append((when, state))
    return result


def _key(value: JsonValue) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


Builder = Callable[[ArmMapper, Row, str], JsonObject]
BUILDERS: dict[str, Builder] = {
    "agentTemplates": template_doc,
    "policyEnvelopes": lambda m, row, tenant: m.policy_doc(row, tenant),
    "roles": lambda m, row, tenant: m.role_doc(row, tenant),
}


def replay_updates(m: ArmMapper, records: tuple[Row, ...]) -> None:
    """Give every mapped row that update records patched its ``earlier`` documents, and count
    what was replayed and what was not in ``m.mapped.replay``."""
    updates: dict[str, list[tuple[float, Row]]] = {}
    created: dict[str, JsonValue] = {}
    for record in records:
        kind = str(record.fields.get("type", ""))
        target = str(record.fields.get("targetId"))
        if kind.endswith("_UPDATED"):
            updates.setdefault(target, []).append((record_time(record), record))
        elif kind.endswith("_CREATED") and target not in created:
            created[target] = record.fields.get("payload")
    rows = {row.id: row for table in FIELDS for row in m.export.rows(table)}
    entities = {e.row_id: e for e in m.mapped.entities.values() if e.table in FIELDS}
    replay = m.mapped.replay
    for row_id, items in sorted(updates.items()):
        entity = entities.get(row_id)
        if entity is None:
            continue
        items.sort(key=lambda item: (item[0], item[1].created, item[1].id))
        row = rows[row_id]
        states = row_states(row.fields, created.get(row_id), items, FIELDS[entity.table])
        tenant = str(entity.doc["tenant"])
        try:
            earlier = [
                (until, _valid(BUILDERS[entity.table](m, replace(row, fields=fields), tenant)))
                for until, fields in states.earlier
            ]
        except (ExportError, ValidationError):
            replay[KEPT] = replay.get(KEPT, 0) + 1
            m.note(
                row,
                "its change records give values armgit cannot hold; the snapshot's "
                "values are shown throughout",
            )
            continue
        replay[REPLAYED] = replay.get(REPLAYED, 0) + states.replayed
        replay[KEPT] = replay.get(KEPT, 0) + states.kept
        for notice in states.notices:
            m.note(row, notice)
        entity.earlier = tuple(earlier)
        owners = {
            named_id("Operator", tenant, str(owner)).path
            for _, doc in earlier
            for owner in (doc.get("owners") or [])  # type: ignore[union-attr]
        }
        entity.needs = (*entity.needs, *sorted(owners - set(entity.needs)))


def _valid(doc: JsonObject) -> JsonObject:
    MODELS[str(doc["kind"])].model_validate(doc)
    return doc
