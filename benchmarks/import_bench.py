"""``armgit import arm`` on a synthetic ARM export (SPEC 14; issue 22: 10,000 rows in <= 30 s).

    python benchmarks/import_bench.py               # 10,000 rows, 3 timed runs
    python benchmarks/import_bench.py --rows 1000 --repeat 1

Each run imports the same ZIP into a fresh copy of the same ``armgit init`` registry (so every
run writes the same commits), through the installed ``armgit`` entry point; then the phases are
timed once in process (read, map, plan, write) and ``armgit validate`` checks the branch's tip.
Prints one table row per figure and writes ``benchmarks/out/import.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the local armgit and benchmarks importable
    sys.path.insert(0, str(ROOT))

from benchmarks.arm_export import generate_export  # noqa: E402

GOAL_SECONDS = 30.0


def _armgit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "armgit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"armgit {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def _phases(export: Path, repo: Path) -> dict[str, float]:
    from armgit.importer.build import map_exports
    from armgit.importer.files import read_export
    from armgit.importer.history import plan_history
    from armgit.importer.write import base_of, write_commits
    from armgit.store.tree import open_repository

    times: dict[str, float] = {}
    start = time.perf_counter()
    arm = read_export(export)
    times["read"] = time.perf_counter() - start
    start = time.perf_counter()
    mapped = map_exports(arm, None, "fleet", {})
    times["map"] = time.perf_counter() - start
    start = time.perf_counter()
    plan = plan_history(mapped, arm.rows("changeRecords"), "fleet", arm.digest)
    times["plan"] = time.perf_counter() - start
    start = time.perf_counter()
    repository = open_repository(repo)
    base, _ = base_of(repository, "import/phases")
    write_commits(repository, base, plan, "import/phases", None)
    times["write"] = time.perf_counter() - start
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="import_bench.py", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="armgit-import-bench-") as scratch:
        work = Path(scratch)
        export = work / "arm.zip"
        counts = generate_export(export, args.rows)
        template = work / "template"
        _armgit(
            "init", str(template), "--tenant", "platform", "--admin", "alice",
            "--admin-email", "alice@bench.example",
        )  # fmt: skip
        runs: list[float] = []
        summary = ""
        for run in range(args.repeat):
            repo = work / f"run-{run}"
            shutil.copytree(template, repo)
            start = time.perf_counter()
            result = _armgit("import", "arm", str(export), "--source", "fleet", cwd=repo)
            runs.append(time.perf_counter() - start)
            summary = result.stdout.strip().splitlines()[-1]
        _armgit("validate", "--repo", str(work / "run-0"), "--rev", "import/fleet")
        phases_repo = work / "phases"
        shutil.copytree(template, phases_repo)
        phases = _phases(export, phases_repo)
    median = statistics.median(runs)
    rows = sum(counts.values())
    report = {
        "rows": rows,
        "tables": counts,
        "runs": runs,
        "median": median,
        "phases": phases,
        "goal": f"<= {GOAL_SECONDS:.0f} s",
        "met": median <= GOAL_SECONDS,
        "summary": summary,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "import.json").write_text(json.dumps(report, indent=2) + "\n")
    spread = f"{min(runs):.2f} - {max(runs):.2f} s"
    detail = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in phases.items())
    print("| scenario | median | range | notes |")
    print("| --- | --- | --- | --- |")
    print(
        f"| `armgit import arm`, {rows:,} rows ({counts['changeRecords']:,} change records) "
        f"| {median:.2f} s | {spread} | {detail}; goal {report['goal']}: "
        f"{'met' if report['met'] else 'MISSED'} |"
    )
    print(summary)
    return 0 if report["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
