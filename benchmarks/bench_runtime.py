"""Runtime numbers: verify+load a large synthetic index, and evaluate p50/p99.

Run: ``python -m benchmarks.bench_runtime`` from the repository root. Not a timed test.
"""

from __future__ import annotations

import copy
import statistics
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.core.canonical import canonical_digest
from armgit.core.index.compact import merge_genome
from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE, sign_envelope
from armgit.crypto.ed25519 import public_key_line
from armgit.runtime import Runtime, TrustRoot
from tests.index_helpers import NOW, example_payload, payload_bytes


def synthetic(templates: int, envs: int = 3) -> Any:
    """The example tenant's deployment repeated: ``templates`` x ``envs`` distinct versions."""
    payload = example_payload()
    tenant = payload["tenants"]["arm-dev"]
    base_version = tenant["versions"]["customer-support@2.0.0"]
    base_version["genome"] = merge_genome(
        base_version["genome"], base_version.pop("parts"), tenant["parts"]
    )
    base_deployment = tenant["deployments"]["prod"]["customer-support"]
    versions: dict[str, Any] = {}
    deployments: dict[str, Any] = {}
    for t in range(templates):
        for e in range(envs):
            version = copy.deepcopy(base_version)
            version["genome"]["provenance"]["commitRef"] = f"{t}-{e}"
            version["genomeHash"] = canonical_digest(version["genome"])
            versions[f"tpl-{t}@1.0.{e}"] = version
            deployment = dict(base_deployment, version=f"1.0.{e}")
            deployments.setdefault(f"env-{e}", {})[f"tpl-{t}"] = deployment
    tenant["versions"], tenant["deployments"], tenant["instances"] = versions, deployments, {}
    return payload


def main() -> None:
    key = Ed25519PrivateKey.generate()
    trust = TrustRoot.from_public_keys([public_key_line(key.public_key())])
    for templates in (1, 3334):
        data = sign_envelope(payload_bytes(synthetic(templates)), INDEX_PAYLOAD_TYPE, [key])
        runtime = Runtime(trust, clock=lambda: NOW)
        started = time.perf_counter()
        runtime.load_bytes(data)
        load = time.perf_counter() - started
        print(
            f"{templates * 3} versions, {len(data) / 1e6:.1f} MB: verify+load {load * 1000:.0f} ms"
        )
        samples = []
        evaluate = runtime.evaluate
        for i in range(200_000):
            t0 = time.perf_counter_ns()
            evaluate("arm-dev", "env-1", template=f"tpl-{i % templates}", tool="kb_lookup")
            samples.append(time.perf_counter_ns() - t0)
        samples.sort()
        p50, p99 = samples[len(samples) // 2], samples[len(samples) * 99 // 100]
        print(
            f"  evaluate p50 {p50 / 1000:.2f} us, p99 {p99 / 1000:.2f} us, "
            f"mean {statistics.fmean(samples) / 1000:.2f} us"
        )


if __name__ == "__main__":
    main()
