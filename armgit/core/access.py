"""Who may change what: operators, their unexpired roles, and ``action:resource`` permissions.

Always judged against the *parent* commit's operators and roles, so a change can never grant
the permission it needs to itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from armgit.core.findings import Finding
from armgit.core.layout import EntityId, named_id
from armgit.core.models import Operator, Role
from armgit.core.models.registry import DEFAULT_IDENTITY_ENV
from armgit.core.rules.change import Action
from armgit.core.snapshot import View
from armgit.core.timeutil import parse_time

# hosting variables whose value is a login on that platform
PLATFORM_OF_VARIABLE = {
    "GL_USERNAME": "gitlab",
    "GITHUB_USER_LOGIN": "github",
    "GITEA_PUSHER_NAME": "gitea",
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change, as the environment or the CI says (``github:alice``, ``alice``)."""

    names: tuple[str, ...]
    source: str

    def __str__(self) -> str:
        return self.names[0]


def actor_from_env(
    env: Mapping[str, str], variables: Iterable[str] = DEFAULT_IDENTITY_ENV
) -> Actor | None:
    """The pusher: the first of the registry's identity variables that is set."""
    for variable in variables:
        value = env.get(variable, "").strip()
        if value:
            platform = PLATFORM_OF_VARIABLE.get(variable)
            names = (f"{platform}:{value}", value) if platform else (value,)
            return Actor(names, variable)
    return None


def actor_from_identity(identity: str) -> Actor:
    return Actor((identity,), "--author")


def find_operator(view: View, tenant: str, actor: Actor) -> Operator | None:
    """The operator of ``tenant`` that ``actor`` names: by identity, name or email."""
    for operator_id in view.ids("Operator", tenant):
        operator = view.get(operator_id, Operator)
        if operator is None:
            continue
        known = {operator.name, operator.email, f"email:{operator.email}", *operator.identities}
        if any(name in known for name in actor.names):
            return operator
    return None


def permits(granted: str, needed: str) -> bool:
    """``write:versions`` is granted by itself, ``write:*``, ``*:versions``, ``*:*`` and
    ``admin:versions`` (admin is every action)."""
    g_action, _, g_resource = granted.partition(":")
    n_action, _, n_resource = needed.partition(":")
    action_ok = g_action in ("*", "admin", n_action)
    return action_ok and g_resource in ("*", n_resource)


def holds(view: View, tenant: str, operator: Operator, permission: str, now: datetime) -> bool:
    """Whether ``operator`` holds ``permission`` in ``tenant`` through an unexpired role."""
    if operator.disabled:
        return False
    for assignment in operator.roles:
        if assignment.expires_at is not None and parse_time(assignment.expires_at) <= now:
            continue
        role = view.get(named_id("Role", tenant, assignment.role), Role)
        if role is not None and any(permits(p, permission) for p in role.permissions):
            return True
    return False


def check_access(
    actions: Iterable[Action], base: View, actor: Actor | None, now: datetime
) -> list[Finding]:
    """One ``permission-denied`` finding per path whose permissions the actor lacks."""
    missing: dict[str, list[str]] = {}
    tenants = [t.tenant for t in base.ids("Tenant", "")]
    for action in actions:
        if not _allowed(action, base, actor, now, tenants):
            needed = missing.setdefault(action.path, [])
            if action.permission not in needed:
                needed.append(action.permission)
    findings = []
    for path, permissions in sorted(missing.items()):
        if actor is None:
            message = (
                "cannot tell who is making this change: the server sets ARMGIT_PUSHER (or "
                "the hosting's GL_USERNAME, GITHUB_USER_LOGIN, ...); CI passes --author"
            )
        else:
            tenant = path.split("/")[1] if path.startswith("tenants/") else ""
            where = f"in tenant {tenant!r}" if tenant else "in any tenant"
            message = (
                f"{actor} ({actor.source}) lacks {', '.join(permissions)} {where}: ask an "
                "admin for a role that grants it (judged by the parent commit's roles)"
            )
        findings.append(Finding("permission-denied", path, message))
    return findings


def _allowed(
    action: Action, base: View, actor: Actor | None, now: datetime, tenants: list[str]
) -> bool:
    if actor is None:
        return False
    if action.tenant and EntityId("Tenant", action.tenant) in base:
        operator = find_operator(base, action.tenant, actor)
        return operator is not None and holds(base, action.tenant, operator, action.permission, now)
    # the registry itself, or a tenant that does not exist yet: a registry admin's job
    needed = action.permission if not action.tenant else "write:tenants"
    for tenant in tenants:
        operator = find_operator(base, tenant, actor)
        if operator is not None and holds(base, tenant, operator, needed, now):
            return True
    return False
