"""One import, mapped: ARM rows and Mission Control agents to registry documents, each checked
against its model. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from armgit.core.models import MODELS
from armgit.errors import ArmgitError
from armgit.importer.export import Export
from armgit.importer.fleet import map_approvals, map_instances, map_templates, map_versions
from armgit.importer.mapping import ARM_TABLES, ArmMapper
from armgit.importer.mc import map_mission_control
from armgit.importer.model import HISTORY, NOT_IMPORTED, Mapped
from armgit.importer.replay import replay_updates


class MappingError(ArmgitError):
    """A mapped document is not valid: a gap in the importer, reported with the row."""


def map_exports(
    arm: Export, mission_control: Export | None, source: str, names: Mapping[str, str]
) -> Mapped:
    """Every registry document the exports become, with the report; each document valid."""
    mapper = ArmMapper(arm, source, names)
    mapper.map_tenants()
    mapper.map_environments()
    mapper.map_providers()
    mapper.map_roles()
    mapper.map_operators()
    mapper.map_policies()
    map_templates(mapper)
    map_versions(mapper)
    map_instances(mapper)
    map_approvals(mapper)
    replay_updates(mapper, arm.rows("changeRecords"))
    mapped = mapper.mapped
    for name, rows in sorted(arm.tables.items()):
        if name not in ARM_TABLES:
            report = mapped.table(name)
            report.rows = len(rows)
            report.counts[NOT_IMPORTED] = len(rows)
    records = arm.rows("changeRecords")
    history = mapped.table("changeRecords")
    history.rows = len(records)
    if records:
        history.counts[HISTORY] = len(records)
    if mission_control is not None:
        map_mission_control(mapper, mission_control)
    for entity in mapped.entities.values():
        kind = str(entity.doc.get("kind"))
        try:
            MODELS[kind].model_validate(entity.doc)
        except ValidationError as exc:
            first = exc.errors()[0]
            location = ".".join(str(p) for p in first["loc"])
            raise MappingError(
                f"{entity.table} {entity.row_id}: the {kind} made from it is not valid "
                f"({location}: {first['msg']})"
            ) from exc
    return mapped
