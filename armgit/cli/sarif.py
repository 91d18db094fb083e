"""Findings as SARIF 2.1.0, the format GitHub code scanning (and other viewers) read.

One run; ``tool.driver.rules`` lists every rule of :data:`armgit.core.findings.RULES` with its
text, and each result names its rule by id and index, the file (relative to the repository root,
as code scanning expects) and the line. Every finding fails the check, so every level is
``error``. Pure: findings in, a JSON-ready dict out.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from armgit import __version__
from armgit.core.findings import RULES, Finding
from armgit.core.jsondata import JsonValue

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
RULES_DOC = "docs/rules.md"


def to_sarif(findings: Sequence[Finding], *, prefix: str = "") -> dict[str, JsonValue]:
    """The SARIF log of ``findings``; ``prefix`` is the registry's directory in its repository."""
    ids = list(RULES)
    ids += sorted({f.rule for f in findings} - set(RULES))  # never expected; kept, not dropped
    index = {rule: i for i, rule in enumerate(ids)}
    rules: list[JsonValue] = [_rule(rule) for rule in ids]
    results: list[JsonValue] = [_result(f, index[f.rule], prefix) for f in findings]
    driver: dict[str, JsonValue] = {
        "name": "armgit",
        "version": __version__,
        "rules": rules,
    }
    run: dict[str, JsonValue] = {
        "tool": {"driver": driver},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(rule: str) -> JsonValue:
    text = RULES.get(rule, rule)
    return {
        "id": rule,
        "name": rule,
        "shortDescription": {"text": text},
        "help": {"text": f"{text}. What each rule means and what to do: {RULES_DOC}."},
        "defaultConfiguration": {"level": "error"},
    }


def _result(finding: Finding, rule_index: int, prefix: str) -> JsonValue:
    path = posixpath.normpath(f"{prefix}/{finding.path}") if prefix else finding.path
    physical: dict[str, JsonValue] = {"artifactLocation": {"uri": path}}
    if finding.line:
        physical["region"] = {"startLine": finding.line}
    location: dict[str, JsonValue] = {"physicalLocation": physical}
    if finding.pointer:
        location["logicalLocations"] = [{"fullyQualifiedName": finding.pointer, "kind": "member"}]
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": finding.message},
        "locations": [location],
    }
