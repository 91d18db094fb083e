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
from armgit.core.layout import EntityId
from armgit.core.yamldata import YamlProblem, parse_yaml
from armgit.loader import Loaded, load_registry, locate
from armgit.store.cache import ContentCache, cache_path
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


def open_cached(repo: str | Path | None, rev: str | None) -> tuple[RegistryTree, ContentCache]:
    """The registry tree and the content cache of its repository (if it has one)."""
    tree = open_tree(repo, rev)
    git_dir = Path(tree.source.repo) if isinstance(tree, GitTree) else git_dir_for(tree.source.repo)
    return tree, ContentCache(cache_path(git_dir))


def load(repo: str | Path | None = None, rev: str | None = None, *, check: bool = True) -> Loaded:
    """Read the registry at ``repo``/``rev`` (see :func:`armgit.store.tree.open_tree`)."""
    tree, cache = open_cached(repo, rev)
    loaded = load_registry(tree, cache, check=check)
    cache.save()
    return loaded


def validate(repo: str | Path | None = None, rev: str | None = None) -> ValidationReport:
    """Check every state rule of SPEC section 4 at one revision or in the work tree."""
    tree, cache = open_cached(repo, rev)
    loaded = load_registry(tree, cache)
    cache.save()
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
        return HashResult(None, None, [Finding("yaml", name, doc.message, doc.pointer, doc.line)])
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
        if p.rule == "yaml" or p.pointer.startswith("/genome")
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
        finding = Finding("yaml", entity_id.path, doc.message, doc.pointer, doc.line)
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
