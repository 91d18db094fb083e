"""What mapping produces: imported entities (a registry file each, with what it depends on) and
the report of what was mapped, kept as evidence or not imported. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from armgit.core.jsondata import JsonObject, JsonValue

# how each table's rows end up
MAPPED, EVIDENCE, HISTORY, NOT_IMPORTED = "mapped", "evidence", "history", "notImported"


@dataclass
class Entity:
    """One registry file made from one row (or from Mission Control's resolver rules).

    ``needs``: paths that must exist whenever this one does (its tenant, template, version,
    environment, provider); ``optional``: (field, path) references dropped at a moment of the
    history when that path does not exist yet. ``state`` names the field whose value the change
    records move over time (``lifecycle`` or ``state``). ``earlier``: (until, document) pairs in
    time order, the document as it was before each ``until`` (ms) at which a change record
    patched it (:mod:`armgit.importer.replay`); from the last ``until`` on it is ``doc``."""

    path: str
    doc: JsonObject
    table: str
    row_id: str
    created: float
    needs: tuple[str, ...] = ()
    optional: tuple[tuple[str, str], ...] = ()
    state: str | None = None
    earlier: tuple[tuple[float, JsonObject], ...] = ()


@dataclass
class TableReport:
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1


@dataclass
class Mapped:
    """Entities by path, the path of each imported Convex id, the per-table report and notes."""

    entities: dict[str, Entity] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    tables: dict[str, TableReport] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    verdicts: dict[str, int] = field(default_factory=dict)
    operators: dict[str, str] = field(default_factory=dict)  # operator id -> path
    replay: dict[str, int] = field(default_factory=dict)  # replayed / snapshotKept fields

    def table(self, name: str) -> TableReport:
        return self.tables.setdefault(name, TableReport())

    def add(self, entity: Entity) -> Entity:
        self.entities[entity.path] = entity
        self.paths[entity.row_id] = entity.path
        return entity

    def report(self) -> JsonObject:
        tables: JsonObject = {
            name: {"rows": t.rows, **{k: v for k, v in sorted(t.counts.items())}}
            for name, t in sorted(self.tables.items())
        }
        notes: list[JsonValue] = list(self.notes)
        verdicts: JsonObject = dict(sorted(self.verdicts.items()))
        replay: JsonObject = dict(sorted(self.replay.items()))
        return {"tables": tables, "genomeHashes": verdicts, "history": replay, "notes": notes}
