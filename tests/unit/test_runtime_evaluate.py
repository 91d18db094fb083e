"""Runtime.evaluate answers plain calls from decisions precomputed per target
(VerifiedIndex.plain_decision): the same answers as deciding against the compiled target, the
same objects for the same inputs, and the long way for anything else."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.core.index.decide import RISKS, Target, decide
from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE, sign_envelope
from armgit.crypto.ed25519 import public_key_line
from armgit.runtime import DENY, NEEDS_APPROVAL, Runtime, TrustRoot
from tests.index_helpers import NOW, example_payload, payload_bytes

KEY = Ed25519PrivateKey.generate()


def runtime() -> Runtime:
    trust = TrustRoot.from_public_keys([public_key_line(KEY.public_key())])
    payload = example_payload()
    rt = Runtime(trust, clock=lambda: NOW)
    rt.load_bytes(sign_envelope(payload_bytes(payload), INDEX_PAYLOAD_TYPE, [KEY]))
    return rt


def calls() -> list[tuple[str, str, str, str, Any]]:
    payload = example_payload()
    found = []
    for tenant, data in payload["tenants"].items():
        for environment, deployments in data["deployments"].items():
            for template, entry in deployments.items():
                genome = data["versions"][f"{template}@{entry['version']}"]["genome"]
                tools = [t["toolId"] for t in genome.get("toolManifest", [])]
                tools += data["policies"][entry["policy"]]["allowedTools"]
                for tool in [*tools, "shell_exec"]:
                    for risk in (None, *RISKS, "bogus", ["not", "hashable"]):
                        found.append((tenant, environment, template, tool, risk))
    assert found
    return found


def test_plain_calls_answer_as_the_long_way() -> None:
    rt = runtime()
    index = rt.index
    for tenant, environment, template, tool, risk in calls():
        target = index.target(tenant, environment, template, None)
        assert isinstance(target, Target)
        slow = decide(target, tool, risk=risk)  # the long way, without the precomputed answers
        assert index.evaluate(tenant, environment, template=template, tool=tool, risk=risk) == slow
        fast = rt.evaluate(tenant, environment, template=template, tool=tool, risk=risk)
        # the runtime adds an action request (a fresh nonce each call) to a NEEDS_APPROVAL
        assert (fast.request is not None) == (fast.decision == NEEDS_APPROVAL)
        assert fast._replace(request=None) == slow, (tenant, environment, template, tool, risk)
        again = rt.evaluate(tenant, environment, template=template, tool=tool, risk=risk)
        assert again._replace(request=None) == slow


def test_plain_decisions_are_shared() -> None:
    rt = runtime()
    first = rt.evaluate("arm-dev", "prod", template="customer-support", tool="kb_lookup")
    second = rt.evaluate("arm-dev", "prod", template="customer-support", tool="kb_lookup")
    assert first is second
    assert first.decision != DENY


def test_usage_figures_take_the_long_way() -> None:
    rt = runtime()
    kwargs: dict[str, Any] = {"template": "customer-support", "tool": "kb_lookup"}
    plain = rt.evaluate("arm-dev", "prod", **kwargs)
    assert rt.evaluate("arm-dev", "prod", estimated_cost=0.0, **kwargs) == plain
    odds: list[dict[str, Any]] = [
        {"estimated_cost": -1},
        {"daily_tokens_used": 10**12},
        {"monthly_cost_used": float("inf")},
        {"data_scope": "nowhere:read"},
        {"estimated_cost": float("nan")},
        {"estimated_cost": []},
    ]
    for odd in odds:
        decision = rt.evaluate("arm-dev", "prod", **kwargs, **odd)
        assert decision.decision == DENY, odd


def test_odd_arguments_fail_closed() -> None:
    rt = runtime()
    for template, tool in ((None, "kb_lookup"), ("customer-support", 7), ("nope", "kb_lookup")):
        decision = rt.evaluate("arm-dev", "prod", template=template, tool=tool)  # type: ignore[arg-type]
        assert decision.decision == DENY
    odd: Any = ["not", "hashable"]
    for tenant, environment, template in ((odd, "prod", "customer-support"), ("arm-dev", odd, "x")):
        decision = rt.evaluate(tenant, environment, template=template, tool="kb_lookup")
        assert decision.decision == DENY
        assert "failing closed" in decision.reasons[0]
    decision = rt.evaluate("arm-dev", "prod", template=odd, tool="kb_lookup", estimated_cost=1)
    assert decision.decision == DENY


def test_instances() -> None:
    trust = TrustRoot.from_public_keys([public_key_line(KEY.public_key())])
    payload = example_payload()
    tenant = payload["tenants"]["arm-dev"]
    name = next(iter(tenant["instances"]))
    paused = dict(tenant["instances"][name], state="PAUSED")
    tenant["instances"]["paused-1"] = paused
    rt = Runtime(trust, clock=lambda: NOW)
    rt.load_bytes(sign_envelope(payload_bytes(payload), INDEX_PAYLOAD_TYPE, [KEY]))
    environment = tenant["instances"][name]["environment"]
    tool = tenant["policies"][tenant["instances"][name]["policy"]]["allowedTools"][0]
    for _ in range(2):  # compiled on the first call, reused on the second
        assert rt.evaluate("arm-dev", environment, instance=name, tool=tool).decision != DENY
        elsewhere = rt.evaluate("arm-dev", "nowhere", instance=name, tool=tool)
        assert elsewhere.decision == DENY
        assert "runs in" in elsewhere.reasons[0]
        blocked = rt.evaluate("arm-dev", environment, instance="paused-1", tool=tool)
        assert blocked.decision == DENY
        assert "only ACTIVE instances act" in blocked.reasons[0]
        missing = rt.evaluate("arm-dev", environment, instance="ghost", tool=tool)
        assert missing.decision == DENY


def test_refusals_of_unnamed_tools_are_kept_up_to_a_bound(monkeypatch: Any) -> None:
    from armgit.runtime import verify

    monkeypatch.setattr(verify, "_MAX_REFUSALS", 3)
    rt = runtime()
    index = rt.index
    kwargs: dict[str, Any] = {"template": "customer-support"}
    rt.evaluate("arm-dev", "prod", tool="kb_lookup", **kwargs)  # compiles the target
    target = index.target("arm-dev", "prod", "customer-support", None)
    assert isinstance(target, Target)
    size = len(index._answers)
    for n in range(10):
        tool = f"tool_{n}"
        first = rt.evaluate("arm-dev", "prod", tool=tool, **kwargs)
        again = rt.evaluate("arm-dev", "prod", tool=tool, **kwargs)
        assert first == again == decide(target, tool)
        assert first.decision == DENY
        assert (first is again) == (n < 3)  # kept answers are the same object
    assert len(index._answers) == size + 3
