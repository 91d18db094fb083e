"""``--format sarif`` on ``validate`` and ``check``: SARIF 2.1.0 that the OASIS schema accepts
(tests/data/sarif-schema-2.1.0.json, see tests/data/README.md), one run, every rule with its
text, results with file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from armgit.cli.sarif import to_sarif
from armgit.core.findings import RULES, Finding
from tests.conftest import Git, run_armgit

SCHEMA = json.loads((Path(__file__).parent.parent / "data/sarif-schema-2.1.0.json").read_text())
VERSION = "tenants/arm-dev/templates/customer-support/versions/2.0.0.yaml"


def valid_sarif(text: str) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(text)
    validator = Draft4Validator(SCHEMA, format_checker=Draft4Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    assert [r["shortDescription"]["text"] for r in rules] == list(RULES.values())
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    return log


def test_the_schema_is_the_one_named() -> None:
    Draft4Validator.check_schema(SCHEMA)
    assert SCHEMA["id"].endswith("/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}  # a driver needs a name
    assert list(Draft4Validator(SCHEMA).iter_errors(bad))


def test_validate_reports_findings_with_file_line_and_rule(example_repo: Git) -> None:
    version = example_repo.path / VERSION
    version.write_text(version.read_text().replace("lifecycle: ", "lifecycle: NOPE_", 1))
    result = run_armgit("validate", "--repo", str(example_repo.path), "--format", "sarif")
    assert result.returncode == 1
    log = valid_sarif(result.stdout)
    (first, *_) = log["runs"][0]["results"]
    assert first["ruleId"] == "schema"
    assert first["level"] == "error"
    (location,) = first["locations"]
    physical = location["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == VERSION
    lines = version.read_text().splitlines()
    assert lines[physical["region"]["startLine"] - 1].startswith("lifecycle: NOPE_")
    assert location["logicalLocations"] == [{"fullyQualifiedName": "/lifecycle", "kind": "member"}]


def test_validate_of_a_valid_registry_is_a_run_without_results(example_repo: Git) -> None:
    result = run_armgit("validate", "--repo", str(example_repo.path), "--format", "sarif")
    assert result.returncode == 0
    assert valid_sarif(result.stdout)["runs"][0]["results"] == []


def test_check_reports_a_change_rule(example_repo: Git) -> None:
    base = example_repo("rev-parse", "HEAD")
    (example_repo.path / VERSION).unlink()
    example_repo.commit_all("delete a version")
    result = run_armgit(
        "check", "--repo", str(example_repo.path), "--base", base, "--head", "HEAD",
        "--format", "sarif",
    )  # fmt: skip
    assert result.returncode == 1
    results = valid_sarif(result.stdout)["runs"][0]["results"]
    assert "version-deleted" in {r["ruleId"] for r in results}


@pytest.mark.parametrize(
    ("prefix", "path", "uri"),
    [
        ("", "armgit.yaml", "armgit.yaml"),
        ("registry", "tenants/t/tenant.yaml", "registry/tenants/t/tenant.yaml"),
        ("registry", "../.github/workflows/x.yml", ".github/workflows/x.yml"),
    ],
)
def test_paths_are_from_the_repository_root(prefix: str, path: str, uri: str) -> None:
    log = to_sarif([Finding("missing-file", path, "create it")], prefix=prefix)
    text = json.dumps(log)
    result = valid_sarif(text)["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri
    assert "region" not in result["locations"][0]["physicalLocation"]
