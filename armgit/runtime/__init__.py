"""``armgit.runtime``: load, verify and query the signed index (SPEC section 7).

Typical use::

    from armgit.runtime import Runtime, TrustRoot

    trust = TrustRoot.from_public_keys([open("index-key.pub").read()])
    runtime = Runtime(trust, "https://cdn.example/agents/index.json", state_dir="/var/lib/agent")
    runtime.refresh()
    deployed = runtime.resolve("arm-dev", "prod", "customer-support")
    decision = runtime.evaluate("arm-dev", "prod", template="customer-support",
                                tool="refund_issue", estimated_cost=0.02)
    if decision.decision != "ALLOW": ...

Importing this package is light: no pydantic, no pygit2, no click.
"""

from __future__ import annotations

from armgit.core.index.decide import ALLOW, DENY, NEEDS_APPROVAL, Decision
from armgit.runtime.client import DefaultFetcher, Fetched, Fetcher, Runtime
from armgit.runtime.errors import IndexRefused, IndexUnavailable, NotFound
from armgit.runtime.trust import TrustRoot, parse_root
from armgit.runtime.verify import Accepted, Resolution, VerifiedIndex, verify_index

__all__ = [
    "ALLOW",
    "DENY",
    "NEEDS_APPROVAL",
    "Accepted",
    "Decision",
    "DefaultFetcher",
    "Fetched",
    "Fetcher",
    "IndexRefused",
    "IndexUnavailable",
    "NotFound",
    "Resolution",
    "Runtime",
    "TrustRoot",
    "VerifiedIndex",
    "parse_root",
    "verify_index",
]
