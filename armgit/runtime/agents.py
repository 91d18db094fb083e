"""Agents known by their instance name or their ``legacyAgentId`` (SPEC 12): the seed's
resolveAgentRef. Pure: lookups in a verified index's payload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from armgit.runtime.errors import NotFound
from armgit.runtime.verify import VerifiedIndex


@dataclass(frozen=True, slots=True)
class Agent:
    """An instance found by name or ``legacyAgentId`` (the seed's resolveAgentRef)."""

    tenant: str
    instance: str
    template: str
    version: str
    environment: str
    state: str
    legacy_agent_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "instance": self.instance,
            "template": self.template,
            "version": self.version,
            "environment": self.environment,
            "state": self.state,
            "legacyAgentId": self.legacy_agent_id,
        }


def legacy_ids(index: VerifiedIndex) -> dict[tuple[str, str], str]:
    """(tenant, legacyAgentId) -> instance name, for every instance that has one (the first by
    name where two share one, which the state rule ``duplicate-legacy-id`` refuses)."""
    table: dict[tuple[str, str], str] = {}
    for tenant, data in index.payload["tenants"].items():
        for name, instance in data["instances"].items():
            legacy = instance.get("legacyAgentId")
            if isinstance(legacy, str):
                table.setdefault((tenant, legacy), name)
    return table


def instance_name(
    index: VerifiedIndex, legacy: dict[tuple[str, str], str], tenant: str, ref: str
) -> str:
    """``ref`` when it names an instance, else the instance whose legacyAgentId it is (else
    ``ref``: the lookup then says there is no such instance)."""
    try:
        instances = index.payload["tenants"].get(tenant, {}).get("instances", {})
        if ref in instances:
            return ref
        return legacy.get((tenant, ref), ref)
    except (TypeError, AttributeError):  # an unhashable ref: the lookup says what is wrong
        return ref


def resolve_agent(
    index: VerifiedIndex, legacy: dict[tuple[str, str], str], tenant: str, ref: str
) -> Agent:
    """The instance named ``ref``, or whose ``legacyAgentId`` is ``ref``."""
    name = instance_name(index, legacy, tenant, ref)
    instance = index.payload["tenants"].get(tenant, {}).get("instances", {}).get(name)
    if instance is None:
        raise NotFound(f"no instance or legacyAgentId {ref!r} in tenant {tenant!r}")
    found = instance.get("legacyAgentId")
    return Agent(
        tenant=tenant,
        instance=name,
        template=instance["template"],
        version=instance["version"],
        environment=instance["environment"],
        state=instance["state"],
        legacy_agent_id=found if isinstance(found, str) else None,
    )
