"""Audit scenarios: ``armgit audit`` over a long generated history, cold and after one commit.

The history fixture (``Bench.history`` commits, bare) takes a couple of minutes to generate at
10,000 commits and is kept in ``out/fixtures/`` under a key of the generator's arguments.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pygit2

from benchmarks.generate import commit_change
from benchmarks.suite import MEASURED, Bench, Outcome, ScenarioError, run_checked


def _argv(bench: Bench, repo: Path) -> list[str]:
    return bench.armgit("audit", "--repo", str(repo), "--format", "jsonl")


def _cache(repo: Path) -> Path:
    return repo / "armgit" / "audit"  # a bare repository: the git directory itself


def _output(bench: Bench) -> Path:
    """Where the records go: a file, as ``armgit audit > audit.jsonl`` (tens of MB at 10,000
    commits: read through a pipe, this process's reading would be most of what is timed)."""
    return bench.out / "work" / "audit.jsonl"


def _cold(bench: Bench, cache: Callable[[Path], Path], note: str) -> Outcome:
    repo = bench.fixture("history")
    argv, env, out = _argv(bench, repo), bench.env(), _output(bench)
    out.parent.mkdir(parents=True, exist_ok=True)

    def run() -> None:
        run_checked(argv, env=env, stdout=out)

    # a minute or more a run at 10,000 commits: no warm-up (a new process has little to
    # warm), and runs stop after a minute in all (at least one); the last run leaves the caches
    # in place for the next scenario
    stats = bench.measure(
        run,
        setup=lambda: shutil.rmtree(cache(repo), ignore_errors=True),
        repeat=min(bench.repeat, 3),
        warmup=0,
        budget=60.0,
    )
    with out.open("rb") as written:
        records = sum(chunk.count(b"\n") for chunk in iter(lambda: written.read(1 << 20), b""))
    return Outcome(MEASURED, stats, f"{bench.history:,} commits, {records:,} records; {note}")


def audit_cold(bench: Bench) -> Outcome:
    """Nothing cached: every armgit cache of the repository deleted before each run."""
    return _cold(bench, lambda repo: repo / "armgit", "every armgit cache deleted each run")


def audit_records_cold(bench: Bench) -> Outcome:
    """The records cache deleted, the content cache (parsed blobs by id, which the hook and
    validate fill on a server) kept."""
    note = "records cache deleted each run, content cache kept"
    return _cold(bench, _cache, note)


def audit_one_commit(bench: Bench) -> Outcome:
    """Every run adds a different commit on top of the same head (the cache, left by
    audit-cold or filled here, holds the whole history before it), so each run derives
    exactly one commit's records."""
    from armgit.audit.query import read_audit

    pristine = bench.fixture("history")
    repo_path = bench.out / "work" / "audit.git"
    shutil.rmtree(repo_path, ignore_errors=True)
    shutil.copytree(pristine, repo_path)
    repo = pygit2.Repository(str(repo_path))
    head = repo.revparse_single("refs/heads/main").peel(pygit2.Commit)
    argv, env = _argv(bench, repo_path), bench.env()
    if not _cache(repo_path).is_dir():  # audit-cold did not run: fill the cache up to head
        run_checked(argv, env=env)
    fleet = bench.final_fleet()
    counter = [0]

    def new_commit() -> None:
        counter[0] += 1
        repo.references.create("refs/heads/main", head.id, force=True)
        # templates from the end of the fleet: the push scenarios' drafts (shared fleet)
        # are on the first ones
        files = {p: fleet.files[p] for p in fleet.new_draft(len(fleet.templates) - counter[0])}
        commit_change(repo, "refs/heads/main", files, "one new draft\n", head.commit_time + 60)

    new_commit()
    computed = read_audit(repo_path).computed
    if computed != 1:
        raise ScenarioError(f"audit after one new commit derived {computed} commits, not 1")

    out = _output(bench)
    out.parent.mkdir(parents=True, exist_ok=True)

    def run() -> None:
        run_checked(argv, env=env, stdout=out)

    stats = bench.measure(run, setup=new_commit)
    size = out.stat().st_size / 1e6
    note = (
        f"a new commit (3 files) on top of {bench.history:,}, the rest from the cache; "
        f"all {size:.0f} MB of records written to a file"
    )
    return Outcome(MEASURED, stats, note)
