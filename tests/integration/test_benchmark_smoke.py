"""The benchmarks at a small size, so they never rot: no timing is asserted."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pygit2
import pytest

from benchmarks import run, scenarios
from benchmarks.generate import GENERATOR_VERSION, Options, final_fleet, generate
from tests.conftest import run_armgit

# 60 commits: enough for every commit to hold one legal change per template (verify passes)
SMALL = Options(tenants=2, templates=3, versions_per_template=3, seed=1, history=60)


@pytest.mark.slow
def test_generated_registry_validates_at_every_commit(tmp_path: Path) -> None:
    result = generate(tmp_path / "fleet", SMALL)
    assert result.versions == 18
    assert result.commits == 60
    repo = pygit2.Repository(str(tmp_path / "fleet"))
    walker = repo.walk(repo.head.target, pygit2.enums.SortMode.TOPOLOGICAL)
    commits = [str(c.id) for c in walker]
    assert len(commits) == 60
    for commit in (commits[0], commits[len(commits) // 2], commits[-1]):
        checked = run_armgit("validate", "--repo", str(tmp_path / "fleet"), "--rev", commit)
        assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.slow
def test_generated_history_is_legal(tmp_path: Path) -> None:
    """Every commit passes the change rules: new versions and instances start where they must,
    promotions, prod deployments and privilege widenings carry valid signed approvals."""
    generate(tmp_path / "fleet", SMALL, bare=True)
    checked = run_armgit("verify", "--repo", str(tmp_path / "fleet"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "INTEGRITY_VERIFIED" in checked.stdout


@pytest.mark.slow
def test_generation_is_deterministic(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", SMALL, bare=True)
    second = generate(tmp_path / "b", SMALL, bare=True)
    assert first.head == second.head
    generate(tmp_path / "c", replace(SMALL, history=0), bare=True)
    trees = [
        str(pygit2.Repository(str(tmp_path / name)).revparse_single("HEAD").peel(pygit2.Tree).id)
        for name in ("a", "c")
    ]
    assert trees[0] == trees[1], "history must end on the same registry as a single commit"


@pytest.mark.slow
def test_plain_directory_validates(tmp_path: Path) -> None:
    generate(tmp_path / "plain", SMALL, plain=True)
    assert not (tmp_path / "plain" / ".git").exists()
    checked = run_armgit("validate", "--repo", str(tmp_path / "plain"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.slow
def test_suite_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    argv = ["--tenants", "2", "--templates", "3", "--versions-per-template", "3"]
    argv += ["--history", "60", "--repeat", "1", "--warmup", "0", "--out", str(out)]
    argv += ["--no-install"]
    assert run.main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    status = {s["name"]: s["status"] for s in results["scenarios"]}
    peers = {"check-jsonschema", "cedarpy"}  # not installed with --no-install (unless on PATH)
    for name, got in status.items():
        assert got in ({"measured", "unavailable"} if name in peers else {"measured"}), name
    evaluate = next(s for s in results["scenarios"] if s["name"] == "evaluate")
    assert set(evaluate["metrics"]) >= {"p50_s", "p99_s", "per_s_1_thread", "per_s_2_threads"}
    assert {g["status"] for g in results["goals"]} <= {
        "met",
        "missed",
        "not yet available",
        "unavailable",
    }
    assert "goals (at 18 versions)" in capsys.readouterr().out


@pytest.mark.slow
def test_scale_rows_run_on_a_one_commit_fleet(tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["--scale", "60", "--tenants", "2", "--versions-per-template", "3", "--only", "scale"]
    argv += ["--repeat", "1", "--warmup", "0", "--out", str(out), "--no-install"]
    assert run.main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["fleet"]["versions"] == 60
    assert results["fleet"]["templates_per_tenant"] == 10
    assert results["fleet"]["history_commits"] == 1  # audit-one-commit on the fleet's commit
    status = {s["name"]: s["status"] for s in results["scenarios"]}
    assert {n for n, got in status.items() if got == "measured"} == set(scenarios.SCALE_ROWS)
    assert {got for n, got in status.items() if n not in scenarios.SCALE_ROWS} == {"skipped"}
    # one generation: the bare fixture is a clone of the work-tree one
    assert [p.name for p in (out / "fixtures").iterdir()] == [
        f"g{GENERATOR_VERSION}-t2-m10-v3-s1-h0"
    ]


def test_scale_must_divide_into_templates() -> None:
    with pytest.raises(SystemExit):
        run.parse_args(["--scale", "1001"])


def test_fleet_without_approvals_differs_only_by_them() -> None:
    """The scenarios' fleet (no approvals: a third of the time) gives the same changes."""
    full, light = final_fleet(SMALL), final_fleet(SMALL, approvals=False)
    assert any("/approvals/" in p for p in full.files)
    assert {p: d for p, d in full.files.items() if "/approvals/" not in p} == light.files
    added = full.new_draft(1)
    assert added == light.new_draft(1)
    assert [full.files[p] for p in added] == [light.files[p] for p in added]
