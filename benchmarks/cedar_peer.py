"""The Cedar peer of ``evaluate``, run by the suite in the peers' venv (where cedarpy is).

    python cedar_peer.py IN.json OUT.json

IN holds the Cedar policies, the entities (an ``Agent`` per deployed target with its autonomy
tier; a ``Tool`` per allowed tool, child of its agent, with its declared risk rank), the
requests ``[agent, tool, caller's risk rank]`` and armgit's answers. A request is one
``is_authorized`` call: Deny is DENY; Allow is ALLOW when the second policy (no approval
needed) is among the reasons, else NEEDS_APPROVAL. Imports nothing of armgit.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from importlib.metadata import version
from typing import Any

import cedarpy  # type: ignore[import-not-found, unused-ignore]


def _request(agent: str, tool: str, risk: int) -> dict[str, Any]:
    return {
        "principal": {"type": "Agent", "id": agent},
        "action": {"type": "Action", "id": "call"},
        "resource": {"type": "Tool", "id": f"{agent}/{tool}"},
        "context": {"risk": risk},
    }


def main(argv: list[str]) -> int:
    with open(argv[0]) as source:
        given = json.loads(source.read())
    policies = cedarpy.PolicySet.from_str(given["policies"])
    entities = cedarpy.Entities.from_json_str(json.dumps(given["entities"]))
    distinct = [_request(*r) for r in given["requests"]]

    def decide(request: dict[str, Any]) -> str:
        result = cedarpy.is_authorized(request, policies, entities)
        if result.decision != cedarpy.Decision.Allow:
            return "DENY"
        return "ALLOW" if "policy1" in result.diagnostics.reasons else "NEEDS_APPROVAL"

    mismatches = [
        (r, want, got)
        for r, want in zip(given["requests"], given["expected"], strict=True)
        if (got := decide(_request(*r))) != want
    ]
    count = int(given["decisions"])
    calls = (distinct * (count // len(distinct) + 1))[:count]

    def batch(part: list[dict[str, Any]]) -> None:
        for request in part:
            decide(request)

    samples = []
    for i in range(int(given["warmup"]) + int(given["repeat"])):
        started = time.perf_counter()
        batch(calls)
        if i >= int(given["warmup"]):
            samples.append((time.perf_counter() - started) / len(calls))
    timed = []
    for request in calls:
        started_ns = time.perf_counter_ns()
        decide(request)
        timed.append(time.perf_counter_ns() - started_ns)
    timed.sort()
    parts = [calls[0::2], calls[1::2]]
    workers = [threading.Thread(target=batch, args=(part,)) for part in parts]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    two = len(calls) / (time.perf_counter() - started)
    samples.sort()
    result = {
        "version": version("cedarpy"),
        "samples": samples,
        "decisions": len(calls),
        "checked": len(distinct),
        "mismatches": len(mismatches),
        "example": mismatches[0] if mismatches else None,
        "p50_s": timed[len(timed) // 2] / 1e9,
        "p99_s": timed[len(timed) * 99 // 100] / 1e9,
        "per_s_1_thread": 1 / samples[len(samples) // 2],
        "per_s_2_threads": two,
    }
    with open(argv[1], "w") as out:
        out.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
