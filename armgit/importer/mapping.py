"""ARM rows to registry documents (SPEC section 14): the mapper and the organisation's tables
(tenants, environments, providers, roles, operators with their role assignments, policies).
Pure; the fleet's tables are :mod:`.fleet`'s, the order :mod:`.build`'s.

Every row of a mapped table becomes one file, or is kept as evidence in another's ``legacy``
block, or is counted as not imported with a note saying why; what a file has no field for goes
to its ``legacy`` block. Names come from :class:`~armgit.importer.names.NameBook`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from armgit.core.jsondata import JsonObject, JsonValue
from armgit.core.layout import named_id, tenant_id
from armgit.importer.export import Export, ExportError, Row
from armgit.importer.genome import MAX_MS, TEXT_MAX, iso_time
from armgit.importer.model import EVIDENCE, MAPPED, NOT_IMPORTED, Entity, Mapped
from armgit.importer.names import NameBook, slugify

API = "armgit/v1"
LIFECYCLES = ("DRAFT", "TESTING", "CANDIDATE", "APPROVED", "DEPRECATED", "RETIRED")
EVALUATIONS = ("NOT_RUN", "RUNNING", "PASS", "FAIL")
STATES = ("PROVISIONING", "ACTIVE", "PAUSED", "READONLY", "DRAINING", "QUARANTINED", "RETIRED")
_PERMISSION = re.compile(
    r"^(?:\*|read|write|transition|approve|deploy|assign|admin):"
    r"(?:\*|registry|tenants|environments|providers|operators|roles|policies|templates"
    r"|versions|instances|deployments|approvals)$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_IDENTITY = re.compile(r"^[a-z][a-z0-9-]*:\S+$")
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._:/-]{0,62}$")
_URL = re.compile(r"^https?://\S+$")
SECRET_PATTERN = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$")
_ENV_TYPES = ("dev", "staging", "prod")
# the tables ARM's registry is made of; the rest are operational and counted as not imported
ARM_TABLES = (
    "tenants",
    "environments",
    "providers",
    "roles",
    "roleAssignments",
    "operators",
    "policyEnvelopes",
    "agentTemplates",
    "agentVersions",
    "agentInstances",
    "approvalRecords",
    "changeRecords",
)


def where(row: Row, field: str) -> str:
    return f"{row.table}/documents.jsonl, line {row.line}, field {field}"


def text(row: Row, field: str, *, required: bool = True) -> str | None:
    value = row.fields.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ExportError(where(row, field), "missing or not a non-empty string")
    return value


def short(value: str | None) -> str:
    """``value`` as a registry text field: at most :data:`TEXT_MAX` characters (a longer one is
    kept whole in ``legacy`` by :meth:`ArmMapper.legacy`)."""
    return (value or "")[:TEXT_MAX]


def strings(value: JsonValue) -> list[str]:
    """The strings of a list (nothing, for anything else)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def ms_time(value: JsonValue) -> str | None:
    """A time in ms since the epoch as RFC 3339, or ``None`` when it is no such time."""
    when = number(value)
    if when is None or not 0 <= when < MAX_MS:
        return None
    return iso_time(when)


def number(value: JsonValue) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


class ArmMapper:
    """Maps one ARM export; ``mapped`` holds the result."""

    def __init__(self, export: Export, source: str, names: Mapping[str, str]) -> None:
        self.export = export
        self.source = source
        self.book = NameBook(names)
        self.mapped = Mapped()
        self.tenants: dict[str, str] = {}  # tenant id -> tenant name
        self.approvals: dict[str, dict[str, JsonValue]] = {}  # approval id -> evidence

    # -- helpers ----------------------------------------------------------------------------

    def rows(self, table: str) -> list[Row]:
        rows = sorted(self.export.rows(table), key=lambda r: (r.created, r.id))
        self.mapped.table(table).rows = len(rows)
        return rows

    def legacy(self, row: Row, used: tuple[str, ...], **extra: JsonValue) -> JsonObject:
        kept = {
            k: v
            for k, v in sorted(row.fields.items())
            if k not in used or (isinstance(v, str) and len(v) > TEXT_MAX)
        }
        block: JsonObject = {
            "source": self.source,
            "table": row.table,
            "id": row.id,
            "createdAt": iso_time(row.created),
        }
        block.update(extra)
        if kept:
            block["fields"] = kept
        return block

    def skip(self, row: Row, why: str, outcome: str = NOT_IMPORTED) -> None:
        self.mapped.table(row.table).add(outcome)
        self.note(row, why)

    def note(self, row: Row, what: str) -> None:
        self.mapped.notes.append(f"{row.table} {row.id} (line {row.line}): {what}")

    def tenant_of(self, row: Row) -> str | None:
        tenant = self.tenants.get(str(row.fields.get("tenantId")))
        if tenant is None:
            self.skip(row, "its tenant is not in the export")
        return tenant

    def ref(self, value: JsonValue, table: str) -> str | None:
        """The path of the imported row ``value`` names, if it is an id of ``table``."""
        if not isinstance(value, str) or self.export.table_of(value) not in (table, None):
            return None
        return self.mapped.paths.get(value)

    def name_of(self, path: str | None) -> str | None:
        if path is None:
            return None
        doc = self.mapped.entities[path].doc
        name = doc.get("name", doc.get("label"))
        return name if isinstance(name, str) else None

    def add(self, row: Row, path: str, doc: JsonObject, **kw: object) -> Entity:
        self.mapped.table(row.table).add(MAPPED)
        entity = Entity(path, doc, row.table, row.id, row.created, **kw)  # type: ignore[arg-type]
        return self.mapped.add(entity)

    # -- the tables -------------------------------------------------------------------------

    def map_tenants(self) -> None:
        for row in self.rows("tenants"):
            display = text(row, "name")
            slug = self.book.name(
                "tenants", row.id, slugify(str(row.fields.get("slug") or display), "tenant")
            )
            self.tenants[row.id] = slug
            doc: JsonObject = {
                "apiVersion": API,
                "kind": "Tenant",
                "name": short(display),
                "slug": slug,
            }
            settings = row.fields.get("settings")
            if isinstance(settings, dict) and settings:
                doc["settings"] = settings
            doc["legacy"] = self.legacy(
                row, ("name", "slug") + (("settings",) if "settings" in doc else ())
            )
            self.add(row, tenant_id(slug).path, doc)

    def map_environments(self) -> None:
        gates = {
            "protected": bool,
            "requiredApprovals": int,
            "requireActiveDeployment": bool,
            "minLifecycle": str,
        }
        for row in self.rows("environments"):
            tenant = self.tenant_of(row)
            if tenant is None:
                continue
            display = text(row, "name")
            name = self.book.name(
                f"{tenant}/env", row.id, slugify(str(row.fields.get("slug") or display), "env")
            )
            doc: JsonObject = {
                "apiVersion": API,
                "kind": "Environment",
                "name": name,
                "tenant": tenant,
            }
            doc["type"] = name if name in _ENV_TYPES else "custom"
            doc["description"] = short(display)
            config = row.fields.get("config")
            rest: JsonObject = {}
            for key, raw in (config if isinstance(config, dict) else {}).items():
                value = _gate_value(key, raw, gates.get(key))
                if value is None:
                    rest[key] = raw
                else:
                    doc[key] = value
            doc["legacy"] = self.legacy(
                row, ("tenantId", "name", "slug", "config"), **({"config": rest} if rest else {})
            )
            self.add(
                row,
                named_id("Environment", tenant, name).path,
                doc,
                needs=(tenant_id(tenant).path,),
            )

    def map_providers(self) -> None:
        for row in self.rows("providers"):
            tenant = self.tenant_of(row)
            if tenant is None:
                continue
            name = self.book.name(
                f"{tenant}/provider", row.id, slugify(text(row, "name") or "", "provider")
            )
            kind = row.fields.get("type")
            doc: JsonObject = {
                "apiVersion": API,
                "kind": "Provider",
                "name": name,
                "tenant": tenant,
            }
            doc["type"] = kind if kind in ("local", "federated") else "local"
            used = ["tenantId", "name", "type"]
            federation = row.fields.get("federationConfig")
            if isinstance(federation, dict) and federation:
                doc["federation"] = federation
                used.append("federationConfig")
            elif doc["type"] == "federated":
                doc["federation"] = {"missing": "ARM held no federation config for this provider"}
            health = row.fields.get("healthEndpoint")
            if isinstance(health, str) and _URL.match(health):
                doc["healthEndpoint"] = health
                used.append("healthEndpoint")
            metadata = row.fields.get("metadata")
            if isinstance(metadata, dict):
                doc["metadata"] = metadata
                used.append("metadata")
            doc["legacy"] = self.legacy(row, tuple(used))
            self.add(
                row, named_id("Provider", tenant, name).path, doc, needs=(tenant_id(tenant).path,)
            )

    def map_roles(self) -> None:
        for row in self.rows("roles"):
            tenant = self.tenant_of(row)
            if tenant is None:
                continue
            doc = self.role_doc(row, tenant)
            path = named_id("Role", tenant, str(doc["name"])).path
            self.add(row, path, doc, needs=(tenant_id(tenant).path,))

    def role_doc(self, row: Row, tenant: str) -> JsonObject:
        """The role a row of ``roles`` becomes (no side effect but its name)."""
        name = self.book.name(f"{tenant}/role", row.id, slugify(text(row, "name") or "", "role"))
        permissions = row.fields.get("permissions")
        listed = (
            [p for p in permissions if isinstance(p, str)] if isinstance(permissions, list) else []
        )
        valid = [p for p in listed if _PERMISSION.match(p)]
        doc: JsonObject = {"apiVersion": API, "kind": "Role", "name": name, "tenant": tenant}
        description = row.fields.get("description")
        if isinstance(description, str) and description:
            doc["description"] = description[:4096]
        doc["permissions"] = list(dict.fromkeys(valid))
        extra: dict[str, JsonValue] = {"displayName": short(text(row, "name"))}
        unknown = [p for p in listed if p not in valid]
        if unknown:
            extra["permissionsNotMapped"] = list(unknown)
        doc["legacy"] = self.legacy(
            row, ("tenantId", "name", "description", "permissions"), **extra
        )
        return doc

    def map_operators(self) -> None:
        assignments: dict[str, list[Row]] = {}
        for row in self.rows("roleAssignments"):
            assignments.setdefault(str(row.fields.get("operatorId")), []).append(row)
        for row in self.rows("operators"):
            tenant = self.tenant_of(row)
            if tenant is None:
                continue
            display = text(row, "name")
            email = str(row.fields.get("email") or "")
            name = self.book.name(
                f"{tenant}/operator",
                row.id,
                slugify(display or email.split("@", maxsplit=1)[0], "operator"),
            )
            doc: JsonObject = {
                "apiVersion": API,
                "kind": "Operator",
                "name": name,
                "tenant": tenant,
            }
            doc["displayName"] = short(display)
            extra: dict[str, JsonValue] = {}
            if _EMAIL.match(email):
                doc["email"] = email
            else:
                doc["email"] = f"{name}@{tenant}.invalid"
                extra["emailReplaced"] = True
            identity = _identity(row.fields.get("authIdentity"))
            identities: list[JsonValue] = [identity] if identity else []
            if _EMAIL.match(email):
                identities.append(f"email:{email}")
            doc["identities"] = identities
            roles: list[JsonValue] = []
            kept: list[JsonValue] = []
            for assignment in assignments.get(row.id, []):
                role = self.name_of(self.ref(assignment.fields.get("roleId"), "roles"))
                expires = ms_time(assignment.fields.get("expiresAt"))
                if role is None:
                    kept.append({"id": assignment.id, **assignment.fields})
                    self.skip(
                        assignment,
                        "its role is not in the export: kept in the operator's legacy block",
                        EVIDENCE,
                    )
                    continue
                entry: JsonObject = {"role": role}
                if expires is not None:
                    entry["expiresAt"] = expires
                if entry not in roles:
                    roles.append(entry)
                self.mapped.table("roleAssignments").add(MAPPED)
            doc["roles"] = roles
            if kept:
                extra["roleAssignmentsNotMapped"] = kept
            doc["legacy"] = self.legacy(row, ("tenantId", "name", "email"), **extra)
            role_paths = tuple(
                named_id("Role", tenant, str(r["role"])).path for r in roles if isinstance(r, dict)
            )
            entity = self.add(
                row,
                named_id("Operator", tenant, name).path,
                doc,
                needs=(tenant_id(tenant).path, *role_paths),
            )
            self.mapped.operators[row.id] = entity.path
        for operator_id, rows in assignments.items():
            if operator_id not in self.mapped.operators:
                for assignment in rows:
                    self.skip(assignment, "its operator is not in the export")

    def map_policies(self) -> None:
        for row in self.rows("policyEnvelopes"):
            tenant = self.tenant_of(row)
            if tenant is None:
                continue
            doc = self.policy_doc(row, tenant)
            path = named_id("Policy", tenant, str(doc["name"])).path
            self.add(row, path, doc, needs=(tenant_id(tenant).path,))

    def policy_doc(self, row: Row, tenant: str) -> JsonObject:
        """The policy a row of ``policyEnvelopes`` becomes (no side effect but its name)."""
        name = self.book.name(
            f"{tenant}/policy", row.id, slugify(text(row, "name") or "", "policy")
        )
        tier = number(row.fields.get("autonomyTier"))
        doc: JsonObject = {"apiVersion": API, "kind": "Policy", "name": name, "tenant": tenant}
        extra: dict[str, JsonValue] = {"displayName": short(text(row, "name"))}
        if tier is None or not tier.is_integer() or not 0 <= tier <= 5:
            extra["autonomyTierNotMapped"] = row.fields.get("autonomyTier")
            tier = 0.0
        doc["autonomyTier"] = int(tier)
        tools = row.fields.get("allowedTools")
        doc["allowedTools"] = list(
            dict.fromkeys(
                t
                for t in (tools if isinstance(tools, list) else [])
                if isinstance(t, str) and re.match(r"^[A-Za-z0-9_.:-]{1,128}$", t)
            )
        )
        limits = row.fields.get("costLimits")
        mapped_limits: JsonObject = {}
        if isinstance(limits, dict):
            daily = number(limits.get("dailyTokens"))
            monthly = number(limits.get("monthlyCost"))
            if daily is not None and daily.is_integer() and daily >= 0:
                mapped_limits["dailyTokens"] = int(daily)
            if monthly is not None and monthly >= 0:
                mapped_limits["monthlyCost"] = monthly
        if mapped_limits:
            doc["costLimits"] = mapped_limits
        doc["legacy"] = self.legacy(row, ("tenantId", "name", "autonomyTier"), **extra)
        return doc


def _gate_value(key: str, value: JsonValue, wanted: type | None) -> JsonValue:
    """An ARM environment config value as armgit's gate setting, or ``None`` when it is not one."""
    if isinstance(value, float) and value.is_integer() and wanted is int:
        value = int(value)
    if wanted is None or type(value) is not wanted:
        return None
    if key == "minLifecycle" and value not in LIFECYCLES:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return None
    return value


def _identity(value: JsonValue) -> str | None:
    """``auth0|ops`` -> ``auth0:ops``, ``github|sam-lee`` -> ``github:sam-lee``."""
    if not isinstance(value, str):
        return None
    scheme, sep, rest = value.replace("|", ":", 1).partition(":")
    identity = f"{scheme.lower()}:{rest}" if sep else ""
    return identity if _IDENTITY.match(identity) and len(identity) <= 256 else None
