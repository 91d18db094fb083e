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

A NEEDS_APPROVAL carries an action request for a human to approve (``decision.request``);
``Runtime(..., spool=DIR, decision_log=FILE)``, ``runtime.wait_for_approval(request, timeout)``
and ``runtime.resolve_agent(tenant, ref)`` are the loop around a decision (SPEC 12,
docs/runtime.md).

Importing this package is light: no pydantic, no pygit2, no click.
"""

from __future__ import annotations

from armgit.core.index.decide import ALLOW, DENY, NEEDS_APPROVAL, Decision
from armgit.runtime.actions import ActionApproval, ActionError, ActionRequest, sign_approval
from armgit.runtime.agents import Agent
from armgit.runtime.client import DefaultFetcher, Fetched, Fetcher, Runtime
from armgit.runtime.decisions import DecisionLog, verify_log
from armgit.runtime.errors import IndexRefused, IndexUnavailable, NotFound
from armgit.runtime.spool import Spool
from armgit.runtime.trust import TrustRoot, parse_root
from armgit.runtime.verify import Accepted, Resolution, VerifiedIndex, verify_index

__all__ = [
    "ALLOW",
    "DENY",
    "NEEDS_APPROVAL",
    "Accepted",
    "ActionApproval",
    "ActionError",
    "ActionRequest",
    "Agent",
    "Decision",
    "DecisionLog",
    "DefaultFetcher",
    "Fetched",
    "Fetcher",
    "IndexRefused",
    "IndexUnavailable",
    "NotFound",
    "Resolution",
    "Runtime",
    "Spool",
    "TrustRoot",
    "VerifiedIndex",
    "parse_root",
    "sign_approval",
    "verify_index",
    "verify_log",
]
