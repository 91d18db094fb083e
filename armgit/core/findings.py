"""Findings: what is wrong with the user's data, where, and what to do about it.

Every finding carries a stable kebab-case rule id from :data:`RULES`; ``docs/rules.md`` documents
each one and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

RULES: dict[str, str] = {
    # reading files
    "yaml": "the file is not a single YAML document of plain JSON data",
    "non-finite-number": "a number JSON cannot hold: infinite, NaN, or beyond its range",
    "file-too-large": "the file is larger than the registry accepts",
    "unsafe-file": "a symlink, submodule or other non-regular file inside the registry",
    "unexpected-file": "a file where the registry layout expects none",
    "invalid-name": "a path segment is not a valid entity name",
    "missing-file": "a file the registry needs is missing",
    # one file
    "schema": "the content does not match the schema of its kind",
    "path-mismatch": "the content contradicts the identity given by the path",
    "genome-hash-mismatch": "genomeHash is not the hash of genome",
    "artifact-hash-mismatch": "a prompt bundle or tool manifest file does not match its hash",
    # references between files
    "dangling-reference": "a reference names an entity that does not exist",
    "cross-tenant-reference": "a reference leaves its tenant",
    "lineage-cycle": "a version is its own ancestor",
    "not-deployable": "a version is deployed or bound where its lifecycle does not allow",
    "duplicate-active-deployment": "two active deployments of one template in one environment",
    "no-active-deployment": "an instance is not covered by an active deployment where required",
    "duplicate-legacy-id": "two instances of one tenant share a legacyAgentId",
    "ceiling-exceeded": "a policy is wider than a ceiling that bounds it",
    # between two commits
    "genome-immutable": "a version's genome or genomeHash changed",
    "version-deleted": "a version file was deleted",
    "instance-deleted": "an instance file was deleted",
    "instance-moved": "an instance's environment or legacyAgentId changed",
    "previous-version": "a deployment's previousVersion is not the version that ran before",
    "illegal-transition": "a lifecycle or instance state moved along no legal edge",
    "transition-guard": "a legal transition whose guard does not hold",
    "approval-required": "a gated change without enough valid approvals",
    "approval-invalid": "an added approval that can never count",
    "approval-immutable": "an approval file was changed or deleted",
    "permission-denied": "the author of a change lacks a permission it needs",
    "history-rewrite": "a protected branch was rewritten or deleted",
    "unrelated-history": "a pushed range holds a root commit that does not grow from the branch",
    "unsafe-ref": "a pushed ref that would change what git shows of a protected branch",
    "malformed-object": "a pushed commit or tree that git cannot parse",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in the registry.

    ``path`` is the file, relative to the registry root; ``pointer`` the RFC 6901 JSON pointer
    inside it ("" for the whole file); ``line`` is 1-based, or ``None`` where unknown.
    """

    rule: str
    path: str
    message: str
    pointer: str = ""
    line: int | None = None

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"unknown rule id {self.rule!r}")

    def to_json(self) -> dict[str, str | int | None]:
        return {
            "rule": self.rule,
            "path": self.path,
            "line": self.line,
            "pointer": self.pointer,
            "message": self.message,
        }


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Order findings by file, then position, then rule, so output is stable."""
    return sorted(findings, key=lambda f: (f.path, f.line or 0, f.pointer, f.rule, f.message))
