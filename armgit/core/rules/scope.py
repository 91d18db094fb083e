"""Which entities a change can affect: the changed ones and those that refer to them.

State rules are written from the referring entity, so after a change it is enough to check the
changed entities and their referrers, found through the layout (a template's versions, an
environment's deployments) or, where the layout does not say, by listing one directory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from armgit.core.layout import REGISTRY_ID, EntityId
from armgit.core.snapshot import View

# (tenant, template) -> the tenant's instances that may run a version of that template: those
# whose file names it, and those that cannot be read that far (their own check will say)
Naming = Callable[[str, str], Iterable[EntityId]]

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
    naming: Naming | None = None,
) -> set[EntityId]:
    """The changed entities and every entity whose state rules a change of them could break.

    ``deleted`` entities are gone, so everything that may name them is included, which for a
    deleted policy means the versions of its tenant too. With ``naming``, the instances a
    version or deployment can affect are narrowed to those naming its template, so a change to
    one template does not re-check a tenant's fleet.
    """
    gone = set(deleted)
    scope = set(changed) | gone
    found: dict[tuple[str, str], list[EntityId]] = {}  # (tenant, template) -> its instances
    for entity_id in list(scope):
        tenant = entity_id.tenant
        kind = entity_id.kind
        if kind == "Version":
            scope.update(view.deployments_of(tenant, entity_id.template))
            scope.update(view.ids("Version", tenant, entity_id.template))
        elif kind == "Template":
            scope.update(view.ids("Version", tenant, entity_id.name))
            scope.update(view.deployments_of(tenant, entity_id.name))
        elif kind == "Environment":
            scope.update(view.ids("Deployment", tenant, entity_id.name))
            scope.add(REGISTRY_ID)
        elif kind == "Tenant":
            scope.add(REGISTRY_ID)
        for referrer in _LISTED_REFERRERS.get(kind, ()):
            if referrer == "Instance" and kind in _BY_TEMPLATE and naming is not None:
                named = entity_id.template if kind == "Version" else entity_id.name
                named = named.split("/")[-1]
                if (tenant, named) not in found:  # a version and its deployment: read once
                    found[tenant, named] = list(naming(tenant, named))
                scope.update(found[tenant, named])
            else:
                scope.update(view.ids(referrer, tenant))
        if kind == "Policy" and entity_id in gone:
            for template in view.ids("Template", tenant):
                scope.update(view.ids("Version", tenant, template.name))
            scope.add(EntityId("Tenant", tenant))
    return scope


_BY_TEMPLATE = frozenset({"Version", "Deployment"})
