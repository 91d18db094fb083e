"""The scenarios of issue 5 and its goals. A scenario is a small function and a row in SCENARIOS."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from benchmarks.audit_scenarios import audit_cold, audit_one_commit, audit_records_cold
from benchmarks.index_scenarios import (
    cedarpy,
    compile_cold,
    compile_index,
    compile_tenant,
    evaluate,
    index_load,
    index_load_compiled,
    index_load_tenant,
    json_dumps,
)
from benchmarks.loop_scenarios import decision_log_append, evaluate_approval
from benchmarks.push_scenarios import hook_startup, hook_work, push_with_hook, push_without_hook
from benchmarks.site_scenarios import site_cold, site_filter, site_warm
from benchmarks.suite import (
    MEASURED,
    NOT_YET,
    Bench,
    Goal,
    Outcome,
    Scenario,
    ScenarioError,
    human_time,
    run_checked,
)

# -- validate ---------------------------------------------------------------------------------


def _validate(bench: Bench, *, cold: bool) -> Outcome:
    repo = bench.fixture("repo")
    cache = repo / ".git" / "armgit"
    argv = bench.armgit("validate", "--repo", str(repo), "--rev", "HEAD")
    env = bench.env()

    def action() -> None:
        run_checked(argv, env=env)

    def drop_cache() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    stats = bench.measure(action, setup=drop_cache if cold else None)
    how = "cache deleted before each run" if cold else "cache populated by the warm-up"
    return Outcome(MEASURED, stats, f"{bench.versions} versions at HEAD; {how}")


def validate_cold(bench: Bench) -> Outcome:
    return _validate(bench, cold=True)


def validate_warm(bench: Bench) -> Outcome:
    return _validate(bench, cold=False)


def _check_jsonschema(bench: Bench) -> Path:
    """The check-jsonschema executable: on PATH, else in the peers' venv (installed there)."""
    found = shutil.which("check-jsonschema")
    if found:
        return Path(found)
    return bench.peer_python("check-jsonschema").parent / "check-jsonschema"


def _schemas(bench: Bench) -> dict[str, Path]:
    """kind -> JSON Schema file: the project's ``schemas/`` if present, else generated here."""
    from armgit.core.models import MODELS

    shipped = {kind: ROOT_SCHEMAS / f"{kind.lower()}.json" for kind in MODELS}
    if all(path.exists() for path in shipped.values()):
        return shipped
    target = bench.out / "schemas"
    target.mkdir(parents=True, exist_ok=True)
    note = "schemas/ does not exist yet: check-jsonschema used Model.model_json_schema() output"
    if note not in bench.notes:
        bench.notes.append(note)
    for kind, model in MODELS.items():
        (target / f"{kind.lower()}.json").write_text(json.dumps(model.model_json_schema()))
    return {kind: target / f"{kind.lower()}.json" for kind in MODELS}


def check_jsonschema(bench: Bench) -> Outcome:
    from armgit.core.layout import EntityId, identify

    exe = _check_jsonschema(bench)
    repo = bench.fixture("repo")
    schemas = _schemas(bench)
    by_kind: dict[str, list[str]] = {}
    for file in sorted(repo.rglob("*.yaml")):
        path = file.relative_to(repo).as_posix()
        ident = identify(path)
        if isinstance(ident, EntityId):
            by_kind.setdefault(ident.kind, []).append(path)
    failures: list[str] = []

    def action() -> None:
        failures.clear()
        for kind, paths in by_kind.items():
            argv = [str(exe), "--schemafile", str(schemas[kind]), *paths]
            result = subprocess.run(argv, cwd=repo, capture_output=True, check=False)
            if result.returncode == 1:
                failures.append(kind)
            elif result.returncode != 0:
                raise ScenarioError(result.stderr.decode(errors="replace")[-2000:])

    # a slow peer (about two minutes at 10,000 versions): runs stop after a minute in all, so a
    # full suite stays within minutes; the OS file cache is already warm from armgit's runs,
    # and a new process per run has nothing else to warm up
    stats = bench.measure(action, repeat=min(bench.repeat, 3), warmup=0, budget=60.0)
    files = sum(len(p) for p in by_kind.values())
    note = f"{files} files, one process per kind ({len(by_kind)}), schema checks only"
    if failures:
        note += f"; it reported schema errors in kinds {', '.join(failures)}"
    return Outcome(MEASURED, stats, note)


# -- the table --------------------------------------------------------------------------------

ROOT_SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "validate-cold",
        "validate",
        "armgit validate, cold (no cache)",
        validate_cold,
        ("validate",),
    ),
    Scenario(
        "validate-warm",
        "validate",
        "armgit validate, warm (cache populated)",
        validate_warm,
        ("validate",),
    ),
    Scenario(
        "check-jsonschema",
        "validate",
        "peer: check-jsonschema, schema only",
        check_jsonschema,
        peer_of="validate-cold",
    ),
    Scenario("push-no-hook", "push", "git push, 3 files, no hook (baseline)", push_without_hook),
    Scenario(
        "push-hook",
        "push",
        "git push, 3 files, with the pre-receive hook",
        push_with_hook,
        ("hooks",),
        peer_of="push-no-hook",
    ),
    Scenario("hook-startup", "push", "pre-receive hook: start-up", hook_startup, ("hook",)),
    Scenario("hook-work", "push", "pre-receive hook: work", hook_work, ("hook",)),
    Scenario(
        "compile", "compile", "armgit compile (caches populated)", compile_index, ("compile",)
    ),
    Scenario(
        "compile-cold",
        "compile",
        "armgit compile, cold (no cache)",
        compile_cold,
        ("compile",),
    ),
    Scenario(
        "compile-tenant",
        "compile",
        "armgit compile --tenant, one tenant (caches populated)",
        compile_tenant,
        ("compile",),
    ),
    Scenario(
        "json-dumps",
        "compile",
        "peer: json.dumps of the same payload",
        json_dumps,
        ("compile",),
        peer_of="compile",
    ),
    Scenario("index-load", "runtime", "runtime: load + verify the index", index_load, ("compile",)),
    Scenario(
        "index-load-compiled",
        "runtime",
        "runtime: load + verify the registry's own index",
        index_load_compiled,
        ("compile",),
    ),
    Scenario(
        "index-load-tenant",
        "runtime",
        "runtime bound to one tenant: load + verify its own index",
        index_load_tenant,
        ("compile",),
    ),
    Scenario(
        "evaluate", "runtime", "runtime: evaluate, per decision (mean)", evaluate, ("compile",)
    ),
    Scenario(
        "cedarpy",
        "runtime",
        "peer: cedarpy, same decisions (mean)",
        cedarpy,
        ("compile",),
        peer_of="evaluate",
    ),
    Scenario(
        "evaluate-approval",
        "runtime",
        "runtime: evaluate with one signed approval, per call (mean)",
        evaluate_approval,
    ),
    Scenario(
        "decision-log",
        "runtime",
        "runtime: one decision-log append (mean)",
        decision_log_append,
    ),
    Scenario("site-cold", "site", "armgit site, cold (no cache)", site_cold, ("site",)),
    Scenario("site-warm", "site", "armgit site, rebuilt (caches populated)", site_warm, ("site",)),
    Scenario("site-filter", "site", "site: Directory filter in Chromium", site_filter, ("site",)),
    Scenario("audit-cold", "audit", "armgit audit over the history, cold", audit_cold, ("audit",)),
    Scenario(
        "audit-records-cold",
        "audit",
        "armgit audit, records cache deleted, content cache warm",
        audit_records_cold,
        ("audit",),
    ),
    Scenario(
        "audit-one-commit",
        "audit",
        "armgit audit after one new commit",
        audit_one_commit,
        ("audit",),
    ),
)

# what ``--only scale`` runs: the rows whose growth from 1,000 to 100,000 versions RESULTS.md
# tabulates (SPEC 9, last bullet)
SCALE_ROWS: tuple[str, ...] = (
    "validate-cold",
    "validate-warm",
    "push-no-hook",
    "push-hook",
    "hook-startup",
    "hook-work",
    "compile",
    "compile-tenant",
    "index-load-compiled",
    "index-load-tenant",
    "audit-one-commit",
)
GROUPS: dict[str, tuple[str, ...]] = {"scale": SCALE_ROWS}


# -- goals ------------------------------------------------------------------------------------


def _within(
    name: str, limit: float, *, worst: bool = False
) -> Callable[[dict[str, Outcome]], tuple[str, str]]:
    def check(outcomes: dict[str, Outcome]) -> tuple[str, str]:
        outcome = outcomes.get(name)
        if outcome is None or outcome.stats is None:
            return (outcome.status if outcome else NOT_YET), "-"
        value = outcome.stats.high if worst else outcome.stats.median
        return ("met" if value <= limit else "missed"), _seconds(value)

    return check


def _faster(name: str, peer: str, factor: float) -> Callable[[dict[str, Outcome]], tuple[str, str]]:
    def check(outcomes: dict[str, Outcome]) -> tuple[str, str]:
        ours, theirs = outcomes.get(name), outcomes.get(peer)
        for outcome in (ours, theirs):
            if outcome is None or outcome.stats is None:
                return (outcome.status if outcome else NOT_YET), "-"
        assert ours is not None
        assert theirs is not None
        assert ours.stats is not None
        assert theirs.stats is not None
        ratio = theirs.stats.median / ours.stats.median
        return ("met" if ratio >= factor else "missed"), f"{ratio:.2f}x"

    return check


def _metric(name: str, key: str, limit: float) -> Callable[[dict[str, Outcome]], tuple[str, str]]:
    def check(outcomes: dict[str, Outcome]) -> tuple[str, str]:
        outcome = outcomes.get(name)
        if outcome is None or key not in outcome.metrics:
            return (outcome.status if outcome else NOT_YET), "-"
        value = outcome.metrics[key]
        return ("met" if value <= limit else "missed"), human_time(value)

    return check


def _ratio_at_most(
    name: str, peer: str, factor: float
) -> Callable[[dict[str, Outcome]], tuple[str, str]]:
    """Ours over the peer's median: at most ``factor`` is met."""

    def check(outcomes: dict[str, Outcome]) -> tuple[str, str]:
        ours, theirs = outcomes.get(name), outcomes.get(peer)
        if ours is None or ours.stats is None:
            return (ours.status if ours else NOT_YET), "-"
        if theirs is None or theirs.stats is None:
            return (theirs.status if theirs else NOT_YET), "-"
        ratio = ours.stats.median / theirs.stats.median
        return ("met" if ratio <= factor else "missed"), f"{ratio:.2f}x"

    return check


def _hook_overhead(limit: float, *, worst: bool) -> Callable[[dict[str, Outcome]], tuple[str, str]]:
    def check(outcomes: dict[str, Outcome]) -> tuple[str, str]:
        hook, base = outcomes.get("push-hook"), outcomes.get("push-no-hook")
        if hook is None or hook.stats is None or base is None or base.stats is None:
            return (hook.status if hook is not None else NOT_YET), "-"
        added = (hook.stats.high if worst else hook.stats.median) - base.stats.median
        return ("met" if added <= limit else "missed"), _seconds(added)

    return check


def _seconds(value: float) -> str:
    return human_time(value)


GOALS: tuple[Goal, ...] = (
    Goal("hook adds <= 150 ms median to a 3-file push", _hook_overhead(0.150, worst=False)),
    Goal("hook adds <= 1 s to a 3-file push, worst case", _hook_overhead(1.0, worst=True)),
    Goal("full validation, cold <= 6 s", _within("validate-cold", 6.0)),
    Goal(
        "full validation, cold >= 3x faster than check-jsonschema",
        _faster("validate-cold", "check-jsonschema", 3.0),
    ),
    Goal("full validation, warm <= 1 s", _within("validate-warm", 1.0)),
    Goal("compile <= 3x json.dumps of the payload", _ratio_at_most("compile", "json-dumps", 3.0)),
    Goal("index of 10,000 versions loaded and verified <= 300 ms", _within("index-load", 0.300)),
    Goal("evaluate p50 <= 2 us", _metric("evaluate", "p50_s", 2e-6)),
    Goal("evaluate p99 <= 10 us", _metric("evaluate", "p99_s", 10e-6)),
    Goal("evaluate >= 50x faster than cedarpy", _faster("evaluate", "cedarpy", 50.0)),
    Goal(
        "evaluate with one approval p50 <= 100 us",
        _metric("evaluate-approval", "p50_s", 100e-6),
    ),
    Goal(
        "evaluate with one approval p50 <= its bare Ed25519 verify + 20 us",
        _metric("evaluate-approval", "overhead_s", 20e-6),
    ),
    Goal("decision-log append p50 <= 20 us", _metric("decision-log", "p50_s", 20e-6)),
    Goal(
        "site build, cold <= 2x a cold validate",
        _ratio_at_most("site-cold", "validate-cold", 2.0),
    ),
    Goal("Directory filter in Chromium <= 1 s", _within("site-filter", 1.0, worst=True)),
    Goal("audit of 10,000 commits, cold <= 30 s", _within("audit-cold", 30.0)),
    Goal("audit after one new commit <= 200 ms", _within("audit-one-commit", 0.200)),
)
