"""The record types of ``armgit audit`` (SPEC section 6), without importing the models."""

from __future__ import annotations

RECORD_TYPES: tuple[str, ...] = (
    "REGISTRY_CREATED",
    "REGISTRY_UPDATED",
    "REGISTRY_DELETED",
    "TENANT_CREATED",
    "TENANT_UPDATED",
    "TENANT_DELETED",
    "ENVIRONMENT_CREATED",
    "ENVIRONMENT_UPDATED",
    "ENVIRONMENT_DELETED",
    "PROVIDER_CREATED",
    "PROVIDER_UPDATED",
    "PROVIDER_DELETED",
    "OPERATOR_CREATED",
    "OPERATOR_UPDATED",
    "OPERATOR_DELETED",
    "IDENTITY_UPDATED",
    "ROLE_CREATED",
    "ROLE_UPDATED",
    "ROLE_DELETED",
    "POLICY_CREATED",
    "POLICY_UPDATED",
    "POLICY_DELETED",
    "POLICY_ATTACHED",
    "TEMPLATE_CREATED",
    "TEMPLATE_UPDATED",
    "TEMPLATE_DELETED",
    "VERSION_CREATED",
    "VERSION_TRANSITIONED",
    "VERSION_EVALUATED",
    "VERSION_UPDATED",
    "VERSION_DELETED",
    "INSTANCE_CREATED",
    "INSTANCE_TRANSITIONED",
    "INSTANCE_UPDATED",
    "INSTANCE_DELETED",
    "DEPLOYMENT_CREATED",
    "DEPLOYMENT_ACTIVATED",
    "DEPLOYMENT_ROLLED_BACK",
    "DEPLOYMENT_UPDATED",
    "DEPLOYMENT_DELETED",
    "APPROVAL_DECIDED",
    "APPROVAL_UPDATED",
    "APPROVAL_DELETED",
)

# ARM's change record types armgit does not derive: an import commit's records of these types
# appear as imported records (docs/import.md); ARM's families by prefix
IMPORTED_TYPES: tuple[str, ...] = (
    "APPROVAL_REQUESTED",
    "APPROVAL_CANCELLED",
    "VERSION_EVAL_COMPLETED",
    "ROLE_ASSIGNED",
    "ROLE_REVOKED",
    "ALL_ROLES_REVOKED",
)
IMPORTED_PREFIXES: tuple[str, ...] = ("EVAL_SUITE_", "EVAL_RUN_", "CUSTOM_FUNCTION_")


def is_record_type(name: str) -> bool:
    """Whether ``armgit audit --type`` knows ``name`` (derived, or ARM's when imported)."""
    return (
        name in RECORD_TYPES
        or name in IMPORTED_TYPES
        or (name.startswith(IMPORTED_PREFIXES) and name.replace("_", "").isalnum())
    )
