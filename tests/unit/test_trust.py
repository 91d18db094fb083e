"""What the registry trusts: which armgit.yaml edits are REGISTRY_TRUST_CHANGEs, in words, and
the gate and approvers they get (pure: in-memory trees, no git, no signatures)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from armgit.core.layout import REGISTRY_ID, named_id
from armgit.core.models import Registry
from armgit.core.rules.access import Actor
from armgit.core.rules.approvals import evaluate_gates
from armgit.core.rules.change import WRITE_PERMISSION, check_change, entity_digest
from armgit.core.rules.gates import Action
from armgit.core.rules.trust import trust_changes
from armgit.registry.lazyview import LazyView
from armgit.store.memory import MemoryTree
from tests.unit.helpers import T, edit, example_files

KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHxS1dpiZsp4dBtx4QeUyqHhRrPCGMy9wuSlXdbUFhMo b"
BASE: dict[str, Any] = {
    "apiVersion": "armgit/v1",
    "kind": "Registry",
    "name": "x",
    "protectedBranches": ["main", "release"],
    "registryAdmins": ["arm-dev/ops", "platform/root"],
    "attestors": [{"name": "bot", "publicKey": KEY_A}],
    "indexSigners": {"threshold": 1, "keys": [{"name": "ci", "publicKey": KEY_A}]},
}
RULE = {"requestType": "VERSION_PROMOTION", "permission": "approve:versions", "expiresIn": "48h"}


def registry(**changes: Any) -> Registry:
    return Registry.model_validate({**BASE, **changes})


def changes(**edits: Any) -> list[tuple[str, str]]:
    return [(c.field, c.summary) for c in trust_changes(registry(), registry(**edits))]


@pytest.mark.parametrize(
    ("edits", "field", "summary"),
    [
        ({"protectedBranches": ["main"]}, "protectedBranches", "removed release"),
        (
            {"identityEnv": ["GIT_PUSH_OPTION_0"]},
            "identityEnv",
            "ARMGIT_PUSHER, GL_USERNAME, GITHUB_USER_LOGIN, GITEA_PUSHER_NAME, REMOTE_USER -> "
            "GIT_PUSH_OPTION_0",
        ),
        (
            {"registryAdmins": ["arm-dev/ops", "arm-dev/alice"]},
            "registryAdmins",
            "added arm-dev/alice; removed platform/root",
        ),
        (
            {"approvalRules": [RULE]},
            "approvalRules",
            "removed DEPLOYMENT_ACTIVATION: 1 with approve:deployments for 48h",
        ),
        (
            {"approvalRules": [{**RULE, "tenant": "arm-dev", "count": 2}]},
            "approvalRules",
            "added VERSION_PROMOTION tenant arm-dev: 2 with approve:versions for 48h",
        ),
        (
            {"indexSigners": {"threshold": 2, "keys": BASE["indexSigners"]["keys"]}},
            "indexSigners",
            "threshold 1 -> 2",
        ),
        (
            {"indexSigners": {"keys": [{"name": "ci", "publicKey": KEY_B}]}},
            "indexSigners",
            "added ci (SHA256:",
        ),
        ({"attestors": []}, "attestors", "removed bot (SHA256:"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v else None,
)
def test_each_trust_setting_is_seen(edits: dict[str, Any], field: str, summary: str) -> None:
    [(changed, said)] = changes(**edits)
    assert changed == field
    assert summary in said


def test_a_key_replaced_under_the_same_name_shows_both_fingerprints() -> None:
    [(field, said)] = changes(attestors=[{"name": "bot", "publicKey": KEY_B}])
    assert field == "attestors"
    # the fingerprints ssh-keygen -l shows for these keys
    assert said == (
        "added bot (SHA256:43DYksLGcjfd73M6st+2E99lx6kLUIeSvyEGfreKabE); "
        "removed bot (SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU)"
    )


def test_several_settings_are_listed_in_the_files_order() -> None:
    found = changes(attestors=[], protectedBranches=["main"], registryAdmins=["arm-dev/ops"])
    assert [f for f, _ in found] == ["protectedBranches", "registryAdmins", "attestors"]


@pytest.mark.parametrize(
    "edits",
    [
        {"name": "renamed"},
        {"description": "what the registry is for"},
        {"protectedBranches": ["release", "main"]},  # a set: order means nothing
        {"registryAdmins": ["platform/root", "arm-dev/ops"]},
        {"indexSigners": {"keys": BASE["indexSigners"]["keys"]}},  # threshold 1 written out
        {
            "identityEnv": [
                "ARMGIT_PUSHER",
                "GL_USERNAME",
                "GITHUB_USER_LOGIN",
                "GITEA_PUSHER_NAME",
                "REMOTE_USER",
            ]
        },  # the default written out
    ],
    ids=["name", "description", "branches-reordered", "admins-reordered", "default-threshold",
         "default-identity-env"],
)  # fmt: skip
def test_labels_reorderings_and_written_out_defaults_are_no_trust_change(
    edits: dict[str, Any],
) -> None:
    assert changes(**edits) == []


def test_the_default_approval_rules_written_out_are_no_change() -> None:
    spelled = [r.model_dump(mode="json", by_alias=True) for r in registry().approval_rules]
    assert changes(approvalRules=spelled) == []
    assert changes(approvalRules=spelled[::-1]) == [
        ("approvalRules", "reordered to " + ", ".join(_rule_words(spelled[::-1])))
    ]


def _rule_words(rules: list[dict[str, Any]]) -> list[str]:
    return [
        f"{r['requestType']}: {r['count']} with {r['permission']} for {r['expiresIn']}"
        for r in rules
    ]


def test_the_order_of_identity_variables_is_a_change() -> None:
    # the first variable that is set names the pusher
    [(field, said)] = changes(identityEnv=["REMOTE_USER", "ARMGIT_PUSHER"])
    assert field == "identityEnv"
    assert said.endswith("-> REMOTE_USER, ARMGIT_PUSHER")
    assert changes(identityEnv=["ARMGIT_PUSHER", "REMOTE_USER"]) != changes(
        identityEnv=["REMOTE_USER", "ARMGIT_PUSHER"]
    )


def test_a_repeated_signer_key_is_a_change() -> None:
    keys = [{"name": "ci", "publicKey": KEY_A}] * 2
    assert changes(indexSigners={"keys": keys}) == [
        ("indexSigners", f"added {_fingerprinted('ci')}")
    ]


def _fingerprinted(name: str) -> str:
    return f"{name} (SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU)"


# -- the gate ------------------------------------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OPS = Actor(("email:ops@arm-dev.com",), "--author")  # one of ops's identities
ADMINS = "registryAdmins: [arm-dev/ops, arm-dev/bob]\n"
PROTECTED = "protectedBranches: [main]\n"


def _views(base_admins: bool, old: str, new: str) -> tuple[LazyView, LazyView]:
    files = example_files()
    config = files["armgit.yaml"].decode().splitlines(keepends=True)
    # exactly this test's registry admins, whatever the example lists
    files["armgit.yaml"] = "".join(
        line for line in config if not line.startswith("registryAdmins:")
    ).encode()
    if base_admins:
        files = edit(files, "armgit.yaml", PROTECTED, PROTECTED + ADMINS)
    head = edit(files, "armgit.yaml", old, new)
    return LazyView(MemoryTree(files)), LazyView(MemoryTree(head))


def test_a_trust_edit_raises_the_gate_bound_to_the_proposed_armgit_yaml() -> None:
    base, head = _views(True, PROTECTED, "protectedBranches: [main, release]\n")
    result = check_change(base, head, [REGISTRY_ID])
    [gate] = result.gates
    assert (gate.request_type, gate.subject, gate.change_from, gate.change_to) == (
        "REGISTRY_TRUST_CHANGE",
        REGISTRY_ID,
        None,
        "protectedBranches",
    )
    assert (gate.path, gate.pointer) == ("armgit.yaml", "/protectedBranches")
    proposed = head.get(REGISTRY_ID, Registry)
    assert proposed is not None
    assert gate.digest == entity_digest(proposed)
    assert result.actions == [Action("", WRITE_PERMISSION["Registry"], "armgit.yaml")]


def test_a_description_edit_raises_no_gate() -> None:
    base, head = _views(True, "description: The ARM", "description: Our")
    result = check_change(base, head, [REGISTRY_ID])
    assert result.gates == []
    assert result.actions == [Action("", WRITE_PERMISSION["Registry"], "armgit.yaml")]


def test_only_registry_admins_at_the_base_other_than_the_author_may_approve() -> None:
    base, head = _views(True, ADMINS, "registryAdmins: [arm-dev/ops]\n")
    gates = check_change(base, head, [REGISTRY_ID]).gates
    [status] = evaluate_gates(gates, base, head, OPS, NOW)
    # alice is no registry admin; ops is the author; tenant roles (ops: *:*) grant nothing here
    assert (status.required, status.permission, status.expires_in) == (1, "admin:registry", "48h")
    assert status.eligible == ["arm-dev/bob"]
    assert not status.satisfied


@pytest.mark.parametrize(
    ("admins", "new", "required"),
    [
        ("", "registryAdmins: [arm-dev/ops]\n", 0),  # a registry made before registryAdmins
        ("registryAdmins: [arm-dev/ops]\n", "registryAdmins: [arm-dev/ops, arm-dev/bob]\n", 0),
        ("registryAdmins: [arm-dev/ops]\n", "registryAdmins: [arm-dev/bob]\n", 1),  # replaced
        ("", f"registryAdmins: [arm-dev/ops]\nattestors: [{{name: a, publicKey: '{KEY_A}'}}]\n", 1),
        ("registryAdmins: [arm-dev/bob]\n", "registryAdmins: [arm-dev/bob, arm-dev/ops]\n", 1),
    ],
    ids=["first-admin", "second-admin", "admin-replaced", "admin-and-more", "another-may-approve"],
)
def test_with_nobody_else_to_ask_adding_registry_admins_needs_no_approval(
    admins: str, new: str, required: int
) -> None:
    # a lone admin (ops, the author) cannot have four eyes; adding admins is the way to them
    files = example_files()
    config = files["armgit.yaml"].decode().splitlines(keepends=True)
    text = "".join(line for line in config if not line.startswith("registryAdmins:"))
    files["armgit.yaml"] = text.replace(PROTECTED, PROTECTED + admins).encode()
    head = edit(files, "armgit.yaml", PROTECTED + admins, PROTECTED + new)
    base_view, head_view = LazyView(MemoryTree(files)), LazyView(MemoryTree(head))
    gates = check_change(base_view, head_view, [REGISTRY_ID]).gates
    [status] = evaluate_gates(gates, base_view, head_view, OPS, NOW)
    assert status.required == required
    assert status.satisfied == (required == 0)


def test_an_approval_of_the_registry_is_written_with_the_registry_permission() -> None:
    # wherever its approver's tenant is: it is part of a registry change
    files = example_files()
    path = f"{T}/approvals/20260301-bob-0123456789.yaml"
    approval = (
        "apiVersion: armgit/v1\nkind: Approval\nstatement:\n  tenant: arm-dev\n"
        "  subject: {kind: Registry, ref: registry}\n"
        "  change: {type: REGISTRY_TRUST_CHANGE, to: attestors}\n"
        "  digest: 'sha256:" + "0" * 64 + "'\n  decision: APPROVE\n  approver: bob\n"
        "  justification: checked\n  createdAt: '2026-03-01T12:00:00Z'\n"
        "  expiresAt: '2026-03-02T12:00:00Z'\nsignature: |\n"
        "  -----BEGIN SSH SIGNATURE-----\n  AAAA\n  -----END SSH SIGNATURE-----\n"
    )
    head = LazyView(MemoryTree({**files, path: approval.encode()}))
    approval_id = named_id("Approval", "arm-dev", "20260301-bob-0123456789")
    result = check_change(LazyView(MemoryTree(files)), head, [approval_id])
    assert result.actions == [Action("", WRITE_PERMISSION["Registry"], path)]
