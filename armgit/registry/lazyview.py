"""A registry view that reads and parses only the files the rules ask for.

This is what keeps a check proportional to the change: the server hook looks at the files a
push touches and the few that refer to them, never the whole registry. What it pays
(benchmarks/RESULTS.md, 10,000-version registry): the hook's work for a 3-file push is 37 ms
(row "pre-receive hook: work"), where reading the whole registry takes 187 ms warm and 2.95 s
cold (rows "armgit validate --rev HEAD"). What the rules would otherwise find by reading a whole
tenant (the instances that run a template, the holders of a legacyAgentId) comes from one table
per instances directory, kept in the content cache under the directory's tree id, and a
template's deployments are looked up by name: the hook reads the same at 100,000 versions as at
1,000 (benchmarks/RESULTS.md, "Scale").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from armgit.core.content import Content, parse_content
from armgit.core.findings import Finding
from armgit.core.layout import (
    KIND_DIRS,
    EntityId,
    deployment_id,
    named_id,
    runnable,
    version_id,
)
from armgit.core.models import Document, Environment
from armgit.core.models.environment import with_gate_settings
from armgit.core.rules.state import check_identity
from armgit.core.snapshot import Entity, FileReader
from armgit.store.cache import ContentCache
from armgit.store.tree import REGULAR_MODES, RegistryTree

D = TypeVar("D", bound=Document)


class LazyView:
    """A :class:`~armgit.core.snapshot.View` over a tree, loading entities on first use."""

    def __init__(
        self,
        tree: RegistryTree,
        cache: ContentCache | None = None,
        settings: LazyView | None = None,
    ) -> None:
        """``settings``: the view whose environments' gate settings this one is judged by
        (the base of a push, SPEC 4a); ``None``: its own."""
        self.tree = tree
        self._settings = settings
        self._cache = cache if cache is not None else ContentCache(None)
        self._entities: dict[EntityId, Entity | None] = {}
        self._broken: set[EntityId] = set()
        self.file_findings: dict[str, list[Finding]] = {}
        self._instance_tables: dict[str, _Instances] = {}

    @property
    def files(self) -> FileReader:
        return self.tree

    def content(self, path: str) -> Content | None:
        """The parsed content of a regular file at ``path`` (cached by blob id), or ``None``."""
        entry = self.tree.entry(path)
        if entry is None or entry.mode not in REGULAR_MODES:
            return None
        content = self._cache.get(entry.oid)
        if content is None:
            content = parse_content(self.tree.read_entry(entry))
            self._cache.put(entry.oid, content)
        return content

    def peek(self, entity_id: EntityId) -> Mapping[str, object] | None:
        """An entity's data as written, without building its model where the cache knows it."""
        entry = self.tree.entry(entity_id.path)
        if entry is None or entry.mode not in REGULAR_MODES:
            return None
        data = self._cache.peek(entry.oid)
        if data is None:
            content = self.content(entity_id.path)
            data = content.data if content is not None else None
        return data if isinstance(data, dict) else None

    def entity(self, entity_id: EntityId) -> Entity | None:
        if entity_id in self._entities:
            return self._entities[entity_id]
        entity = self._load(entity_id)
        self._entities[entity_id] = entity
        return entity

    def _load(self, entity_id: EntityId) -> Entity | None:
        path = entity_id.path
        entry = self.tree.entry(path)
        if entry is None:
            return None
        findings: list[Finding] = []
        if entry.mode not in REGULAR_MODES:
            findings.append(
                Finding("unsafe-file", path, "not a regular file: registry files must be")
            )
            content = None
        else:
            content = self.content(path)
        if content is not None:
            findings += [
                Finding(p.rule, path, p.message, p.pointer, p.line) for p in content.problems
            ]
            if content.model is not None:
                findings += check_identity(entity_id, path, content.model)
        self.file_findings[path] = findings
        if findings or content is None or content.model is None:
            self._broken.add(entity_id)
            return None
        model = content.model
        if self._settings is not None and isinstance(model, Environment):
            base = self._settings.get(entity_id, Environment)
            if base is not None:
                model = with_gate_settings(model, base)
        return Entity(entity_id, path, model)

    def get(self, entity_id: EntityId, model_type: type[D]) -> D | None:
        entity = self.entity(entity_id)
        if entity is None or not isinstance(entity.model, model_type):
            return None
        return entity.model

    def __contains__(self, entity_id: object) -> bool:
        return isinstance(entity_id, EntityId) and self.entity(entity_id) is not None

    def is_broken(self, entity_id: EntityId) -> bool:
        self.entity(entity_id)
        return entity_id in self._broken

    def ids(self, kind: str, tenant: str, within: str = "") -> list[EntityId]:
        base = f"tenants/{tenant}"
        if kind == "Version":
            labels = self.tree.names(f"{base}/templates/{within}/versions")
            return [version_id(tenant, within, n[:-5]) for n in labels if n.endswith(".yaml")]
        if kind == "Tenant":
            return [EntityId("Tenant", n) for n in self.tree.names("tenants")]
        if kind == "Template":
            return [EntityId("Template", tenant, n) for n in self.tree.names(f"{base}/templates")]
        if kind == "Deployment":
            environments = [within] if within else self.tree.names(f"{base}/deployments")
            return [
                deployment_id(tenant, env, n[:-5])
                for env in environments
                for n in self.tree.names(f"{base}/deployments/{env}")
                if n.endswith(".yaml")
            ]
        names = self.tree.names(f"{base}/{KIND_DIRS[kind]}")
        return [named_id(kind, tenant, n[:-5]) for n in names if n.endswith(".yaml")]

    def deployments_of(self, tenant: str, template: str) -> list[EntityId]:
        base = f"tenants/{tenant}/deployments"
        return [
            deployment_id(tenant, env, template)
            for env in self.tree.names(base)
            if self.tree.entry(f"{base}/{env}/{template}.yaml") is not None
        ]

    def instances_naming(self, tenant: str, template: str) -> list[EntityId]:
        """The instances of ``tenant`` that may run a version of ``template``
        (:data:`armgit.core.rules.scope.Naming`)."""
        return [
            named_id("Instance", tenant, name) for name in self._instances(tenant).naming(template)
        ]

    def legacy_ids(self, tenant: str) -> Mapping[str, list[str]]:
        return self._instances(tenant).legacy()

    def _instances(self, tenant: str) -> _Instances:
        """The instances table of ``tenant``, kept in the cache by the instances directory's
        tree id (a push that leaves the directory alone reads one cache entry, not every
        instance's) and decoded once for all the views that share the cache."""
        known = self._instance_tables.get(tenant)
        if known is not None:
            return known
        directory = f"tenants/{tenant}/{KIND_DIRS['Instance']}"
        tree_id = self.tree.directory_id(directory)
        if tree_id is None:
            known = _Instances(self._instance_table(tenant, None))
        else:
            key = f"instances:{tree_id}"
            known = self._cache.remembered(
                key, lambda: _Instances(self._instance_table(tenant, key))
            )
        self._instance_tables[tenant] = known
        return known

    def _instance_table(self, tenant: str, key: str | None) -> dict[str, tuple[object, object]]:
        """name -> (``version``, ``legacyAgentId``) of each instance of ``tenant`` as written
        (``None``: unreadable), from the cache's ``derived`` entry ``key`` or read and kept
        there."""
        cached = self._cache.derived(key) if key is not None else None
        if isinstance(cached, dict):
            table = {name: (pair[0], pair[1]) for name, pair in cached.items()}
        else:
            table = {}
            for entity_id in self.ids("Instance", tenant):
                data = self.peek(entity_id)
                table[entity_id.name] = (
                    (data.get("version"), data.get("legacyAgentId")) if data else (None, None)
                )
            if key is not None:
                self._cache.put_derived(key, {name: list(pair) for name, pair in table.items()})
        return table


class _Instances:
    """One instances directory's table, indexed for the two questions the rules ask of it."""

    def __init__(self, table: dict[str, tuple[object, object]]) -> None:
        self._table = table
        self._names = list(table)
        self._by_template: dict[str, list[int]] | None = None
        self._any: list[int] = []  # instances whose version cannot be read: may run anything
        self._legacy: dict[str, list[str]] | None = None

    def naming(self, template: str) -> list[str]:
        """The instances that may run a version of ``template`` (:func:`may_run`), in the
        table's order."""
        if self._by_template is None:
            self._by_template = {}
            for position, (ref, _) in enumerate(self._table.values()):
                names = runnable(ref)
                if names is None:
                    self._any.append(position)
                for name in names or ():
                    self._by_template.setdefault(name, []).append(position)
        found = sorted([*self._by_template.get(template, ()), *self._any])
        return [self._names[position] for position in found]

    def legacy(self) -> Mapping[str, list[str]]:
        """``legacyAgentId`` -> the instances that hold it."""
        if self._legacy is None:
            self._legacy = {}
            for name, (_, legacy) in self._table.items():
                if isinstance(legacy, str):
                    self._legacy.setdefault(legacy, []).append(name)
        return self._legacy
