"""Approval rules: the defaults of armgit.yaml, and the rule a gate falls back to."""

from __future__ import annotations

import pytest

from armgit.core.content import parse_content
from armgit.core.models import Registry
from armgit.core.rules.approvals import effective_rule

MINIMAL = b"apiVersion: armgit/v1\nkind: Registry\nname: x\n"


def test_registry_without_rules_gets_the_default_rules() -> None:
    content = parse_content(MINIMAL)
    assert content.problems == ()
    assert isinstance(content.model, Registry)
    expiry = {r.request_type: r.expires_in for r in content.model.approval_rules}
    assert expiry == {
        "VERSION_PROMOTION": "48h",
        "DEPLOYMENT_ACTIVATION": "48h",
        "INSTANCE_REACTIVATION": "12h",
        "POLICY_AUTONOMY_INCREASE": "72h",
        "PRIVILEGE_WIDENING": "48h",
        "REGISTRY_TRUST_CHANGE": "48h",
    }
    permission = {r.request_type: r.permission for r in content.model.approval_rules}
    assert permission["REGISTRY_TRUST_CHANGE"] == "admin:registry"


@pytest.mark.parametrize("registry", [None, "empty"])
def test_a_request_type_without_rule_falls_back_to_one_approval(registry: str | None) -> None:
    model = (
        Registry.model_validate(
            {"apiVersion": "armgit/v1", "kind": "Registry", "name": "x", "approvalRules": []}
        )
        if registry
        else None
    )
    rule = effective_rule(model, "INSTANCE_REACTIVATION", "t", "prod")
    assert (rule.count, rule.permission, rule.expires_in) == (1, "approve:versions", "48h")


@pytest.mark.parametrize("registry", [None, "empty"])
def test_a_registry_trust_change_without_rule_needs_a_registry_admin(registry: str | None) -> None:
    # registries written before REGISTRY_TRUST_CHANGE list their rules without it: the
    # fallback must not let any approve:versions holder admit a change to the registry's trust
    model = (
        Registry.model_validate(
            {"apiVersion": "armgit/v1", "kind": "Registry", "name": "x", "approvalRules": []}
        )
        if registry
        else None
    )
    rule = effective_rule(model, "REGISTRY_TRUST_CHANGE", "", None)
    assert (rule.count, rule.permission, rule.expires_in) == (1, "admin:registry", "48h")
