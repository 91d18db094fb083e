"""Read a registry into a :class:`~armgit.core.snapshot.Snapshot` plus the findings of its files.

Glue between the store (bytes by path and blob id) and the pure core (parse, identify, check).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import partial

from armgit.core.content import Content, ReadFile, content_of
from armgit.core.findings import Finding, sort_findings
from armgit.core.layout import REGISTRY_FILE, EntityId, PathProblem, identify, tenant_id
from armgit.core.rules.state import check_identity, check_state
from armgit.core.snapshot import Entity, Snapshot
from armgit.core.yamldata import line_of
from armgit.gcpause import collector_paused
from armgit.progress import task
from armgit.store.cache import ContentCache
from armgit.store.tree import (
    MODE_SUBMODULE,
    MODE_SYMLINK,
    REGULAR_MODES,
    FileEntry,
    RegistryTree,
)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A registry read at one revision: its snapshot and what is wrong with its files."""

    snapshot: Snapshot
    findings: list[Finding]
    files: int


def load_registry(
    tree: RegistryTree, cache: ContentCache | None = None, *, check: bool = True
) -> Loaded:
    """Read every governed file of ``tree``; invalid files become findings, not entities.

    With ``check=False`` the state rules between entities are skipped (listing needs none).
    """
    with collector_paused():
        return _load(tree, cache if cache is not None else ContentCache(None), check)


def _load(tree: RegistryTree, cache: ContentCache, check: bool) -> Loaded:
    entities: list[Entity] = []
    findings: list[Finding] = []
    tenants: set[str] = set()
    paths: set[str] = set()
    broken: list[EntityId] = []
    misplaced: list[Entity] = []
    files: list[tuple[FileEntry, EntityId]] = []
    for entry in tree.entries():
        ident = identify(entry.path)
        if ident is None:  # an artifact beside a template, or a .gitkeep
            unsafe = unsafe_file(entry)
            if unsafe is not None:
                findings.append(unsafe)
            continue
        paths.add(entry.path)
        if isinstance(ident, PathProblem):
            findings.append(Finding(ident.rule, entry.path, ident.message))
            continue
        if ident.tenant:
            tenants.add(ident.tenant)
        unsafe = unsafe_file(entry)
        if unsafe is not None:
            findings.append(unsafe)
            broken.append(ident)
            continue
        files.append((entry, ident))
    contents = _contents(tree, cache, [entry for entry, _ in files])
    for entry, ident in files:
        content = contents[entry.oid]
        problems = [
            Finding(p.rule, entry.path, p.message, p.pointer, p.line) for p in content.problems
        ]
        findings.extend(problems)
        if content.model is None:
            broken.append(ident)
            continue
        entity = Entity(ident, entry.path, content.model)
        identity = check_identity(ident, entry.path, content.model)
        if identity:
            findings.extend(identity)
            broken.append(ident)
            misplaced.append(entity)
        else:
            entities.append(entity)
    snapshot = Snapshot(entities, tree, broken, misplaced)
    findings.extend(_missing_files(paths, tenants))
    if check:
        findings.extend(check_state(snapshot))
    return Loaded(snapshot, sort_findings(locate(findings, tree)), len(paths))


def _contents(
    tree: RegistryTree, cache: ContentCache, entries: list[FileEntry]
) -> dict[str, Content]:
    """The parsed content of every entry: from the cache, else read (in parallel if many)."""
    # imported here: multiprocessing costs ~8 ms of start-up that the hook, which only uses
    # locate(), never needs
    from armgit.store.parallel import read_documents

    contents: dict[str, Content] = {}
    missing: dict[str, FileEntry] = {}
    cache.prefetch(e.oid for e in entries)
    for entry in entries:
        content = cache.get(entry.oid)
        if content is None:
            missing.setdefault(entry.oid, entry)
        else:
            contents[entry.oid] = content
    with task("reading registry files", len(missing)) as advance:
        for entry, doc in read_documents(tree, list(missing.values())):
            content = content_of(doc, partial(tree.read_entry, entry))
            cache.put(entry.oid, content, doc.data_json if isinstance(doc, ReadFile) else None)
            contents[entry.oid] = content
            advance(1)
    return contents


def unsafe_file(entry: FileEntry) -> Finding | None:
    """``unsafe-file`` for a symlink, a submodule or anything but a regular file."""
    if entry.mode in REGULAR_MODES:
        return None
    what = {MODE_SYMLINK: "a symbolic link", MODE_SUBMODULE: "a submodule"}.get(
        entry.mode, "not a regular file"
    )
    return Finding(
        "unsafe-file",
        entry.path,
        f"{what}: registry files must be regular files, so that every reader sees the same bytes",
    )


def _missing_files(paths: set[str], tenants: set[str]) -> Iterable[Finding]:
    if REGISTRY_FILE not in paths:
        yield Finding(
            "missing-file",
            REGISTRY_FILE,
            "every registry has an armgit.yaml (kind: Registry) at its root: "
            "create one, or run `armgit init`",
        )
    for tenant in sorted(tenants):
        path = tenant_id(tenant).path
        if path not in paths:
            yield Finding(
                "missing-file", path, f"tenant {tenant!r} has files but no tenant.yaml: create it"
            )


def locate(findings: list[Finding], tree: RegistryTree) -> list[Finding]:
    """Fill in the line of each finding that has a JSON pointer but no line yet."""
    data_by_path: dict[str, bytes | None] = {}
    located = []
    for finding in findings:
        if finding.line is None and finding.pointer:
            if finding.path not in data_by_path:
                data_by_path[finding.path] = tree.read(finding.path)
            data = data_by_path[finding.path]
            if data is not None:
                located.append(replace(finding, line=line_of(data, finding.pointer)))
                continue
        located.append(finding)
    return located
