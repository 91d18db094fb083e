"""The index's ``operators`` table of a tenant: who may approve one tool call at runtime.

Per operator (not disabled): its OpenSSH public keys and the permissions its roles grant at the
compiled commit, each with the latest expiry of the roles that grant it (``null``: no expiry).
A runtime checks an action approval's signature against these keys and the approver's
``approve:actions`` against these permissions at the time it decides (SPEC 12).
"""

from __future__ import annotations

from armgit.core.jsondata import JsonObject, JsonValue
from armgit.core.layout import named_id
from armgit.core.models import Operator, Role
from armgit.core.snapshot import Snapshot
from armgit.core.timeutil import parse_time


def build_operators(snapshot: Snapshot, tenant: str) -> JsonObject:
    """``{operator: {"keys": [...], "permissions": {permission: expiresAt-or-null}}}``."""
    table: dict[str, JsonValue] = {}
    for entity in snapshot.of_kind("Operator"):
        operator = entity.model
        if entity.id.tenant != tenant or not isinstance(operator, Operator) or operator.disabled:
            continue
        permissions: dict[str, str | None] = {}
        for assignment in operator.roles:
            role = snapshot.get(named_id("Role", tenant, assignment.role), Role)
            if role is None:
                continue
            expires = assignment.expires_at
            for permission in role.permissions:
                if permission not in permissions or _later(expires, permissions[permission]):
                    permissions[permission] = expires
        keys: list[JsonValue] = [*dict.fromkeys(operator.ssh_keys)]
        perms: JsonObject = dict(sorted(permissions.items()))
        table[entity.id.name] = {"keys": keys, "permissions": perms}
    return dict(sorted(table.items()))


def _later(expires: str | None, known: str | None) -> bool:
    if known is None:
        return False
    return expires is None or parse_time(expires) > parse_time(known)
