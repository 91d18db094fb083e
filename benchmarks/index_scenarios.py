"""Compile and runtime scenarios: ``armgit compile`` vs ``json.dumps``, loading and verifying
the signed index, and ``evaluate`` vs the same decisions in Cedar (``cedarpy``).

The compiled index holds only deployed versions (at most three per template: dev, staging,
prod), so a 10,000-version registry compiles to an index of about 2,000 versions. The runtime
scenarios use an index of at least the bench's number of versions made from the compiled one:
its tenants repeated under new names (every genome, policy and deployment as compiled) and
signed again, so the runtime verifies as many versions as the registry holds.
"""

from __future__ import annotations

import base64
import json
import math
import random
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from benchmarks.suite import MEASURED, Bench, Outcome, ScenarioError, Stats, run_checked

CEDAR_POLICIES = """\
// the tool is allowed (declared in the genome and allowed by the effective policy)
permit (principal, action == Action::"call", resource)
when { resource in principal };

// ... and may run without a human: its risk (the declared one, or the caller's if higher)
// is below the autonomy tier's approval threshold (tier 0: none; 1: low, medium; 2: up to
// high; 3-5: every risk)
permit (principal, action == Action::"call", resource)
when {
  resource in principal &&
  (principal.tier >= 3 ||
   (principal.tier == 2 &&
    (if context.risk > resource.risk then context.risk else resource.risk) <= 2) ||
   (principal.tier == 1 &&
    (if context.risk > resource.risk then context.risk else resource.risk) <= 1))
};
"""
RISKS = ("low", "medium", "high", "critical")
UNKNOWN_TOOL = "shell_exec"
DECISIONS = 100_000  # evaluate calls per timed run
CEDAR_DECISIONS = 20_000  # cedarpy is about a hundred times slower


@dataclass(frozen=True, slots=True)
class Compiled:
    key: Ed25519PrivateKey
    path: Path  # the signed index of the generated registry
    payload: dict[str, Any]


def _key(bench: Bench) -> tuple[Ed25519PrivateKey, Path]:
    path = bench.out / "keys" / "index_ed25519"
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()))
    path.chmod(0o600)
    return key, path


def _compile_argv(bench: Bench, key: Path, out: Path, tenant: str | None = None) -> list[str]:
    repo = bench.fixture("repo")
    return [
        *bench.armgit("compile", "--repo", str(repo), "--rev", "HEAD"),
        *("--key", str(key), "--out", str(out), "--expires-in", "30d", "--first-publish"),
        *(("--tenant", tenant) if tenant is not None else ()),
    ]


def compiled(bench: Bench) -> Compiled:
    """The generated registry compiled once (the compile scenario reuses its key and output)."""
    known = bench.shared.get("compiled")
    if isinstance(known, Compiled):
        return known
    key, key_path = _key(bench)
    out = bench.out / "work" / "index.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = _compile_argv(bench, key_path, out)
    run_checked(argv, env=bench.env())
    envelope = json.loads(out.read_bytes())
    payload = json.loads(base64.b64decode(envelope["payload"]))
    result = Compiled(key, out, payload)
    bench.shared["compiled"] = result
    return result


def _versions(payload: dict[str, Any]) -> int:
    """The versions a payload as compiled holds (each tenant's ``versions`` is a table of rows)."""
    return sum(len(t["versions"]["rows"]) for t in payload["tenants"].values())


def compile_index(bench: Bench) -> Outcome:
    return _compile(bench, cold=False)


def compile_cold(bench: Bench) -> Outcome:
    return _compile(bench, cold=True)


def _compile(bench: Bench, *, cold: bool) -> Outcome:
    done = compiled(bench)
    key_path = bench.out / "keys" / "index_ed25519"
    argv = _compile_argv(bench, key_path, bench.out / "work" / "index-timed.json")
    cache = bench.fixture("repo") / ".git" / "armgit"
    env = bench.env()

    def run() -> None:
        run_checked(argv, env=env)

    def drop_caches() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    stats = bench.measure(run, setup=drop_caches if cold else None)
    bench.shared["compile-cold" if cold else "compile"] = stats
    size = done.path.stat().st_size / 1e6
    how = (
        "every armgit cache (parsed files, verdicts, fragments) deleted before each run"
        if cold
        else "caches populated by the first compile"
    )
    note = (
        f"{bench.versions} versions in the registry; the index holds the "
        f"{_versions(done.payload)} deployed ones ({size:.1f} MB signed); {how}"
    )
    return Outcome(MEASURED, stats, note)


def json_dumps(bench: Bench) -> Outcome:
    payload = compiled(bench).payload

    def dump() -> None:
        json.dumps(payload, sort_keys=True, separators=(",", ":"))

    stats = bench.measure(dump)
    note = "in-process json.dumps(sort_keys=True) of the same payload"
    cold = bench.shared.get("compile-cold")
    if isinstance(cold, Stats) and stats.median > 0:
        note += f"; compile-cold is {cold.median / stats.median:.1f}x this"
    return Outcome(MEASURED, stats, note)


# -- the runtime --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BigIndex:
    data: bytes
    versions: int
    trust: Any  # armgit.runtime.TrustRoot


def big_index(bench: Bench) -> BigIndex:
    """An index of at least ``bench.versions`` versions: the compiled tenants, repeated."""
    known = bench.shared.get("big-index")
    if isinstance(known, BigIndex):
        return known
    from armgit.core.canonical import to_canonical_json
    from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE, sign_envelope
    from armgit.crypto.ed25519 import public_key_line
    from armgit.runtime import TrustRoot

    done = compiled(bench)
    payload = json.loads(json.dumps(done.payload))
    per_copy = _versions(payload)
    if per_copy == 0:
        raise ScenarioError("the compiled index holds no deployed version")
    copies = max(1, math.ceil(bench.versions / per_copy))
    tenants = payload["tenants"]
    payload["tenants"] = {}
    for k in range(copies):
        for name, data in tenants.items():
            renamed = name if k == 0 else f"{name}-r{k}"
            payload["tenants"][renamed] = dict(data, name=renamed) if "name" in data else data
    data = sign_envelope(to_canonical_json(payload), INDEX_PAYLOAD_TYPE, [done.key])
    trust = TrustRoot.from_public_keys([public_key_line(done.key.public_key())])
    result = BigIndex(data, per_copy * copies, trust)
    bench.shared["big-index"] = result
    return result


def _loaded_payload(index: BigIndex) -> Any:
    """The payload as the runtime reads it: each genome whole, each policy with its digest."""
    from armgit.runtime import Runtime

    runtime = Runtime(index.trust)
    runtime.load_bytes(index.data)
    assert runtime.index is not None
    return runtime.index.payload


def index_load(bench: Bench) -> Outcome:
    from armgit.runtime import Runtime

    index = big_index(bench)

    def load() -> None:
        Runtime(index.trust).load_bytes(index.data)

    stats = bench.measure(load)
    note = (
        f"Runtime.load_bytes of {index.versions} versions ({len(index.data) / 1e6:.1f} MB): "
        "signature, duplicate keys, expiry, every genome hash; the compiled index's tenants "
        "repeated to reach the registry's version count"
    )
    return Outcome(MEASURED, stats, note)


@dataclass(frozen=True, slots=True)
class Request:
    tenant: str
    environment: str
    template: str
    tool: str
    risk: str | None


def requests(bench: Bench) -> tuple[Any, list[Request], list[str]]:
    """A loaded runtime, the decision requests (every deployed target and each tool its genome
    declares, for one in five targets also an unknown tool; a third of the calls raise the
    risk) and armgit's answers."""
    from armgit.runtime import Runtime

    known = bench.shared.get("requests")
    if isinstance(known, tuple):
        return known
    index = big_index(bench)
    runtime = Runtime(index.trust)
    runtime.load_bytes(index.data)
    payload = _loaded_payload(index)  # genomes whole (their parts put back)
    rng = random.Random(5)
    found: list[Request] = []
    for tenant, data in payload["tenants"].items():
        for environment, deployments in data["deployments"].items():
            for template, entry in deployments.items():
                # what the agent calls: the tools its genome declares (some not allowed by the
                # effective policy), and now and then one it does not have
                version = data["versions"][f"{template}@{entry['version']}"]
                declared = sorted(t["toolId"] for t in version["genome"].get("toolManifest") or ())
                tools = [*declared, UNKNOWN_TOOL] if rng.random() < 0.2 else declared
                for tool in tools:
                    risk = rng.choice((None, None, None, "medium", "high", "critical"))
                    found.append(Request(tenant, environment, template, tool, risk))
    rng.shuffle(found)
    answers = [
        runtime.evaluate(
            r.tenant, r.environment, template=r.template, tool=r.tool, risk=r.risk
        ).decision
        for r in found
    ]
    result = (runtime, found, answers)
    bench.shared["requests"] = result
    return result


def evaluate(bench: Bench) -> Outcome:
    runtime, found, answers = requests(bench)
    calls = [
        (r.tenant, r.environment, r.template, r.tool, r.risk)
        for r in (found * math.ceil(DECISIONS / len(found)))[:DECISIONS]
    ]
    ev = runtime.evaluate

    def batch(part: list[tuple[str, str, str, str, str | None]]) -> None:
        for tenant, environment, template, tool, risk in part:
            ev(tenant, environment, template=template, tool=tool, risk=risk)

    stats = bench.measure(lambda: batch(calls))
    per_decision = Stats(tuple(s / len(calls) for s in stats.samples))
    # each call timed on its own, for the percentiles
    samples: list[int] = []
    clock = time.perf_counter_ns
    for tenant, environment, template, tool, risk in calls:
        started = clock()
        ev(tenant, environment, template=template, tool=tool, risk=risk)
        samples.append(clock() - started)
    samples.sort()
    p50 = samples[len(samples) // 2] / 1e9
    p99 = samples[len(samples) * 99 // 100] / 1e9
    threaded = _threaded(batch, calls, 2)
    single = 1 / per_decision.median
    # the calls spread over every target miss the CPU caches; a runtime serving one agent asks
    # about one target, whose tables stay cached
    first = calls[0][:3]
    own = [c for c in calls if c[:3] == first]
    own = (own * math.ceil(DECISIONS / len(own)))[:DECISIONS]
    one_target = bench.measure(lambda: batch(own)).median / len(own)
    counts = {d: answers.count(d) for d in sorted(set(answers))}
    note = (
        f"{len(calls):,} decisions over {len(found):,} distinct requests ({counts}); "
        f"p50 {p50 * 1e6:.2f} us, p99 {p99 * 1e6:.2f} us (perf_counter_ns per call); "
        f"{single:,.0f}/s on one thread, {threaded:,.0f}/s on two; "
        f"{one_target * 1e6:.2f} us mean when every call is to one target"
    )
    metrics = {
        "p50_s": p50,
        "p99_s": p99,
        "per_s_1_thread": single,
        "per_s_2_threads": threaded,
        "one_target_mean_s": one_target,
    }
    return Outcome(MEASURED, per_decision, note, metrics)


def _threaded(run: Any, calls: list[Any], threads: int) -> float:
    """Decisions per second with ``threads`` threads sharing ``calls``."""
    parts = [calls[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=run, args=(part,)) for part in parts]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(calls) / (time.perf_counter() - started)


def cedar_input(bench: Bench) -> dict[str, Any]:
    """The same targets as Cedar entities and the same requests, with armgit's answers."""
    _, found, answers = requests(bench)
    payload = _loaded_payload(big_index(bench))  # genomes whole (their parts put back)
    rank = {r: i for i, r in enumerate(RISKS)}
    entities: list[dict[str, Any]] = []
    for tenant, data in payload["tenants"].items():
        for environment, deployments in data["deployments"].items():
            for template, entry in deployments.items():
                agent = f"{tenant}/{environment}/{template}"
                policy = data["policies"].get(entry.get("policy")) or {}
                version = data["versions"][f"{template}@{entry['version']}"]
                manifest = {t["toolId"]: t["risk"] for t in version["genome"]["toolManifest"]}
                overrides = policy.get("toolRisk") or {}
                entities.append(
                    {
                        "uid": {"type": "Agent", "id": agent},
                        "attrs": {"tier": policy.get("autonomyTier", 0)},
                        "parents": [],
                    }
                )
                for tool in policy.get("allowedTools", ()):
                    if tool not in manifest:
                        continue
                    risk = max(rank[manifest[tool]], rank.get(overrides.get(tool, "low"), 0))
                    entities.append(
                        {
                            "uid": {"type": "Tool", "id": f"{agent}/{tool}"},
                            "attrs": {"risk": risk},
                            "parents": [{"type": "Agent", "id": agent}],
                        }
                    )
    cedar_requests = [
        [f"{r.tenant}/{r.environment}/{r.template}", r.tool, rank[r.risk] if r.risk else 0]
        for r in found
    ]
    return {
        "policies": CEDAR_POLICIES,
        "entities": entities,
        "requests": cedar_requests,
        "expected": answers,
        "decisions": CEDAR_DECISIONS,
        "repeat": bench.repeat,
        "warmup": bench.warmup,
    }


def cedarpy(bench: Bench) -> Outcome:
    python = bench.peer_python("cedarpy")
    work = bench.out / "work"
    work.mkdir(parents=True, exist_ok=True)
    given, taken = work / "cedar-in.json", work / "cedar-out.json"
    given.write_text(json.dumps(cedar_input(bench)))
    script = Path(__file__).with_name("cedar_peer.py")
    run_checked([str(python), str(script), str(given), str(taken)])
    result = json.loads(taken.read_text())
    stats = Stats(tuple(result["samples"]))
    if result["mismatches"]:
        raise ScenarioError(
            f"Cedar decided {result['mismatches']} of {result['checked']} requests differently "
            f"from armgit, e.g. {result['example']}"
        )
    note = (
        f"cedarpy {result['version']}: {result['decisions']:,} decisions, the same answers as "
        f"armgit on all {result['checked']:,} distinct requests; p50 "
        f"{result['p50_s'] * 1e6:.1f} us, p99 {result['p99_s'] * 1e6:.1f} us; "
        f"{result['per_s_1_thread']:,.0f}/s on one thread, {result['per_s_2_threads']:,.0f}/s "
        "on two (PolicySet and Entities parsed once)"
    )
    metrics = {k: float(result[k]) for k in ("p50_s", "p99_s", "per_s_1_thread", "per_s_2_threads")}
    return Outcome(MEASURED, stats, note, metrics)


def index_load_compiled(bench: Bench) -> Outcome:
    """The index a runtime of this registry really loads: only deployed versions are in it."""
    from armgit.runtime import Runtime

    done = compiled(bench)
    data = done.path.read_bytes()
    trust = _trust(done)

    def load() -> None:
        Runtime(trust).load_bytes(data)

    stats = bench.measure(load)
    note = (
        f"Runtime.load_bytes of the index compiled from the {bench.versions:,}-version registry: "
        f"its {_versions(done.payload):,} deployed versions ({len(data) / 1e6:.1f} MB), the same "
        "checks"
    )
    return Outcome(MEASURED, stats, note)


def _trust(done: Compiled) -> Any:
    from armgit.crypto.ed25519 import public_key_line
    from armgit.runtime import TrustRoot

    return TrustRoot.from_public_keys([public_key_line(done.key.public_key())])


# -- one tenant: what grows with the tenant, not the registry ---------------------------------


@dataclass(frozen=True, slots=True)
class TenantIndex:
    tenant: str
    path: Path
    versions: int


def tenant_index(bench: Bench) -> TenantIndex:
    """The first tenant compiled alone (``armgit compile --tenant``), once per run: what a
    runtime bound to that tenant loads."""
    known = bench.shared.get("tenant-index")
    if isinstance(known, TenantIndex):
        return known
    done = compiled(bench)
    tenant = min(done.payload["tenants"])
    out = bench.out / "work" / "index-tenant.json"
    argv = _compile_argv(bench, bench.out / "keys" / "index_ed25519", out, tenant)
    run_checked(argv, env=bench.env())
    envelope = json.loads(out.read_bytes())
    payload = json.loads(base64.b64decode(envelope["payload"]))
    result = TenantIndex(tenant, out, _versions(payload))
    bench.shared["tenant-index"] = result
    return result


def compile_tenant(bench: Bench) -> Outcome:
    """``armgit compile --tenant T``, caches warm: a tenant's index after a change to it."""
    done, one = compiled(bench), tenant_index(bench)
    key_path = bench.out / "keys" / "index_ed25519"
    out = bench.out / "work" / "index-tenant-timed.json"
    argv = _compile_argv(bench, key_path, out, one.tenant)
    env = bench.env()

    def run() -> None:
        run_checked(argv, env=env)

    stats = bench.measure(run)
    note = (
        f"one tenant ({one.tenant}) of {len(done.payload['tenants'])}: its {one.versions:,} "
        f"deployed versions ({one.path.stat().st_size / 1e6:.2f} MB signed); caches populated"
    )
    return Outcome(MEASURED, stats, note)


def index_load_tenant(bench: Bench) -> Outcome:
    """A runtime bound to one tenant loading that tenant's own index."""
    from armgit.runtime import Runtime

    done, one = compiled(bench), tenant_index(bench)
    data = one.path.read_bytes()
    trust = _trust(done)

    def load() -> None:
        Runtime(trust, tenant=one.tenant).load_bytes(data)

    stats = bench.measure(load)
    note = (
        f"Runtime(tenant={one.tenant!r}).load_bytes of that tenant's index: "
        f"{one.versions:,} deployed versions ({len(data) / 1e6:.2f} MB), the same checks"
    )
    return Outcome(MEASURED, stats, note)
