"""The armgit API: what the CLI does, as functions that return data.

The CLI is a thin layer over these; other tools (CI scripts, the web view) can call them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from armgit.core.canonical import genome_hash
from armgit.core.content import parse_content
from armgit.core.findings import Finding, sort_findings
from armgit.core.jsondata import JsonValue
from armgit.core.layout import EntityId, version_id
from armgit.core.rules.state import parse_version_ref
from armgit.core.yamldata import YamlProblem, parse_yaml
from armgit.registry.loader import Loaded, load_registry, locate
from armgit.store.cache import ContentCache, cache_path
from armgit.store.results import CachedResult, ResultCache, registry_key, result_cache_path
from armgit.store.tree import GitTree, RegistryTree, SourceInfo, git_dir_for, open_tree


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The result of :func:`validate`: every finding, and what was read."""

    findings: list[Finding]
    files: int
    entities: int
    source: SourceInfo

    @property
    def ok(self) -> bool:
        return not self.findings


def _git_dir(tree: RegistryTree) -> Path | None:
    return tree.git_dir if isinstance(tree, GitTree) else git_dir_for(tree.source.repo)


def open_cached(repo: str | Path | None, rev: str | None) -> tuple[RegistryTree, ContentCache]:
    """The registry tree and the content cache of its repository (if it has one)."""
    tree = open_tree(repo, rev)
    return tree, ContentCache(cache_path(_git_dir(tree)))


def load(repo: str | Path | None = None, rev: str | None = None, *, check: bool = True) -> Loaded:
    """Read the registry at ``repo``/``rev`` (see :func:`armgit.store.tree.open_tree`)."""
    tree, cache = open_cached(repo, rev)
    loaded = load_registry(tree, cache, check=check)
    cache.save()
    return loaded


def validate(repo: str | Path | None = None, rev: str | None = None) -> ValidationReport:
    """Check every state rule of SPEC section 4 at one revision or in the work tree.

    The verdict for a given registry content is cached (see :mod:`armgit.store.results`), so
    validating an unchanged commit again is a lookup.
    """
    tree = open_tree(repo, rev)
    git_dir = _git_dir(tree)
    results = ResultCache(result_cache_path(git_dir))
    key = registry_key(tree)
    cached = results.get(key)
    if cached is not None:
        return ValidationReport(cached.findings, cached.files, cached.entities, tree.source)
    cache = ContentCache(cache_path(git_dir))
    loaded = load_registry(tree, cache)
    cache.save()
    results.put(key, CachedResult(loaded.findings, loaded.files, len(loaded.snapshot)))
    return ValidationReport(loaded.findings, loaded.files, len(loaded.snapshot), tree.source)


@dataclass(frozen=True, slots=True)
class HashResult:
    """The genome hash of a version file, or the findings that stop it being computed."""

    genome_hash: str | None
    written: str | None
    findings: list[Finding]


def hash_file(path: Path) -> HashResult:
    """Compute ``sha256:<hex>`` of the genome of the version file at ``path``."""
    data = path.read_bytes()
    name = str(path)
    doc = parse_yaml(data)
    if isinstance(doc, YamlProblem):
        return HashResult(None, None, [Finding(doc.rule, name, doc.message, doc.pointer, doc.line)])
    value = doc.data
    genome = value.get("genome") if isinstance(value, dict) else None
    if genome is None:
        return HashResult(
            None, None, [Finding("schema", name, "no genome here: is this a version file?", "")]
        )
    content = parse_content(data)
    findings = [
        Finding(p.rule, name, p.message, p.pointer, p.line)
        for p in content.problems
        if p.rule != "genome-hash-mismatch"
        and (p.rule == "yaml" or p.pointer == "/genome" or p.pointer.startswith("/genome/"))
    ]
    if findings:
        return HashResult(None, None, sort_findings(findings))
    written = value.get("genomeHash") if isinstance(value, dict) else None
    return HashResult(genome_hash(genome), written if isinstance(written, str) else None, [])


@dataclass(frozen=True, slots=True)
class Detail:
    """One entity as written, for ``armgit show``."""

    id: EntityId
    path: str
    data: JsonValue
    findings: list[Finding]
    integrity: str | None  # VERIFIED / TAMPERED for versions


def read_detail(tree: RegistryTree, entity_id: EntityId) -> Detail | None:
    """Read one entity's file (and nothing else), recomputing a version's genome hash."""
    data = tree.read(entity_id.path)
    if data is None:
        return None
    doc = parse_yaml(data)
    if isinstance(doc, YamlProblem):
        finding = Finding(doc.rule, entity_id.path, doc.message, doc.pointer, doc.line)
        return Detail(entity_id, entity_id.path, None, [finding], None)
    content = parse_content(data)
    findings = [
        Finding(p.rule, entity_id.path, p.message, p.pointer, p.line) for p in content.problems
    ]
    integrity = None
    value = doc.data
    if entity_id.kind == "Version" and isinstance(value, dict) and "genome" in value:
        written = value.get("genomeHash")
        integrity = "VERIFIED" if genome_hash(value["genome"]) == written else "TAMPERED"
    return Detail(entity_id, entity_id.path, value, locate(findings, tree), integrity)


@dataclass(frozen=True, slots=True)
class LineageStep:
    """One version on the way to the root of its lineage."""

    id: EntityId
    lifecycle: str
    genome_hash: str
    integrity: str


@dataclass(frozen=True, slots=True)
class Lineage:
    """A version's ancestors, nearest first, and why the walk stopped early (if it did)."""

    steps: list[LineageStep]
    problem: str | None


def read_lineage(tree: RegistryTree, start: EntityId) -> Lineage:
    """Walk ``parent`` links from ``start`` to the root, reading one file per step."""
    steps: list[LineageStep] = []
    seen: set[EntityId] = set()
    current: EntityId | None = start
    while current is not None:
        if current in seen:
            return Lineage(steps, f"lineage cycle: {current.ref} is its own ancestor")
        seen.add(current)
        detail = read_detail(tree, current)
        if detail is None:
            what = "does not exist" if steps else "no such version"
            return Lineage(steps, f"{current.ref} {what} (expected at {current.path})")
        value = detail.data
        if not isinstance(value, dict):
            return Lineage(steps, f"{current.ref} is not readable: run `armgit validate`")
        steps.append(
            LineageStep(
                current,
                str(value.get("lifecycle", "DRAFT")),
                str(value.get("genomeHash", "")),
                detail.integrity or "TAMPERED",
            )
        )
        parent = value.get("parent")
        if not isinstance(parent, str):
            break
        ref = parse_version_ref(parent, current.tenant, str(value.get("template", "")))
        if ref.tenant != current.tenant:
            return Lineage(steps, f"{current.ref} names a parent in another tenant ({parent})")
        current = version_id(ref.tenant, ref.template, ref.label)
    return Lineage(steps, None)
