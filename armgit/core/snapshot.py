"""A registry at one moment: its valid entities by identity, and access to its other files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from armgit.core.layout import REGISTRY_ID, EntityId, may_run
from armgit.core.models import Document, Registry

D = TypeVar("D", bound=Document)


class FileReader(Protocol):
    """Reads a file of the registry by its registry-relative path (``None`` if absent)."""

    def read(self, path: str) -> bytes | None: ...


class View(Protocol):
    """What the rules need of a registry: entities by identity, and the ids of one kind.

    :class:`Snapshot` holds a whole registry in memory; the store's lazy view reads only the
    files the rules ask for, so checking a change costs in proportion to the change.
    """

    @property
    def files(self) -> FileReader: ...

    def entity(self, entity_id: EntityId) -> Entity | None: ...

    def get(self, entity_id: EntityId, model_type: type[D]) -> D | None: ...

    def __contains__(self, entity_id: object) -> bool: ...

    def is_broken(self, entity_id: EntityId) -> bool:
        """Whether the entity's file exists but is invalid (reported at that file)."""
        ...

    def ids(self, kind: str, tenant: str, within: str = "") -> list[EntityId]:
        """Ids of the entities of ``kind`` in ``tenant`` (versions: of template ``within``)."""
        ...

    def deployments_of(self, tenant: str, template: str) -> list[EntityId]:
        """Ids of ``tenant``'s deployments of ``template`` (at most one per environment)."""
        ...

    def instances_naming(self, tenant: str, template: str) -> list[EntityId]:
        """Ids of ``tenant``'s instances that may run a version of ``template``: every one that
        does, maybe more (one whose file cannot be read that far)."""
        ...

    def legacy_ids(self, tenant: str) -> Mapping[str, list[str]]:
        """``legacyAgentId`` -> the names of ``tenant``'s instances that may carry it: every
        instance that does, maybe more (a caller checks each candidate's model)."""
        ...


@dataclass(frozen=True, slots=True)
class Entity:
    """A valid entity: who it is, the file it came from and its model."""

    id: EntityId
    path: str
    model: Document


class Snapshot:
    """The entities of a registry at one commit (or work tree), indexed for the rules."""

    def __init__(
        self,
        entities: Iterable[Entity],
        files: FileReader,
        broken: Iterable[EntityId] = (),
        misplaced: Iterable[Entity] = (),
    ) -> None:
        self._entities: dict[EntityId, Entity] = {e.id: e for e in entities}
        # entities whose file exists but is invalid: reported there, so references to them are
        # not reported again as dangling
        self.broken: frozenset[EntityId] = frozenset(broken)
        # valid content at a path that contradicts it: not an entity, but what it claims still
        # counts where two files could claim the same thing (active deployments)
        self.misplaced: tuple[Entity, ...] = tuple(misplaced)
        self._by_kind: dict[str, list[Entity]] = {}
        for entity in self._entities.values():
            self._by_kind.setdefault(entity.id.kind, []).append(entity)
        self._files = files
        self._legacy: dict[str, dict[str, list[str]]] = {}

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self._entities

    def is_broken(self, entity_id: EntityId) -> bool:
        return entity_id in self.broken

    def ids(self, kind: str, tenant: str, within: str = "") -> list[EntityId]:
        return sorted(
            e.id
            for e in self.of_kind(kind)
            if (not tenant or e.id.tenant == tenant) and (not within or e.id.template == within)
        )

    def deployments_of(self, tenant: str, template: str) -> list[EntityId]:
        return [d for d in self.ids("Deployment", tenant) if d.name.split("/")[1] == template]

    def instances_naming(self, tenant: str, template: str) -> list[EntityId]:
        return [
            e.id
            for e in self.of_kind("Instance")
            if e.id.tenant == tenant and may_run(getattr(e.model, "version", None), template)
        ]

    def legacy_ids(self, tenant: str) -> Mapping[str, list[str]]:
        table = self._legacy.get(tenant)
        if table is None:
            table = self._legacy[tenant] = {}
            for entity in self.of_kind("Instance"):
                legacy = getattr(entity.model, "legacy_agent_id", None)
                if entity.id.tenant == tenant and isinstance(legacy, str):
                    table.setdefault(legacy, []).append(entity.id.name)
        return table

    def __len__(self) -> int:
        return len(self._entities)

    @property
    def files(self) -> FileReader:
        return self._files

    def entity(self, entity_id: EntityId) -> Entity | None:
        return self._entities.get(entity_id)

    def get(self, entity_id: EntityId, model_type: type[D]) -> D | None:
        """The model of ``entity_id`` if it exists, is valid and is a ``model_type``."""
        entity = self._entities.get(entity_id)
        if entity is None or not isinstance(entity.model, model_type):
            return None
        return entity.model

    def of_kind(self, kind: str) -> list[Entity]:
        return self._by_kind.get(kind, [])

    @property
    def registry(self) -> Registry | None:
        return self.get(REGISTRY_ID, Registry)

    @property
    def entities(self) -> Mapping[EntityId, Entity]:
        return self._entities
