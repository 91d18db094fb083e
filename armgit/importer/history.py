"""ARM's change records as an ordered plan of commits. Pure.

One commit per Convex mutation (the records sharing a ``timestamp``), in time order, with the
record's operator as author and its time as date; then a last commit that makes the tree equal
the snapshot. Each entity appears at its creation record (or, with none, at the first mutation
after its ``_creationTime``; with none after it, in the last commit), together with what it
cannot exist without. Its lifecycle or state is the one the transition records say held at that
moment; an optional reference (an instance's policy) waits for its target; approval evidence
appears when it was requested. A template, policy or role that update records patched is, before
each update, as :mod:`armgit.importer.replay` says it was (``Entity.earlier``); other fields
are as the snapshot has them. Each commit lists its records in its message
(JSON, one a line) and carries the import mark (:mod:`armgit.importer.marks`).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field

from armgit.core.importmark import mark_lines
from armgit.core.jsondata import JsonObject, JsonValue
from armgit.importer.export import ExportError, Row
from armgit.importer.genome import MAX_MS, iso_time
from armgit.importer.mapping import where
from armgit.importer.model import Entity, Mapped
from armgit.importer.render import render_yaml

IMPORTER = ("armgit import", "import@armgit.invalid")
_CREATED = ("_CREATED",)
_TRANSITIONS = ("VERSION_TRANSITIONED", "INSTANCE_TRANSITIONED")
HEADER = "# Imported from ARM by armgit import; see legacy for what ARM held beyond this file.\n"


@dataclass(frozen=True, slots=True)
class PlannedCommit:
    """One commit of the import: when, by whom, why, and the files it writes."""

    time: float  # ms since the epoch
    author: tuple[str, str]  # name, email
    message: str
    changes: dict[str, bytes] = field(default_factory=dict)


def plan_history(
    mapped: Mapped, records: tuple[Row, ...], source: str, digest: str
) -> list[PlannedCommit]:
    """The commits that replay ``records`` over the mapped entities, then the snapshot."""
    groups: dict[float, list[Row]] = {}
    for record in records:
        when = record_time(record)
        groups.setdefault(when, []).append(record)
    moments = sorted(groups)
    by_target: dict[str, list[tuple[float, Row]]] = {}
    for when, rows in groups.items():
        rows.sort(key=lambda r: (r.created, r.id))
        for row in rows:
            by_target.setdefault(str(row.fields.get("targetId")), []).append((when, row))
    for items in by_target.values():
        items.sort(key=lambda item: (item[0], item[1].created, item[1].id))
    appear = _appearances(mapped, by_target)
    final = len(moments)
    changes: list[dict[str, bytes]] = [{} for _ in range(final + 1)]
    index_of = {path: _moment_of(moments, when) for path, when in appear.items()}
    for path, entity in sorted(mapped.entities.items()):
        start = index_of[path]
        points = {start, final}
        transitions = [
            (when, row)
            for when, row in by_target.get(entity.row_id, [])
            if row.fields.get("type") in _TRANSITIONS
        ]
        points.update(bisect_left(moments, when) for when, _ in transitions)
        points.update(index_of[target] for _, target in entity.optional if target in index_of)
        points.update(bisect_left(moments, t) for t in _evidence_times(entity))
        points.update(bisect_left(moments, until) for until, _ in entity.earlier)
        previous: bytes | None = None
        for point in sorted(p for p in points if p >= start):
            at = math.inf if point == final else moments[point]
            data = render_yaml(_doc_at(entity, at, transitions, index_of, point), HEADER)
            if data != previous:
                changes[point][path] = data
                previous = data
    bodies: list[tuple[float, tuple[str, str], str, dict[str, bytes]]] = []
    for point, when in enumerate(moments):
        rows = groups[when]
        bodies.append((when, _author(mapped, rows), _message(mapped, rows), changes[point]))
    last = max([*moments, *(e.created for e in mapped.entities.values())], default=0.0)
    if changes[final] or not bodies:
        summary = f"import: the snapshot of {source} (every row as the export holds it)"
        bodies.append((last, IMPORTER, summary, changes[final]))
    total = len(bodies)
    plan = [
        PlannedCommit(
            when,
            author,
            body + "\n\n" + "\n".join(mark_lines(source, digest, n, total)) + "\n",
            files,
        )
        for n, (when, author, body, files) in enumerate(bodies, start=1)
    ]
    return plan


def record_time(record: Row) -> float:
    """A record's time: its ``timestamp`` (one per mutation), else its ``_creationTime``."""
    stamp = record.fields.get("timestamp")
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        if not 0 <= stamp < MAX_MS:
            raise ExportError(where(record, "timestamp"), f"{stamp} is not a time")
        return float(stamp)
    return record.created


def _moment_of(moments: list[float], when: float) -> int:
    """The mutation that was running when a row was made: the last one at or before its
    ``_creationTime`` (Convex stamps a mutation's records with its start), else the first."""
    return max(bisect_right(moments, when) - 1, 0)


def _appearances(mapped: Mapped, by_target: dict[str, list[tuple[float, Row]]]) -> dict[str, float]:
    """When each entity first exists: its creation record, else its ``_creationTime``; then as
    early as anything that needs it."""
    appear: dict[str, float] = {}
    for path, entity in mapped.entities.items():
        created = [
            when
            for when, row in by_target.get(entity.row_id, [])
            if str(row.fields.get("type", "")).endswith(_CREATED)
        ]
        appear[path] = min(created) if created else entity.created
    changed = True
    while changed:
        changed = False
        for path, entity in mapped.entities.items():
            for need in entity.needs:
                if need in appear and appear[need] > appear[path]:
                    appear[need] = appear[path]
                    changed = True
    return appear


def _evidence(doc: JsonObject) -> list[JsonObject]:
    legacy = doc.get("legacy")
    approvals = legacy.get("approvals") if isinstance(legacy, dict) else None
    return [a for a in approvals if isinstance(a, dict)] if isinstance(approvals, list) else []


def _requested(evidence: JsonObject) -> float:
    when = evidence.get("requestedMs")
    return float(when) if isinstance(when, (int, float)) else 0.0


def _evidence_times(entity: Entity) -> list[float]:
    return [_requested(a) for a in _evidence(entity.doc)]


def _doc_at(
    entity: Entity,
    at: float,
    transitions: list[tuple[float, Row]],
    index_of: dict[str, int],
    point: int,
) -> JsonObject:
    doc = dict(next((d for until, d in entity.earlier if at < until), entity.doc))
    if at != math.inf:
        if entity.state is not None and transitions:
            state = _state_at(at, transitions)
            if state is not None:
                doc[entity.state] = state
        for name, target in entity.optional:
            if index_of.get(target, point + 1) > point:
                doc.pop(name, None)
    evidence = _evidence(doc)
    legacy = doc.get("legacy")
    if evidence and isinstance(legacy, dict):
        shown: list[JsonValue] = [
            {k: v for k, v in a.items() if k != "requestedMs"}
            for a in evidence
            if _requested(a) <= at
        ]
        legacy = {k: v for k, v in legacy.items() if k != "approvals"}
        if shown:
            legacy["approvals"] = shown
        doc["legacy"] = legacy
    return doc


def _state_at(at: float, transitions: list[tuple[float, Row]]) -> str | None:
    before = [row for when, row in transitions if when <= at]
    row = before[-1] if before else transitions[0][1]
    payload = row.fields.get("payload")
    if not isinstance(payload, dict):
        return None
    value = payload.get("to" if before else "from")
    return value if isinstance(value, str) else None


def _author(mapped: Mapped, rows: list[Row]) -> tuple[str, str]:
    for row in rows:
        path = mapped.operators.get(str(row.fields.get("operatorId")))
        if path is not None:
            doc = mapped.entities[path].doc
            return str(doc.get("displayName") or doc["name"]), str(doc["email"])
    return IMPORTER


def _tenant_of(mapped: Mapped, row: Row) -> str | None:
    """The armgit tenant a record is about (its target's, else its ``tenantId``'s)."""
    for row_id in (str(row.fields.get("targetId")), str(row.fields.get("tenantId"))):
        path = mapped.paths.get(row_id)
        if path is not None:
            return path.split("/")[1]
    return None


def _message(mapped: Mapped, rows: list[Row]) -> str:
    counts = Counter(str(r.fields.get("type")) for r in rows)
    summary = "ARM: " + ", ".join(f"{t} x{n}" if n > 1 else t for t, n in sorted(counts.items()))
    lines = []
    for row in rows:
        target = str(row.fields.get("targetId"))
        operator = mapped.operators.get(str(row.fields.get("operatorId")))
        record: JsonObject = {
            "id": row.id,
            "type": row.fields.get("type"),
            "targetEntity": row.fields.get("targetEntity"),
            "targetId": target,
            "target": mapped.paths.get(target),
            "tenant": _tenant_of(mapped, row),
            "operator": mapped.entities[operator].doc["name"]
            if operator
            else row.fields.get("operatorId"),
            "time": iso_time(record_time(row)),
            "payload": row.fields.get("payload"),
        }
        lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    return "\n\n".join([summary[:200], "\n".join(lines)])
