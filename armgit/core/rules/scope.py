"""Which entities a change can affect: the changed ones and those that refer to them.

State rules are written from the referring entity, so after a change it is enough to check the
changed entities and their referrers, found through the layout (a template's versions, an
environment's deployments) or, where the layout does not say, by listing one directory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from armgit.core.layout import REGISTRY_ID, EntityId
from armgit.core.snapshot import View

# An entity's data as written (no model built), or None when it cannot be read as a mapping.
Peek = Callable[[EntityId], Mapping[str, object] | None]

# kind changed -> kinds in the same tenant that may refer to it (besides layout-found ones)
_LISTED_REFERRERS: dict[str, tuple[str, ...]] = {
    "Version": ("Instance",),
    "Deployment": ("Instance",),
    "Environment": ("Instance",),
    "Provider": ("Instance",),
    "Role": ("Operator",),
    "Operator": ("Template", "Deployment"),
    "Policy": ("Policy", "Environment", "Instance", "Deployment", "Template"),
    "Tenant": ("Policy",),
}


def affected(
    view: View,
    changed: Iterable[EntityId],
    deleted: Iterable[EntityId] = (),
    peek: Peek | None = None,
) -> set[EntityId]:
    """The changed entities and every entity whose state rules a change of them could break.

    ``deleted`` entities are gone, so everything that may name them is included, which for a
    deleted policy means the versions of its tenant too. With ``peek``, the instances a version
    or deployment can affect are narrowed to those naming its template (an instance that cannot
    be read that far stays in), so a change to one template does not re-check a tenant's fleet.
    """
    gone = set(deleted)
    scope = set(changed) | gone
    naming: dict[tuple[str, str], list[EntityId]] = {}  # (tenant, template) -> its instances
    for entity_id in list(scope):
        tenant = entity_id.tenant
        kind = entity_id.kind
        if kind == "Version":
            scope.update(_deployments_of(view, tenant, entity_id.template))
            scope.update(view.ids("Version", tenant, entity_id.template))
        elif kind == "Template":
            scope.update(view.ids("Version", tenant, entity_id.name))
            scope.update(_deployments_of(view, tenant, entity_id.name))
        elif kind == "Environment":
            scope.update(view.ids("Deployment", tenant, entity_id.name))
            scope.add(REGISTRY_ID)
        elif kind == "Tenant":
            scope.add(REGISTRY_ID)
        for referrer in _LISTED_REFERRERS.get(kind, ()):
            if referrer == "Instance" and kind in _BY_TEMPLATE and peek is not None:
                named = entity_id.template if kind == "Version" else entity_id.name
                named = named.split("/")[-1]
                if (tenant, named) not in naming:  # a version and its deployment: read once
                    instances = view.ids(referrer, tenant)
                    naming[tenant, named] = [
                        i for i in instances if _may_name(peek(i), tenant, named)
                    ]
                scope.update(naming[tenant, named])
            else:
                scope.update(view.ids(referrer, tenant))
        if kind == "Policy" and entity_id in gone:
            for template in view.ids("Template", tenant):
                scope.update(view.ids("Version", tenant, template.name))
            scope.add(EntityId("Tenant", tenant))
    return scope


_BY_TEMPLATE = frozenset({"Version", "Deployment"})


def _may_name(data: Mapping[str, object] | None, tenant: str, template: str) -> bool:
    """Whether an instance (as written) may run a version of ``tenant``'s ``template``."""
    ref = data.get("version") if data is not None else None
    if not isinstance(ref, str) or "@" not in ref:
        return True  # unreadable or malformed: its own check will say, keep it in scope
    head = ref.partition("@")[0]
    other_tenant, _, name = head.rpartition("/")
    return name == template and other_tenant in ("", tenant)


def _deployments_of(view: View, tenant: str, template: str) -> list[EntityId]:
    return [d for d in view.ids("Deployment", tenant) if d.name.split("/")[1] == template]
