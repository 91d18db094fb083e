"""Who is who and who may: exact identities, registry admins, and the registry-wide permissions
no tenant role grants (SPEC 4a, "Identities are exact", "Nothing escapes judgement")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from armgit.core.layout import EntityId, identify, named_id, version_id
from armgit.core.models import Operator
from armgit.core.rules.access import (
    Actor,
    actor_from_email,
    actor_from_env,
    actor_from_identities,
    actor_from_identity,
    check_access,
    find_operator,
    is_actor,
    is_registry_admin,
    permits,
    registry_admins,
)
from armgit.core.rules.approvals import evaluate_gates
from armgit.core.rules.change import check_change
from armgit.core.rules.gates import Action, Gate
from armgit.core.snapshot import Snapshot
from armgit.registry.loader import load_registry
from armgit.store.memory import MemoryTree
from tests.unit.helpers import T, edit, example_files

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)
ALICE = f"{T}/operators/alice.yaml"  # github:alice-chen, engineer
BOB = f"{T}/operators/bob.yaml"  # github:bob-okafor, reviewer and engineer
OPS = f"{T}/operators/ops.yaml"  # email:ops@arm-dev.com, admin (*:*), the registry admin


def snapshot(files: dict[str, bytes]) -> Snapshot:
    loaded = load_registry(MemoryTree(files))
    assert loaded.findings == [], loaded.findings
    return loaded.snapshot


def operator(view: Snapshot, name: str) -> Operator:
    found = view.get(named_id("Operator", "arm-dev", name), Operator)
    assert found is not None
    return found


def login(variable: str, value: str) -> Actor:
    actor = actor_from_env({variable: value})
    assert actor is not None
    return actor


def with_admin_role(files: dict[str, bytes], name: str) -> dict[str, bytes]:
    """``name`` holds the tenant's admin role (``*:*``) too: a tenant admin, not a registry one."""
    path = f"{T}/operators/{name}.yaml"
    return {**files, path: files[path] + b"  - role: admin\n"}


# -- exact identities ------------------------------------------------------------------------

IDENTITY_CASES = [
    # (actor, operator, matches)
    (login("GITHUB_USER_LOGIN", "alice-chen"), "alice", True),
    (login("GITHUB_USER_LOGIN", "alice"), "alice", False),  # a login, not the operator's name
    (login("GITHUB_USER_LOGIN", "alice@arm-dev.example"), "alice", False),  # nor her email
    (login("GITHUB_USER_LOGIN", "email:alice@arm-dev.example"), "alice", False),
    (login("GL_USERNAME", "alice-chen"), "alice", False),  # github:alice-chen, not gitlab:
    (login("GITEA_PUSHER_NAME", "ops"), "ops", False),
    (login("ARMGIT_PUSHER", "alice"), "alice", True),  # set by the server's administrator
    (login("ARMGIT_PUSHER", "alice@arm-dev.example"), "alice", True),
    (login("ARMGIT_PUSHER", "github:alice-chen"), "alice", True),
    (login("ARMGIT_PUSHER", "github:alice"), "alice", False),
    (login("REMOTE_USER", "ops"), "ops", True),  # the web server's authentication: the same
    (actor_from_identity("github:bob-okafor"), "bob", True),
    (actor_from_identity("email:bob@arm-dev.example"), "bob", True),
    (actor_from_identity("github:bob"), "bob", False),
    (actor_from_email("ops@arm-dev.com", "git user.email"), "ops", True),
]


@pytest.mark.parametrize(("actor", "name", "matches"), IDENTITY_CASES, ids=str)
def test_a_hosting_login_matches_only_its_platform_identity(
    actor: Actor, name: str, matches: bool
) -> None:
    view = snapshot(example_files())
    assert is_actor(operator(view, name), actor) is matches
    found = find_operator(view, "arm-dev", actor)
    assert (found is not None and found.name == name) is matches


def test_a_github_login_equal_to_an_operator_name_is_nobody() -> None:
    # anyone may register the GitHub login "alice": she is github:alice-chen
    actor = login("GITHUB_USER_LOGIN", "alice")
    assert actor.names == ("github:alice",)
    assert find_operator(snapshot(example_files()), "arm-dev", actor) is None


@pytest.mark.parametrize("value", ["alice", "alice@arm-dev.example", "GitHub:alice", "a: b", ""])
def test_author_must_be_an_identity(value: str) -> None:
    with pytest.raises(ValueError, match="not an identity SCHEME:ID"):
        actor_from_identity(value)


def test_several_author_identities_name_one_person() -> None:
    # CI names a pull request's author by login and by account number (check --author twice):
    # an operator bound by the number alone is found, as one bound by the login is
    alice = operator(snapshot(example_files()), "alice")
    by_number = alice.model_copy(update={"identities": ["github-id:4242"]})
    assert not is_actor(by_number, actor_from_identity("github:alice-chen"))
    both = actor_from_identities(["github:alice-chen", "github-id:4242", "github:alice-chen"])
    assert both.names == ("github-id:4242", "github:alice-chen")
    assert is_actor(by_number, both)
    assert is_actor(alice, both) == ("github:alice-chen" in alice.identities)
    with pytest.raises(ValueError, match="not an identity SCHEME:ID"):
        actor_from_identities(["github:alice-chen", "alice"])
    with pytest.raises(ValueError, match="names nobody"):
        actor_from_identities([])


def test_an_account_number_wins_over_a_login_that_changed_hands() -> None:
    # carol once had the login alice-chen and her operator file still lists it; the pull
    # request's author is alice (account 4242): the number decides who they are
    view = snapshot(example_files())
    alice = operator(view, "alice").model_copy(update={"identities": ["github-id:4242"]})
    carol = operator(view, "bob").model_copy(
        update={"name": "carol", "identities": ["github:alice-chen"]}
    )

    class Two:
        def ids(self, kind: str, tenant: str) -> list[EntityId]:
            return [named_id("Operator", tenant, "carol"), named_id("Operator", tenant, "alice")]

        def get(self, entity: EntityId, model: object) -> Operator:
            return carol if entity.name == "carol" else alice

    actor = actor_from_identities(["github:alice-chen", "github-id:4242"])
    found = find_operator(Two(), "arm-dev", actor)  # type: ignore[arg-type]
    assert found is not None
    assert found.name == "alice"


def test_four_eyes_uses_the_same_exact_rule() -> None:
    # bob, whose GitHub login is bob-okafor, may approve a change pushed by the GitHub user
    # "bob" (someone else), and not one he pushed himself
    view = snapshot(example_files())
    gate = Gate(
        "VERSION_PROMOTION",
        version_id("arm-dev", "customer-support", "2.0.0"),
        "CANDIDATE",
        "APPROVED",
        "sha256:" + "0" * 64,
        f"{T}/templates/customer-support/versions/2.0.0.yaml",
        "/lifecycle",
    )

    def eligible(actor: Actor) -> list[str]:
        [status] = evaluate_gates([gate], view, view, actor, NOW)
        return status.eligible

    assert eligible(login("GITHUB_USER_LOGIN", "bob")) == ["bob", "ops"]
    assert eligible(login("GITHUB_USER_LOGIN", "bob-okafor")) == ["ops"]
    assert eligible(login("ARMGIT_PUSHER", "bob")) == ["ops"]


# -- registry admins ---------------------------------------------------------------------------


def test_the_example_has_one_registry_admin() -> None:
    view = snapshot(example_files())
    assert [(t, o.name) for t, o in registry_admins(view)] == [("arm-dev", "ops")]
    assert is_registry_admin(view, login("ARMGIT_PUSHER", "ops"))
    assert not is_registry_admin(view, login("ARMGIT_PUSHER", "bob"))


@pytest.mark.parametrize(
    "change",
    [
        (OPS, "name: ops\n", "name: ops\ndisabled: true\n"),
        ("armgit.yaml", "registryAdmins: [arm-dev/ops]", "registryAdmins: [arm-dev/nobody]"),
        ("armgit.yaml", "registryAdmins: [arm-dev/ops]", "registryAdmins: [elsewhere/ops]"),
        ("armgit.yaml", "registryAdmins: [arm-dev/ops]\n", ""),
    ],
    ids=["disabled", "no-such-operator", "no-such-tenant", "none-listed"],
)
def test_a_disabled_or_missing_registry_admin_holds_nothing(change: tuple[str, str, str]) -> None:
    view = snapshot(edit(example_files(), *change))
    assert registry_admins(view) == []
    assert not is_registry_admin(view, login("ARMGIT_PUSHER", "ops"))


@pytest.mark.parametrize(
    "granted", ["*:*", "admin:*", "*:registry", "admin:registry", "write:registry", "write:*"]
)
@pytest.mark.parametrize("needed", ["admin:registry", "write:repository"])
def test_no_tenant_role_grants_a_registry_wide_permission(granted: str, needed: str) -> None:
    assert not permits(granted, needed)


@pytest.mark.parametrize(
    ("granted", "needed", "ok"),
    [
        ("*:*", "write:versions", True),
        ("admin:*", "assign:roles", True),
        ("admin:versions", "transition:versions", True),
        ("write:*", "write:tenants", True),
        ("write:versions", "write:templates", False),
        ("approve:versions", "write:versions", False),
    ],
)
def test_tenant_permissions_are_granted_as_before(granted: str, needed: str, ok: bool) -> None:
    assert permits(granted, needed) is ok


# -- registry-wide changes ---------------------------------------------------------------------


def denied(before: dict[str, bytes], after: dict[str, bytes], actor: Actor) -> dict[str, str]:
    """path -> message of each permission-denied finding for the change ``before`` -> ``after``."""
    base, head = snapshot(before), load_registry(MemoryTree(after)).snapshot
    paths = set(before) ^ set(after) | {p for p in before if after.get(p, before[p]) != before[p]}
    changed: list[EntityId] = []
    for path in sorted(paths):
        ident = identify(path)
        if isinstance(ident, EntityId):
            changed.append(ident)
    result = check_change(base, head, changed)
    return {f.path: f.message for f in check_access(result.actions, base, actor, NOW)}


def test_a_tenant_admin_cannot_edit_armgit_yaml() -> None:
    # bob holds *:* in arm-dev: all of arm-dev, nothing of the registry
    before = with_admin_role(example_files(), "bob")
    after = edit(before, "armgit.yaml", "protectedBranches: [main]", "protectedBranches: []")
    refusal = denied(before, after, login("GITHUB_USER_LOGIN", "bob-okafor"))
    assert list(refusal) == ["armgit.yaml"]
    assert "lacks admin:registry" in refusal["armgit.yaml"]
    assert "registry admins: arm-dev/ops" in refusal["armgit.yaml"]
    assert denied(before, after, login("ARMGIT_PUSHER", "ops")) == {}


def test_a_tenant_admin_cannot_create_or_remove_a_tenant() -> None:
    before = with_admin_role(example_files(), "bob")
    bob = login("GITHUB_USER_LOGIN", "bob-okafor")
    new = "tenants/acme/tenant.yaml"
    created = {**before, new: b"apiVersion: armgit/v1\nkind: Tenant\nname: Acme\nslug: acme\n"}
    created["tenants/acme/roles/admin.yaml"] = (
        b"apiVersion: armgit/v1\nkind: Role\nname: admin\npermissions: ['*:*']\n"
    )
    refusal = denied(before, created, bob)
    assert sorted(refusal) == ["tenants/acme/roles/admin.yaml", new]
    assert all("lacks admin:registry" in m for m in refusal.values())
    assert denied(before, created, login("ARMGIT_PUSHER", "ops")) == {}
    removed = {p: d for p, d in before.items() if p != f"{T}/tenant.yaml"}
    assert "lacks admin:registry" in denied(before, removed, bob)[f"{T}/tenant.yaml"]


def test_editing_an_existing_tenant_stays_write_tenants_in_it() -> None:
    before = example_files()
    after = edit(before, f"{T}/tenant.yaml", "name: ", "name: The ")
    refusal = denied(before, after, login("GITHUB_USER_LOGIN", "alice-chen"))
    assert "lacks write:tenants in tenant 'arm-dev'" in refusal[f"{T}/tenant.yaml"]
    tenant_admin = with_admin_role(before, "bob")
    after = edit(tenant_admin, f"{T}/tenant.yaml", "name: ", "name: The ")
    assert denied(tenant_admin, after, login("GITHUB_USER_LOGIN", "bob-okafor")) == {}


def test_files_outside_the_layout_need_write_repository() -> None:
    view = snapshot(with_admin_role(example_files(), "bob"))
    actions = [Action("", "write:repository", ".github/workflows/evil.yml")]
    [finding] = check_access(actions, view, login("GITHUB_USER_LOGIN", "bob-okafor"), NOW)
    assert finding.rule == "permission-denied"
    assert "lacks write:repository" in finding.message
    assert "outside the registry's layout" in finding.message
    assert "Ask one of them to make the change" in finding.message
    assert check_access(actions, view, login("ARMGIT_PUSHER", "ops"), NOW) == []


def test_the_registry_admin_is_judged_at_the_base() -> None:
    # naming yourself in registryAdmins grants nothing to the change that does it
    before = example_files()
    after = edit(before, "armgit.yaml", "[arm-dev/ops]", "[arm-dev/ops, arm-dev/alice]")
    refusal = denied(before, after, login("GITHUB_USER_LOGIN", "alice-chen"))
    assert "lacks admin:registry" in refusal["armgit.yaml"]


def test_a_tenant_admin_cannot_take_over_the_registry_admins_operator() -> None:
    # bob holds *:* in arm-dev, so write:operators there; ops is arm-dev/ops, the registry admin
    before = with_admin_role(example_files(), "bob")
    after = edit(
        before, OPS, '"email:ops@arm-dev.com"', '"email:ops@arm-dev.com", "github:bob-okafor"'
    )
    refusal = denied(before, after, login("GITHUB_USER_LOGIN", "bob-okafor"))
    assert "lacks admin:registry" in refusal[OPS]
    assert "named in registryAdmins" in refusal[OPS]
    assert denied(before, after, login("ARMGIT_PUSHER", "ops")) == {}
    # nor create the operator file a registryAdmins entry names before it exists
    waiting = edit(before, "armgit.yaml", "[arm-dev/ops]", "[arm-dev/ops, arm-dev/carol]")
    carol = {**waiting, f"{T}/operators/carol.yaml": (
        b"apiVersion: armgit/v1\nkind: Operator\nname: carol\nemail: carol@x.example\n"
        b'identities: ["github:bob-okafor"]\n'
    )}  # fmt: skip
    assert (
        "lacks admin:registry"
        in denied(waiting, carol, login("GITHUB_USER_LOGIN", "bob-okafor"))[
            f"{T}/operators/carol.yaml"
        ]
    )
