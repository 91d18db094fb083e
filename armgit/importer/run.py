"""An import from start to end: read, map, plan, write (or only plan, for ``--dry-run``).

What ``armgit import arm`` does, as one function returning data; only the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from armgit.core.canonical import sha256_digest
from armgit.core.jsondata import JsonObject
from armgit.core.yamldata import YamlProblem, parse_yaml
from armgit.errors import UsageError
from armgit.importer.build import map_exports
from armgit.importer.files import read_export
from armgit.importer.history import PlannedCommit, plan_history
from armgit.importer.names import parse_names
from armgit.importer.write import ImportRefused, base_of, check_branch, conflicts, write_commits
from armgit.store.tree import open_repository, registry_prefix


@dataclass(frozen=True, slots=True)
class ImportOptions:
    export: Path
    mission_control: Path | None = None
    repo: Path = Path(".")
    branch: str | None = None
    source: str = "arm"
    names: Path | None = None
    dry_run: bool = False


@dataclass
class ImportResult:
    branch: str
    base: str
    plan: list[PlannedCommit]
    report: JsonObject
    export: str = ""  # the digest its commits' mark binds (an ``imports`` grant names it)
    commits: list[str] = field(default_factory=list)
    written: int = 0
    tip: str = ""

    def to_json(self) -> JsonObject:
        files = len({p for c in self.plan for p in c.changes})
        return {
            "branch": self.branch,
            "base": self.base,
            "export": self.export,
            "commits": len(self.plan),
            "written": self.written,
            "tip": self.tip or None,
            "files": files,
            **self.report,
        }


def run_import(options: ImportOptions) -> ImportResult:
    """Import ``options.export`` (and Mission Control's) into a branch of ``options.repo``."""
    names: dict[str, str] = {}
    if options.names is not None:
        try:
            raw = options.names.read_bytes()
        except OSError as exc:
            raise UsageError(f"--names {options.names}: {exc.strerror or exc}") from exc
        doc = parse_yaml(raw)
        if isinstance(doc, YamlProblem):
            raise UsageError(f"--names {options.names}: {doc.message}")
        try:
            names = parse_names(doc.data, f"--names {options.names}")
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    arm = read_export(options.export)
    mission_control = (
        read_export(options.mission_control) if options.mission_control is not None else None
    )
    digest = sha256_digest(
        "\n".join(
            [
                arm.digest,
                mission_control.digest if mission_control else "",
                repr(sorted(names.items())),
            ]
        ).encode()
    )
    mapped = map_exports(arm, mission_control, options.source, names)
    plan = plan_history(mapped, arm.rows("changeRecords"), options.source, digest)
    branch = options.branch or f"import/{options.source}"
    repo = open_repository(options.repo)
    prefix = registry_prefix(repo, options.repo.absolute())
    check_branch(repo, branch)
    base, old_tip = base_of(repo, branch)
    clash = conflicts(base, list(mapped.entities), f"{prefix}/" if prefix else "")
    if clash:
        raise ImportRefused(
            f"the registry already has tenant {', '.join(clash)}: import into a new registry, or "
            "give the imported tenant another name with --names (Convex id: name)"
        )
    result = ImportResult(branch, str(base.id), plan, mapped.report(), digest)
    if options.dry_run:
        return result
    written = write_commits(
        repo, base, plan, branch, old_tip, prefix=f"{prefix}/" if prefix else ""
    )
    result.commits, result.written, result.tip = written.commits, written.written, written.tip
    return result
