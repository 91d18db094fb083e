"""The runtime's loop (SPEC 12): ``evaluate`` deciding a call with one signed approval, and one
append to the hash-chained decision log.

Both use the example registry's index (the approval path does not grow with the fleet: one
target, one operator table). An approval's cost is mostly its Ed25519 verification, so each call
is timed right after the bare verify of its own signature by the same library armgit verifies
approvals with (libsodium, through PyNaCl): the call over that verify (``overhead_s``) is what
armgit adds, and holds on machines of other speeds and loads.
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
    from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE, sign_envelope
    from armgit.crypto.ed25519 import public_key_line
    from armgit.runtime import Runtime, TrustRoot
    from tests.index_helpers import NOW, example_payload, payload_bytes

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
    runtime.load_bytes(sign_envelope(payload_bytes(payload), INDEX_PAYLOAD_TYPE, [key]))
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
    verifies = [_verify_of(approval, approver) for _, approval in pairs]
    samples: list[int] = []
    bare: list[int] = []
    clock = time.perf_counter_ns
    for (request, approval), (verify, signature, data) in zip(pairs, verifies, strict=True):
        started = clock()  # the verify alone of this approval, then the call: the same load
        verify(data, signature)
        between = clock()
        decision = runtime.evaluate(
            "arm-dev", "prod", **CALL, request=request, approvals=[approval]
        )
        samples.append(clock() - between)
        bare.append(between - started)
        assert decision.decision == "ALLOW", decision.reasons
    added = sorted(call - alone for call, alone in zip(samples, bare, strict=True))
    samples.sort()
    bare.sort()
    p50 = samples[len(samples) // 2] / 1e9
    verify_p50 = bare[len(bare) // 2] / 1e9
    overhead = added[len(added) // 2] / 1e9
    note = (
        f"{CALLS:,} calls, each with its own request and signed approval (Ed25519 SSHSIG, "
        f"namespace armgit-action; spent ids in memory); p50 {p50 * 1e6:.1f} us; the bare "
        f"Ed25519 verify of each call's signature, timed just before it: p50 "
        f"{verify_p50 * 1e6:.1f} us; the call over its verify: p50 {overhead * 1e6:.1f} us"
    )
    metrics = {"p50_s": p50, "bare_verify_s": verify_p50, "overhead_s": overhead}
    return Outcome(MEASURED, per_call, note, metrics)


def _verify_of(approval: dict[str, Any], approver: Ed25519PrivateKey) -> tuple[Any, bytes, bytes]:
    """The bare Ed25519 verify an approval costs (libsodium's, as armgit's): the method, the raw
    signature and the SSHSIG signed data (namespace, hash and the statement's SHA-512)."""
    import hashlib

    from nacl.signing import VerifyKey

    from armgit.crypto._wire import put_string
    from armgit.crypto.sshsig import parse_armored
    from armgit.runtime.actions import ACTION_NAMESPACE, signed_message

    sig = parse_armored(approval["signature"])
    digest = hashlib.sha512(signed_message(approval["statement"])).digest()
    data = (
        b"SSHSIG"
        + put_string(ACTION_NAMESPACE)
        + put_string(b"")
        + put_string(sig.hash_algorithm)
        + put_string(digest)
    )
    return VerifyKey(approver.public_key().public_bytes_raw()).verify, sig.signature[-64:], data


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
