"""Change rules: what may happen between two commits (SPEC section 4).

``check_change`` compares each changed entity at the parent (``base``) and the child (``head``)
and returns three things: findings (write-once genomes, deleted versions, illegal transitions,
unmet guards, edited approvals), gates (changes that need approvals, checked against the
approval files by :mod:`armgit.core.rules.approvals`) and actions (the permission each changed path
needs, checked by :mod:`armgit.core.rules.access`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar, get_args

from armgit.core.canonical import canonical_digest
from armgit.core.content import ReadFile, read_document
from armgit.core.findings import Finding
from armgit.core.jsondata import JsonObject
from armgit.core.layout import EntityId, named_id, version_id
from armgit.core.models import (
    Approval,
    Deployment,
    Document,
    Environment,
    Instance,
    Operator,
    Policy,
    Registry,
    Version,
)
from armgit.core.models.base import Risk
from armgit.core.rules.gates import Action, Gate
from armgit.core.rules.lifecycle import (
    INSTANCE_GATES,
    INSTANCE_START,
    INSTANCE_TRANSITIONS,
    VERSION_GATES,
    VERSION_START,
    VERSION_TRANSITIONS,
    StatePath,
    instance_path,
    shortest_paths,
    steps,
    version_path,
)
from armgit.core.rules.state import parse_version_ref
from armgit.core.rules.trust import trust_changes
from armgit.core.rules.widening import policy_widenings
from armgit.core.snapshot import View

D = TypeVar("D", bound=Document)
_RISKS: tuple[str, ...] = get_args(Risk)  # lowest first

# kind -> permission for writing it (adding, editing, deleting); creating or removing a tenant
# needs admin:registry too, which only the registry's admins hold (armgit.core.rules.access)
WRITE_PERMISSION = {
    "Registry": "admin:registry",
    "Tenant": "write:tenants",
    "Environment": "write:environments",
    "Provider": "write:providers",
    "Operator": "write:operators",
    "Role": "write:roles",
    "Policy": "write:policies",
    "Template": "write:templates",
    "Version": "write:versions",
    "Instance": "write:instances",
    "Deployment": "write:deployments",
    "Approval": "write:approvals",
}


@dataclass
class ChangeResult:
    findings: list[Finding] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)


def as_written(model: Document) -> JsonObject:
    """The entity's fields as its file sets them (defaults left out), as JSON data."""
    data = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert isinstance(data, dict)
    return data


def entity_digest(model: Document, written: JsonObject | None = None) -> str:
    """The digest an approval binds: JCS of the subject's whole file as proposed (every field
    as written, comments aside), so any later edit to the subject voids the approval.
    ``written``: :func:`as_written` of ``model``, where the caller has it already."""
    return canonical_digest(written if written is not None else as_written(model))


def check_change(
    base: View, head: View, changed: Iterable[EntityId], artifacts: Iterable[str] = ()
) -> ChangeResult:
    """Check every changed entity between ``base`` (the parent) and ``head``."""
    result = ChangeResult()
    ids = sorted(set(changed))
    for entity_id in ids:
        before = base.entity(entity_id)
        after = head.entity(entity_id)
        old = before.model if before is not None else None
        new = after.model if after is not None else None
        if (old is None and base.is_broken(entity_id)) or (
            new is None and head.is_broken(entity_id)
        ):
            # an invalid file: the state rules report it, and models cannot be compared; but a
            # genomeHash is written once even where its file is invalid (the fix for a tampered
            # genome is to restore it, not to rehash it)
            if entity_id.kind == "Version":
                result.findings.extend(_rehashed(base, head, entity_id))
            # writing it still needs its permission (deleting an invalid file, too); an invalid
            # tenant.yaml is the registry's to mend
            tenant = entity_id.tenant if entity_id.kind != "Tenant" else ""
            permission = WRITE_PERMISSION[entity_id.kind] if tenant else "admin:registry"
            result.actions.append(Action(tenant, permission, entity_id.path))
            continue
        _Change(result, base, head, entity_id, old, new).check()
    for path in sorted(set(artifacts)):
        tenant = path.split("/")[1]
        result.actions.append(Action(tenant, "write:versions", path))
    result.gates += policy_widenings(base, head, ids)
    return result


def _rehashed(base: View, head: View, entity_id: EntityId) -> list[Finding]:
    """``genome-immutable`` if the ``genomeHash`` written in the version's file changed."""
    before, after = _written_hash(base, entity_id), _written_hash(head, entity_id)
    if before is None or after is None or before == after:
        return []
    return [
        Finding(
            "genome-immutable",
            entity_id.path,
            f"the genomeHash of {entity_id.ref} changed from {before} to {after}: a genome and "
            "its hash are written once; restore them, and make a new version (armgit new "
            "version --parent) for the new genome",
            "/genomeHash",
        )
    ]


# what ``armgit import`` keeps of a version's genome in ARM: write-once, as the genome is
_LEGACY_GENOME = ("genome", "genomeHash", "genomeHashVerdict")


def _legacy_genome(version: Version) -> list[object]:
    legacy = version.legacy or {}
    return [legacy.get(key) for key in _LEGACY_GENOME]


def _written_hash(view: View, entity_id: EntityId) -> object:
    """The ``genomeHash`` of a version's file as written, valid or not (``None`` if none)."""
    data = view.files.read(entity_id.path)
    read = read_document(data) if data is not None else None
    if not isinstance(read, ReadFile) or not isinstance(read.doc.data, dict):
        return None
    return read.doc.data.get("genomeHash")


class _Change:
    def __init__(
        self,
        result: ChangeResult,
        base: View,
        head: View,
        entity_id: EntityId,
        old: Document | None,
        new: Document | None,
    ) -> None:
        self.result = result
        self.base = base
        self.head = head
        self.id = entity_id
        self.old = old
        self.new = new
        self.path = entity_id.path

    def finding(self, rule: str, pointer: str, message: str) -> None:
        self.result.findings.append(Finding(rule, self.path, message, pointer))

    def action(self, permission: str) -> None:
        self.result.actions.append(Action(self.id.tenant, permission, self.path))

    def gate(self, request_type: str, pointer: str, **kwargs: object) -> None:
        self.result.gates.append(
            Gate(request_type, self.id, path=self.path, pointer=pointer, **kwargs)  # type: ignore[arg-type]
        )

    def gated_steps(
        self, path: StatePath, gates: Mapping[tuple[str, str], str], pointer: str, **kwargs: object
    ) -> None:
        """A gate for each step of ``path`` that needs approvals, bound to that step."""
        for step in steps(path):
            if step in gates:
                self.gate(gates[step], pointer, change_from=step[0], change_to=step[1], **kwargs)

    def check(self) -> None:
        old, new = self.old, self.new
        if isinstance(old, Version) or isinstance(new, Version):
            self.version(_as(old, Version), _as(new, Version))
        elif isinstance(old, Instance) or isinstance(new, Instance):
            self.instance(_as(old, Instance), _as(new, Instance))
        elif isinstance(old, Deployment) or isinstance(new, Deployment):
            self.deployment(_as(new, Deployment), _as(old, Deployment))
        elif isinstance(old, Policy) or isinstance(new, Policy):
            self.policy(_as(old, Policy), _as(new, Policy))
        elif isinstance(old, Approval) or isinstance(new, Approval):
            self.approval()
        elif isinstance(old, Operator) or isinstance(new, Operator):
            self.operator(_as(old, Operator), _as(new, Operator))
        elif self.id.kind == "Tenant" and (old is None or new is None):
            # a tenant created or removed: registry-wide
            self.result.actions.append(Action("", "admin:registry", self.path))
        else:
            self.action(WRITE_PERMISSION[self.id.kind])
            if isinstance(old, Registry) and isinstance(new, Registry):
                self.trust(old, new)

    def trust(self, old: Registry, new: Registry) -> None:
        """A change to what the registry trusts needs a registry admin's approval."""
        changed = trust_changes(old, new)
        if changed:
            self.gate(
                "REGISTRY_TRUST_CHANGE",
                changed[0].pointer,
                change_from=None,
                change_to=", ".join(c.field for c in changed),
                digest=entity_digest(new),
            )

    # -- versions ---------------------------------------------------------------------------

    def version(self, old: Version | None, new: Version | None) -> None:
        if new is None:
            if old is not None and self.base.entity(self.id) is not None:
                self.finding(
                    "version-deleted",
                    "",
                    f"{self.id.ref} was deleted: versions are never deleted, so that their "
                    "lineage and audit stay whole; move it to RETIRED instead",
                )
            self.action("write:versions")
            return
        if old is None:
            self.action("write:versions")
            if new.lifecycle != VERSION_START:
                self._lifecycle(VERSION_START, new)
            self._privileges(new)
            return
        if old.genome != new.genome or old.genome_hash != new.genome_hash:
            self.finding(
                "genome-immutable",
                "/genome",
                f"the genome of {self.id.ref} changed: a genome and its hash are written once; "
                "make a new version (armgit new version --parent) for the new genome",
            )
        if _legacy_genome(old) != _legacy_genome(new):
            self.finding(
                "genome-immutable",
                "/legacy",
                f"the imported genome of {self.id.ref} (legacy genome, genomeHash and "
                "genomeHashVerdict) changed: what the import kept is written once; restore it",
            )
        if old.lifecycle != new.lifecycle:
            self.action("transition:versions")
            self._lifecycle(old.lifecycle, new)
        if _fields(old, "lifecycle") != _fields(new, "lifecycle"):
            self.action("write:versions")

    def _lifecycle(self, before: str, new: Version) -> None:
        """A move of several legal steps is one move when every guard along it holds."""
        after = new.lifecycle
        if not shortest_paths(VERSION_TRANSITIONS, before, after):
            legal = VERSION_TRANSITIONS[before]
            options = ", ".join(sorted(legal)) or "none (RETIRED is final)"
            start = "" if before != VERSION_START else " (a new version starts in DRAFT)"
            self.finding(
                "illegal-transition",
                "/lifecycle",
                f"{self.id.ref} cannot go from {before}{start} to {after}; from {before} it "
                f"may go to: {options}",
            )
            return
        path = version_path(before, after, new.evaluation.status)
        if path is None:
            self.finding(
                "transition-guard",
                "/evaluation/status",
                f"{' -> '.join(shortest_paths(VERSION_TRANSITIONS, before, after)[0])} passes "
                f"TESTING -> CANDIDATE, which needs evaluation status PASS, and {self.id.ref} "
                f"has {new.evaluation.status}: record a passing evaluation first",
            )
            return
        self.gated_steps(
            path,
            VERSION_GATES,
            "/lifecycle",
            digest=entity_digest(new),
            former_digest=new.genome_hash,
        )

    def _privileges(self, new: Version) -> None:
        """A new version that may do more than its parent (new tools, new permissions, tools
        declared at a lower risk); one that names no parent, more than its template's released
        versions (APPROVED or DEPRECATED) together. The first version of a template has
        nothing to compare with: its promotion is the review."""
        if new.parent is not None:
            ref = parse_version_ref(new.parent, self.id.tenant, new.template)
            parent = self.head.get(version_id(ref.tenant, ref.template, ref.label), Version)
            baseline, since = ([parent] if parent is not None else []), new.parent
        else:
            baseline = [
                released
                for other in self.head.ids("Version", self.id.tenant, new.template)
                if other != self.id
                and (released := self.head.get(other, Version)) is not None
                and released.lifecycle in ("APPROVED", "DEPRECATED")
            ]
            since = "released " + ", ".join(v.label for v in baseline)
        if not baseline:
            return
        before = {p for version in baseline for p in _privileges_of(version)}
        gained = sorted(set(_privileges_of(new)) - before) + _lowered_risks(baseline, new)
        if gained and new.genome.tool_manifest is not None:
            self.gate(
                "PRIVILEGE_WIDENING",
                "/genome/toolManifest",
                change_from=since,
                change_to=", ".join(gained),
                digest=entity_digest(new),
                former_digest=new.genome_hash,
            )

    # -- instances --------------------------------------------------------------------------

    def instance(self, old: Instance | None, new: Instance | None) -> None:
        if new is None:
            self.action("write:instances")
            if old is not None:
                self.finding(
                    "instance-deleted",
                    "",
                    f"{self.id.ref} was deleted: an instance's name is written once, so that "
                    "its audit stays whole and a quarantined instance cannot come back as new; "
                    "move it to RETIRED instead (armgit instance REF --to RETIRED)",
                )
            return
        if old is not None:
            self._moved(old, new)
        before = old.state if old is not None else INSTANCE_START
        if old is None:
            self.action("write:instances")
        elif old.state != new.state:
            self.action("transition:instances")
        if before != new.state:
            self._state(before, new, created=old is None)
        if old is not None and _fields(old, "state") != _fields(new, "state"):
            self.action("write:instances")

    def _moved(self, old: Instance, new: Instance) -> None:
        """An instance's environment and legacyAgentId are written once: its runtime knows it
        by its name or legacy id, so changing either would move a production agent out of
        production's gates (or hand its legacy id to an agent elsewhere)."""
        if old.environment != new.environment:
            self.finding(
                "instance-moved",
                "/environment",
                f"{self.id.ref} moved from environment {old.environment!r} to "
                f"{new.environment!r}: an instance stays where it was created, so that it never "
                "leaves an environment's gates; retire it and create a new instance there",
            )
        if old.legacy_agent_id is not None and old.legacy_agent_id != new.legacy_agent_id:
            self.finding(
                "instance-moved",
                "/legacyAgentId",
                f"{self.id.ref} changed legacyAgentId {old.legacy_agent_id!r}: a legacy agent "
                "resolves by it, so it stays with the instance it was given to",
            )

    def _state(self, before: str, new: Instance, *, created: bool) -> None:
        path = instance_path(before, new.state)
        if path is None:
            options = ", ".join(sorted(INSTANCE_TRANSITIONS[before])) or "none (RETIRED is final)"
            start = " (a new instance starts in PROVISIONING)" if created else ""
            self.finding(
                "illegal-transition",
                "/state",
                f"{self.id.ref} cannot go from {before}{start} to {new.state}; from {before} it "
                f"may go to: {options}",
            )
            return
        self.gated_steps(
            path, INSTANCE_GATES, "/state", digest=entity_digest(new), environment=new.environment
        )

    # -- deployments ------------------------------------------------------------------------

    def deployment(self, new: Deployment | None, old: Deployment | None) -> None:
        self.action("write:deployments")
        if new is None:
            return
        self._previous(new, old)
        if new.status != "ACTIVE":
            return
        if old is not None and old.status == "ACTIVE" and old.version == new.version:
            return
        environment = self.head.get(
            named_id("Environment", self.id.tenant, new.environment), Environment
        )
        if environment is None or not environment.protected:
            return
        if (
            old is not None
            and new.rollback_of is not None
            and new.rollback_of == old.version
            and new.version == old.previous_version
        ):
            return  # a rollback returns to the version that ran before; no approval needed
        version = self.head.get(version_id(self.id.tenant, new.template, new.version), Version)
        self.gate(
            "DEPLOYMENT_ACTIVATION",
            "/version",
            change_from=old.version if old is not None and old.status == "ACTIVE" else None,
            change_to=new.version,
            digest=entity_digest(new),
            former_digest=version.genome_hash if version is not None else None,
            environment=new.environment,
            required=environment.required_approvals or None,
        )

    def _previous(self, new: Deployment, old: Deployment | None) -> None:
        """``previousVersion`` says what ran before: the version active at the parent when the
        version changes, unchanged otherwise. It is what a rollback returns to without
        approval, so rewriting it would make any version a free "rollback"."""
        if old is None:
            expected = None
        elif new.version != old.version:
            expected = old.version if old.status == "ACTIVE" else old.previous_version
        else:
            expected = old.previous_version
        if new.previous_version == expected:
            return
        said = "none" if expected is None else expected
        self.finding(
            "previous-version",
            "/previousVersion",
            f"previousVersion of {self.id.ref} is {new.previous_version}, but the version that "
            f"ran before this change is {said}: previousVersion records what was active and is "
            "never edited by hand (armgit deploy and armgit rollback write it)",
        )

    # -- policies, approvals, operators -------------------------------------------------------

    def policy(self, old: Policy | None, new: Policy | None) -> None:
        # what an edit widens is judged on the targets' effective policies (rules/widening.py)
        self.action("write:policies")

    def approval(self) -> None:
        if isinstance(self.new, Approval) and self.new.statement.subject.kind == "Registry":
            # part of a registry change, whichever tenant its approver is in (docs/approvals.md)
            self.result.actions.append(Action("", WRITE_PERMISSION["Registry"], self.path))
        else:
            self.action("write:approvals")
        if self.old is not None:
            what = "deleted" if self.new is None else "changed"
            self.finding(
                "approval-immutable",
                "",
                f"approval {self.id.name} was {what}: approvals are signed statements, "
                "written once and never removed; add a new one (a REJECT to withdraw)",
            )

    def operator(self, old: Operator | None, new: Operator | None) -> None:
        if old is not None and new is not None and old.roles != new.roles:
            self.action("assign:roles")
            if _fields(old, "roles") == _fields(new, "roles"):
                return
        self.action("write:operators")


def _as(model: Document | None, model_type: type[D]) -> D | None:
    return model if isinstance(model, model_type) else None


def _fields(model: Document, *without: str) -> dict[str, object]:
    dumped = model.model_dump()
    for name in without:
        dumped.pop(name, None)
    return dumped


def _privileges_of(version: Version) -> list[str]:
    manifest = version.genome.tool_manifest or ()
    return [f"tool {t.tool_id}" for t in manifest] + [
        f"permission {p}" for t in manifest for p in t.required_permissions
    ]


def _lowered_risks(baseline: list[Version], new: Version) -> list[str]:
    """Tools the new version declares at a lower risk than any of ``baseline`` did: the runtime
    asks a human for fewer of their calls (a tool's risk is the higher of the manifest's and the
    policy's), so that is a privilege gained too."""
    before: dict[str, Risk] = {}
    for version in baseline:
        for t in version.genome.tool_manifest or ():
            if t.tool_id not in before or _RISKS.index(t.risk) < _RISKS.index(before[t.tool_id]):
                before[t.tool_id] = t.risk
    return [
        f"risk of {t.tool_id} {before[t.tool_id]} -> {t.risk}"
        for t in new.genome.tool_manifest or ()
        if t.tool_id in before and _RISKS.index(t.risk) < _RISKS.index(before[t.tool_id])
    ]
