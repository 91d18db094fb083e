"""Run armgit's benchmark suite: every scenario, its peers in the same run, and the goals.

    python benchmarks/run.py            # 10 tenants x 100 templates x 10 versions = 10,000
    python benchmarks/run.py --quick    # a small fleet, for a quick look

Writes ``benchmarks/out/results.json`` and prints a table (also in ``results.txt``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the local armgit and benchmarks importable
    sys.path.insert(0, str(ROOT))

from benchmarks.generate import Options  # noqa: E402
from benchmarks.scenarios import GOALS, GROUPS, SCENARIOS  # noqa: E402
from benchmarks.suite import Bench, Outcome, ScenarioError, human_time, run_scenario  # noqa: E402

DEFAULT_OUT = ROOT / "benchmarks" / "out"


def parse_args(argv: list[str] | None) -> tuple[Bench, list[str]]:
    parser = argparse.ArgumentParser(prog="run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 x 10 x 5 = 100 versions, 3 runs")
    parser.add_argument("--tenants", type=int)
    parser.add_argument("--templates", type=int, help="templates per tenant")
    parser.add_argument("--versions-per-template", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--history", type=int, help="commits of the audit fixture (default 10,000; 200 --quick)"
    )
    parser.add_argument("--repeat", type=int, help="timed runs per scenario (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where results go")
    parser.add_argument(
        "--scale",
        type=int,
        metavar="VERSIONS",
        help="a fleet of this many versions: --tenants (default 10) x --versions-per-template "
        "(default 10) x the templates that make it; the audit fixture is the fleet's one commit "
        "unless --history is given",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="run only this scenario, or a group of them: "
        + ", ".join(f"{name} ({len(rows)} rows)" for name, rows in GROUPS.items()),
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="install nothing: armgit runs from the checkout, peers are reported unavailable",
    )
    args = parser.parse_args(argv)
    size = (2, 10, 5) if args.quick else (10, 100, 10)
    tenants = args.tenants or size[0]
    per_template = args.versions_per_template or size[2]
    templates = args.templates or size[1]
    if args.scale is not None:
        templates, rest = divmod(args.scale, tenants * per_template)
        if rest or templates < 1:
            parser.error(
                f"--scale {args.scale} is not a multiple of --tenants x --versions-per-template "
                f"({tenants} x {per_template})"
            )
    options = Options(tenants, templates, per_template, seed=args.seed)
    repeat = args.repeat or (3 if args.quick else 5)
    history = args.history or (200 if args.quick else 1 if args.scale else 10_000)
    bench = Bench(args.out, options, repeat, args.warmup, not args.no_install, history)
    unknown = [n for n in args.only if n not in GROUPS and n not in {s.name for s in SCENARIOS}]
    if unknown:
        parser.error(f"no scenario or group named {', '.join(unknown)}")
    only = [row for name in args.only for row in GROUPS.get(name, (name,))]
    return bench, only


def machine() -> dict[str, object]:
    git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False)
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "git": git.stdout.strip(),
        "armgit_commit": head.stdout.strip(),
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _cell(outcome: Outcome) -> tuple[str, str]:
    if outcome.stats is None:
        return outcome.status, ""
    s = outcome.stats
    return human_time(s.median), f"{human_time(s.low)} - {human_time(s.high)}"


def table(bench: Bench, outcomes: dict[str, Outcome]) -> str:
    rows = [("scenario", "median", "range", "load", "vs peer")]
    for scenario in SCENARIOS:
        outcome = outcomes[scenario.name]
        median, spread = _cell(outcome)
        load = ""
        if "load_1m_before" in outcome.metrics:
            m = outcome.metrics
            load = f"{m['load_1m_before']:.1f}-{m['load_1m_after']:.1f}"
        ratio = ""
        base = outcomes.get(scenario.peer_of or "")
        if outcome.stats is not None and base is not None and base.stats is not None:
            times = outcome.stats.median / base.stats.median
            ratio = (
                f"{times:.2f}x {scenario.peer_of}"
                if times >= 1
                else f"{scenario.peer_of} is {1 / times:.1f}x this"
            )
        rows.append((scenario.title, median, spread, load, ratio))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(f"goals (at {bench.versions:,} versions):")
    for goal in GOALS:
        status, measured = goal.check(outcomes)
        lines.append(f"  [{status}] {goal.text}" + (f": {measured}" if measured != "-" else ""))
    lines.append("")
    lines.append("notes:")
    for scenario in SCENARIOS:
        if outcomes[scenario.name].note and outcomes[scenario.name].status != "skipped":
            lines.append(f"  {scenario.name}: {outcomes[scenario.name].note}")
    for note in bench.notes:
        lines.append(f"  {note}")
    return "\n".join(lines) + "\n"


def to_json(bench: Bench, outcomes: dict[str, Outcome]) -> dict[str, object]:
    o = bench.options
    return {
        "machine": machine(),
        "fleet": {
            "tenants": o.tenants,
            "templates_per_tenant": o.templates,
            "versions_per_template": o.versions_per_template,
            "versions": bench.versions,
            "seed": o.seed,
            "history_commits": bench.history,
        },
        "repeat": bench.repeat,
        "warmup": bench.warmup,
        "scenarios": [
            {
                "name": s.name,
                "group": s.group,
                "title": s.title,
                "peer_of": s.peer_of,
                "status": outcomes[s.name].status,
                "note": outcomes[s.name].note,
                "stats": (st.to_json() if (st := outcomes[s.name].stats) is not None else None),
                "metrics": outcomes[s.name].metrics,
            }
            for s in SCENARIOS
        ],
        "goals": [
            dict(zip(("goal", "status", "measured"), (g.text, *g.check(outcomes)), strict=True))
            for g in GOALS
        ],
        "notes": bench.notes,
    }


def compile_bytecode() -> None:
    """Compile armgit's modules to bytecode first, as installing a wheel does: from a checkout
    (an editable install) with ``PYTHONDONTWRITEBYTECODE`` set, every command would otherwise
    compile the package from source again, which no installed armgit does."""
    import compileall

    package = Path(__file__).resolve().parent.parent / "armgit"
    compileall.compile_dir(str(package), quiet=1)


def main(argv: list[str] | None = None) -> int:
    bench, only = parse_args(argv)
    bench.out.mkdir(parents=True, exist_ok=True)
    compile_bytecode()
    if bench.install_peers:
        try:
            bench.install_armgit()
        except ScenarioError as exc:
            print(f"run.py: {exc}", file=sys.stderr)
            return 2
        bench.notes.append(f"armgit installed from this checkout into {bench.python}'s venv")
    else:
        bench.notes.append("armgit run from the checkout (--no-install)")
    outcomes: dict[str, Outcome] = {}
    for scenario in SCENARIOS:
        if only and scenario.name not in only:
            outcomes[scenario.name] = Outcome("skipped", note="not selected with --only")
            continue
        print(f"... {scenario.name}", file=sys.stderr, flush=True)
        load = os.getloadavg()[0]
        outcomes[scenario.name] = run_scenario(bench, scenario)
        # the machine may be shared: the load it had is part of the figure
        outcomes[scenario.name].metrics["load_1m_before"] = load
        outcomes[scenario.name].metrics["load_1m_after"] = os.getloadavg()[0]
        if outcomes[scenario.name].status == "failed":
            print(outcomes[scenario.name].note, file=sys.stderr)
    text = table(bench, outcomes)
    (bench.out / "results.json").write_text(json.dumps(to_json(bench, outcomes), indent=2) + "\n")
    (bench.out / "results.txt").write_text(text)
    print(text, end="")
    return 1 if any(o.status == "failed" for o in outcomes.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
