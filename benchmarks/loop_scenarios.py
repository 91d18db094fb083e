"""The runtime's loop (SPEC 12): ``evaluate`` deciding a call with one signed approval, and one
append to the hash-chained decision log.

Both use the example registry's index (the approval path does not grow with the fleet: one
target, one operator table). An approval's cost is mostly its Ed25519 verification, so the note
gives a bare ``Ed25519PublicKey.verify`` measured in the same run, for machines of other speeds.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks.suite import MEASURED, Bench, Outcome, Stats

CALLS = 1_000  # approved calls per timed run (each approval is used once)
APPENDS = 20_000  # log lines per timed run
CALL: dict[str, Any] = {"template": "customer-support", "tool": "refund_issue"}


def _runtime(approver: Ed25519PrivateKey) -> Any:
    from armgit.core.canonical import to_canonical_json
    from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE, sign_envelope
    from armgit.crypto.ed25519 import public_key_line
    from armgit.runtime import Runtime, TrustRoot
    from tests.index_helpers import NOW, example_payload

    key = Ed25519PrivateKey.generate()
    payload = example_payload()
    payload["tenants"]["arm-dev"]["operators"] = {
        "alice": {
            "keys": [public_key_line(approver.public_key())],
            "permissions": {"approve:actions": None},
        }
    }
    trust = TrustRoot.from_public_keys([public_key_line(key.public_key())])
    runtime = Runtime(trust, clock=lambda: NOW)
    runtime.load_bytes(sign_envelope(to_canonical_json(payload), INDEX_PAYLOAD_TYPE, [key]))
    return runtime


def evaluate_approval(bench: Bench) -> Outcome:
    from armgit.runtime.actions import APPROVE, sign_approval
    from tests.index_helpers import NOW

    approver = Ed25519PrivateKey.generate()
    work: list[Any] = []

    def setup() -> None:  # a fresh runtime (nothing spent), its requests and their approvals
        runtime = _runtime(approver)
        pairs = []
        for _ in range(CALLS):
            request = runtime.evaluate("arm-dev", "prod", **CALL).request
            approval = sign_approval(
                request["requestId"], APPROVE, "arm-dev/alice", approver, now=NOW
            )
            pairs.append((request, approval.to_json()))
        work[:] = [runtime, pairs]

    def run() -> None:
        evaluate = work[0].evaluate
        for request, approval in work[1]:
            evaluate("arm-dev", "prod", **CALL, request=request, approvals=[approval])

    stats = bench.measure(run, setup)
    per_call = Stats(tuple(s / CALLS for s in stats.samples))
    setup()
    runtime, pairs = work
    samples: list[int] = []
    clock = time.perf_counter_ns
    for request, approval in pairs:
        started = clock()
        decision = runtime.evaluate(
            "arm-dev", "prod", **CALL, request=request, approvals=[approval]
        )
        samples.append(clock() - started)
        assert decision.decision == "ALLOW", decision.reasons
    samples.sort()
    p50 = samples[len(samples) // 2] / 1e9
    verify = _bare_verify()
    note = (
        f"{CALLS:,} calls, each with its own request and signed approval (Ed25519 SSHSIG, "
        f"namespace armgit-action; spent ids in memory); p50 {p50 * 1e6:.1f} us; a bare "
        f"Ed25519 verify takes {verify * 1e6:.1f} us on this machine"
    )
    return Outcome(MEASURED, per_call, note, {"p50_s": p50, "bare_verify_s": verify})


def _bare_verify() -> float:
    key = Ed25519PrivateKey.generate()
    public, message = key.public_key(), b"x" * 200
    signature = key.sign(message)
    samples = []
    for _ in range(CALLS):
        started = time.perf_counter_ns()
        public.verify(signature, message)
        samples.append(time.perf_counter_ns() - started)
    samples.sort()
    return samples[len(samples) // 2] / 1e9


def decision_log_append(bench: Bench) -> Outcome:
    from armgit.runtime.decisions import DecisionLog

    record = {
        "type": "TOOL_CALL_ALLOWED",
        "time": "2027-01-15T08:00:00Z",
        "indexVersion": 1,
        "indexDigest": "sha256:" + "a" * 64,
        "tenant": "arm-dev",
        "environment": "prod",
        "template": "customer-support",
        "instance": None,
        "tool": "kb_lookup",
        "risk": "low",
        "decision": "ALLOW",
        "outcome": None,
        "reasons": [
            "kb_lookup: risk low (from the tool manifest) is within autonomy tier 2 "
            "(arm-dev/prod/customer-support@2.0.0)"
        ],
        "policyDigest": "sha256:" + "b" * 64,
        "requestId": None,
        "argsDigest": None,
        "approvals": [],
    }
    with tempfile.TemporaryDirectory(prefix="armgit-log-") as directory:
        log = DecisionLog(Path(directory) / "decisions.jsonl")

        def run() -> None:
            for _ in range(APPENDS):
                log.append(record)

        try:
            stats = bench.measure(run)
            samples: list[int] = []
            clock = time.perf_counter_ns
            for _ in range(APPENDS):
                started = clock()
                log.append(record)
                samples.append(clock() - started)
        finally:
            log.close()
    samples.sort()
    p50 = samples[len(samples) // 2] / 1e9
    p99 = samples[len(samples) * 99 // 100] / 1e9
    note = (
        f"{APPENDS:,} appends a run of a {len(str(record))}-character record to a local file "
        f"(one write(2) each, no fsync); p50 {p50 * 1e6:.1f} us, p99 {p99 * 1e6:.1f} us"
    )
    per_append = Stats(tuple(s / APPENDS for s in stats.samples))
    return Outcome(MEASURED, per_append, note, {"p50_s": p50, "p99_s": p99})
