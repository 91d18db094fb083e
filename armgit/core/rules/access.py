"""Who may change what: operators, their unexpired roles, and ``action:resource`` permissions.

Always judged against the *base* (the branch before the change), so a change can never grant
the permission it needs to itself.

Two permissions are the registry's, not a tenant's, and no role grants them: ``admin:registry``
(``armgit.yaml``, creating or removing a tenant, the files of a tenant that does not exist yet,
the operator file of a registry admin) and ``write:repository`` (files outside the registry's
layout: workflows, scripts, a README).
Only the operators listed in ``armgit.yaml`` ``registryAdmins`` hold them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from armgit.core.findings import Finding
from armgit.core.layout import REGISTRY_ID, named_id, tenant_id
from armgit.core.models import Operator, Registry, Role
from armgit.core.models.registry import DEFAULT_IDENTITY_ENV
from armgit.core.patterns import IDENTITY_MAX, IDENTITY_PATTERN
from armgit.core.rules.gates import Action
from armgit.core.snapshot import View
from armgit.core.timeutil import parse_time

# hosting variables whose value is a login on that platform
PLATFORM_OF_VARIABLE = {
    "GL_USERNAME": "gitlab",
    "GITHUB_USER_LOGIN": "github",
    "GITEA_PUSHER_NAME": "gitea",
}

REGISTRY_PERMISSION = "admin:registry"
REPOSITORY_PERMISSION = "write:repository"
# held by registry admins only, never through a tenant's role
_REGISTRY_WIDE = frozenset({REGISTRY_PERMISSION, REPOSITORY_PERMISSION})

_IDENTITY = re.compile(IDENTITY_PATTERN)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change, as the server, the CI or git says, and how far that is trusted.

    ``exact`` (hosting logins, ``--author``): ``names`` are identities (``github:alice``) and
    match only an operator identity equal to one of them; on a hosting platform anyone can pick
    the login ``alice``, so it never matches an operator *named* alice. Otherwise (a name the
    server's administrator sets, ``ARMGIT_PUSHER`` or ``REMOTE_USER``; git's ``user.email``) a
    name may also be an operator's name or email.
    """

    names: tuple[str, ...]
    source: str
    exact: bool = True

    def __str__(self) -> str:
        return self.names[0]


def actor_from_env(
    env: Mapping[str, str], variables: Iterable[str] = DEFAULT_IDENTITY_ENV
) -> Actor | None:
    """The pusher: the first of the registry's identity variables that is set. A hosting
    variable's value is a login on that platform (``GITHUB_USER_LOGIN=alice`` is exactly
    ``github:alice``); any other variable is set by the server's administrator and may name
    an identity, an operator or an email."""
    for variable in variables:
        value = env.get(variable, "").strip()
        if value:
            platform = PLATFORM_OF_VARIABLE.get(variable)
            if platform is not None:
                return Actor((f"{platform}:{value}",), variable)
            return Actor((value,), variable, exact=False)
    return None


def actor_from_identity(identity: str, source: str = "--author") -> Actor:
    """A change's author as CI names them: an identity ``SCHEME:ID``, matched exactly; raises
    ``ValueError`` for anything else (a bare login or email would be ambiguous)."""
    if len(identity) > IDENTITY_MAX or not _IDENTITY.fullmatch(identity):
        raise ValueError(
            f"{source} {identity!r} is not an identity SCHEME:ID: write github:LOGIN, "
            "gitlab:LOGIN or email:ADDRESS, as the operator's identities list it"
        )
    return Actor((identity,), source)


def actor_from_identities(identities: Iterable[str], source: str = "--author") -> Actor:
    """One author named by several identities of theirs (``github:alice`` and
    ``github-id:12345``, both from the same pull request): any of them names the operator, so an
    operator bound by login or by account number alone is found, and their own approvals never
    count under either. Raises ``ValueError`` as :func:`actor_from_identity` does."""
    named = dict.fromkeys(actor_from_identity(i, source).names[0] for i in identities)
    # an account number first: find_operator tries names in order, and a login can be reused
    names = tuple(sorted(named, key=lambda name: "-id:" not in name))
    if not names:
        raise ValueError(f"{source} names nobody")
    return Actor(names, source)


def actor_from_email(email: str, source: str) -> Actor:
    """Whoever git's ``user.email`` or a commit's author names (not authenticated: for records
    and hints, never for permissions): the operator with that email or ``email:`` identity."""
    return Actor((email, f"email:{email}"), source, exact=False)


def is_actor(operator: Operator, actor: Actor) -> bool:
    """Whether ``actor`` is ``operator``: by identity only when the actor is exact, else also by
    the operator's name or email. The one matching rule of permissions, registry admins and
    four eyes."""
    if actor.exact:
        return any(name in operator.identities for name in actor.names)
    known = {operator.name, operator.email, f"email:{operator.email}", *operator.identities}
    return any(name in known for name in actor.names)


def operators(view: View, tenant: str) -> Iterator[Operator]:
    """The valid operators of ``tenant``."""
    for operator_id in view.ids("Operator", tenant):
        operator = view.get(operator_id, Operator)
        if operator is not None:
            yield operator


def find_operator(view: View, tenant: str, actor: Actor) -> Operator | None:
    """The operator of ``tenant`` that ``actor`` is (see :func:`is_actor`), trying the actor's
    names in their order: an account number before a login that may have changed hands."""
    found = [o for o in operators(view, tenant) if is_actor(o, actor)]
    if len(found) < 2:
        return found[0] if found else None
    for name in actor.names:
        for operator in found:
            if is_actor(operator, Actor((name,), actor.source, actor.exact)):
                return operator
    return found[0]


def registry_admins(view: View) -> list[tuple[str, Operator]]:
    """The registry admins of ``view`` as (tenant, operator): the ``registryAdmins`` of its
    ``armgit.yaml`` that name an operator of an existing tenant, not disabled. They alone hold
    ``admin:registry`` and ``write:repository``; no role grants either."""
    registry = view.get(REGISTRY_ID, Registry)
    admins = []
    for ref in registry.registry_admins if registry is not None else ():
        tenant, _, name = ref.partition("/")
        if tenant_id(tenant) not in view:
            continue
        operator = view.get(named_id("Operator", tenant, name), Operator)
        if operator is not None and not operator.disabled:
            admins.append((tenant, operator))
    return admins


def is_registry_admin(view: View, actor: Actor) -> bool:
    """Whether ``actor`` is one of the registry admins of ``view`` (judge at the base)."""
    return any(is_actor(operator, actor) for _, operator in registry_admins(view))


def permits(granted: str, needed: str) -> bool:
    """``write:versions`` is granted by itself, ``write:*``, ``*:versions``, ``*:*`` and
    ``admin:versions`` (admin is every action). Never ``admin:registry`` or
    ``write:repository``: no role grants those (see :func:`registry_admins`)."""
    if needed in _REGISTRY_WIDE:
        return False
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
    admin_files = _admin_files(base)
    missing: dict[str, tuple[str, list[str]]] = {}  # path -> (tenant, permissions)
    for action in (judged for a in actions for judged in _as_needed(a, base, admin_files)):
        if not _allowed(action, base, actor, now):
            _, needed = missing.setdefault(action.path, (action.tenant, []))
            if action.permission not in needed:
                needed.append(action.permission)
    return [
        Finding(
            "permission-denied",
            path,
            _denial(tenant, permissions, base, actor, path in admin_files),
        )
        for path, (tenant, permissions) in sorted(missing.items())
    ]


def _admin_files(view: View) -> frozenset[str]:
    """The operator files ``registryAdmins`` names, whether they exist or not: whoever writes
    one decides who a registry admin is."""
    registry = view.get(REGISTRY_ID, Registry)
    refs = registry.registry_admins if registry is not None else ()
    return frozenset(named_id("Operator", *ref.split("/", 1)).path for ref in refs)


def _as_needed(action: Action, base: View, admin_files: frozenset[str]) -> list[Action]:
    """The action as it is judged: in a tenant that does not exist at the base, creating it is
    a registry-wide change; writing a registry admin's operator file (identities, keys,
    disabled) needs ``admin:registry`` too."""
    if action.permission in _REGISTRY_WIDE or not action.tenant:
        return [action]
    if tenant_id(action.tenant) not in base:
        return [Action("", REGISTRY_PERMISSION, action.path)]
    if action.path in admin_files:
        return [action, Action("", REGISTRY_PERMISSION, action.path)]
    return [action]


def _allowed(action: Action, base: View, actor: Actor | None, now: datetime) -> bool:
    if actor is None:
        return False
    if not action.tenant:
        return is_registry_admin(base, actor)
    operator = find_operator(base, action.tenant, actor)
    return operator is not None and holds(base, action.tenant, operator, action.permission, now)


def _denial(
    tenant: str, permissions: list[str], base: View, actor: Actor | None, admin_file: bool
) -> str:
    if actor is None:
        return (
            "cannot tell who is making this change: the server sets ARMGIT_PUSHER (or "
            "the hosting's GL_USERNAME, GITHUB_USER_LOGIN, ...); CI passes --author"
        )
    who = f"{actor} ({actor.source})"
    if any(p in _REGISTRY_WIDE for p in permissions):
        admins = ", ".join(f"{t}/{o.name}" for t, o in registry_admins(base)) or "none yet"
        if REPOSITORY_PERMISSION in permissions:
            what = (
                "this file is outside the registry's layout (armgit.yaml and tenants/), so "
                "only a registry admin may change it on a protected branch"
            )
        elif admin_file:
            what = "this operator is named in registryAdmins, so who they are is registry-wide"
        else:
            what = "this is a registry-wide change (armgit.yaml, or creating or removing a tenant)"
        return (
            f"{who} lacks {', '.join(permissions)}: {what}; only the registryAdmins of "
            f"armgit.yaml hold it, no tenant role grants it (registry admins: {admins}). Ask one "
            "of them to make the change, or keep it off the protected branch"
        )
    return (
        f"{who} lacks {', '.join(permissions)} in tenant {tenant!r}: ask an admin for a role "
        "that grants it (judged by the roles before the change)"
    )
