"""Typed change records (SPEC section 6): what one entity's change between two commits means.

Pure: ``derive_changes`` compares an entity in the parent's view and the child's view and returns
drafts (type, tenant, target, payload, and what an approval must bind to have admitted the
change). The history walk that attaches commit, time, author, operator and approvals lives in
:mod:`armgit.audit.query`. Record types are documented in ``docs/audit.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from armgit.core.canonical import genome_hash
from armgit.core.jsondata import JsonObject, JsonValue
from armgit.core.layout import EntityId, version_id
from armgit.core.models import (
    Approval,
    Deployment,
    Document,
    Instance,
    Operator,
    Policy,
    Role,
    Version,
)
from armgit.core.rules.approvals import binds
from armgit.core.rules.change import as_written, entity_digest
from armgit.core.rules.lifecycle import (
    INSTANCE_START,
    VERSION_START,
    instance_path,
    steps,
    version_path,
)
from armgit.core.snapshot import View

# kind -> the word its generic records start with (TEMPLATE_CREATED, ...)
_WORDS = {
    "Registry": "REGISTRY",
    "Tenant": "TENANT",
    "Environment": "ENVIRONMENT",
    "Provider": "PROVIDER",
    "Operator": "OPERATOR",
    "Role": "ROLE",
    "Policy": "POLICY",
    "Template": "TEMPLATE",
    "Version": "VERSION",
    "Instance": "INSTANCE",
    "Deployment": "DEPLOYMENT",
    "Approval": "APPROVAL",
}


_HIDDEN = ("apiVersion", "kind")


@dataclass(frozen=True, slots=True)
class Binding:
    """What an APPROVE statement must name to have admitted a change: the subject's reference,
    the digest of the content, and (where the change has one) the state it moves to."""

    subject: str
    digest: str
    to: str | None = None
    former: str | None = None  # what approvals made before whole-file binding bound

    def admits_change(self, to: str | None) -> bool:
        """Whether an approval of this subject and digest moving to ``to`` is about this change."""
        return self.to is None or to is None or to == self.to


def admitting(binding: Binding, added: Mapping[str, Approval]) -> tuple[str, ...]:
    """The ids, sorted, of the APPROVE statements among ``added`` (what one commit adds, by id)
    that admitted ``binding``'s change. Only a commit's own approvals count: one that was on the
    branch before was spent on an earlier change (docs/approvals.md, rule 8)."""
    return tuple(
        sorted(
            name
            for name, approval in added.items()
            if approval.statement.subject.ref == binding.subject
            and binds(approval.statement, binding.digest, binding.former)
            and binding.admits_change(approval.statement.change.to)
        )
    )


@dataclass(frozen=True, slots=True)
class Draft:
    """A change record before the commit it belongs to is known."""

    type: str
    tenant: str
    target: str
    payload: JsonObject
    binding: Binding | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeRecord:
    """One typed change in the registry's history.

    ``target`` is the entity reference (``arm-dev/customer-support@2.0.0``; for an approval, the
    reference of its subject), ``time`` the commit's committer time (RFC 3339, UTC), ``author``
    the commit author's email, ``operator`` the operator that email maps to in the parent commit
    (``None`` if none), ``approvals`` the ids of APPROVE statements at that commit that name the
    target and bind its content. ``imported``: one of ARM's records an import commit carries
    (:mod:`armgit.audit.imported`), ARM's word rather than derived from the files.
    """

    type: str
    tenant: str
    target: str
    commit: str
    time: str
    author: str
    operator: str | None
    payload: JsonObject
    approvals: tuple[str, ...] = ()
    imported: bool = False

    def to_json(self) -> JsonObject:
        data: JsonObject = {
            "type": self.type,
            "tenant": self.tenant,
            "target": self.target,
            "commit": self.commit,
            "time": self.time,
            "author": self.author,
            "operator": self.operator,
            "payload": self.payload,
            "approvals": list(self.approvals),
        }
        if self.imported:
            data["imported"] = True
        return data


def derive_changes(
    base: View, head: View, entity_id: EntityId, *, genesis: bool = False
) -> list[Draft]:
    """The records for ``entity_id`` between ``base`` (the parent) and ``head``.

    An entity created past its starting state (a squash that creates a version and takes it to
    CANDIDATE) gets a TRANSITIONED record per step of its path, except in the ``genesis``
    commit, which states the registry as it begins and moved nothing.

    An entity whose file is invalid on either side yields nothing (the rules report it)."""
    before, after = base.entity(entity_id), head.entity(entity_id)
    old = before.model if before is not None else None
    new = after.model if after is not None else None
    if (old is None and base.is_broken(entity_id)) or (new is None and head.is_broken(entity_id)):
        return []
    if old is None and new is None:
        return []
    if old is not None and new is not None and _dump(old) == _dump(new):
        return []  # formatting or comments only
    return _Deriver(head, entity_id, old, new, genesis).derive()


class _Deriver:
    def __init__(
        self,
        head: View,
        entity_id: EntityId,
        old: Document | None,
        new: Document | None,
        genesis: bool = False,
    ) -> None:
        self.head = head
        self.genesis = genesis
        self.id = entity_id
        self.old = old
        self.new = new
        self.drafts: list[Draft] = []
        self._written: JsonObject | None = None  # self.new as written, dumped once
        self._digest = ""  # its entity digest, computed once

    def written(self) -> JsonObject:
        """:func:`as_written` of the new entity (its summary and every binding use it)."""
        assert self.new is not None
        if self._written is None:
            self._written = as_written(self.new)
        return self._written

    def add(self, suffix: str, payload: JsonObject, binding: Binding | None = None) -> None:
        self.add_typed(f"{_WORDS[self.id.kind]}_{suffix}", payload, binding)

    def add_typed(
        self,
        record_type: str,
        payload: JsonObject,
        binding: Binding | None = None,
        target: str = "",
    ) -> None:
        self.drafts.append(
            Draft(record_type, self.id.tenant, target or self.id.ref, payload, binding)
        )

    def derive(self) -> list[Draft]:
        old, new = self.old, self.new
        if isinstance(old, Approval) or isinstance(new, Approval):
            self.approval()
        elif old is None and new is not None:
            self.created(new)
        elif new is None and old is not None:
            self.add("DELETED", _summary(old))
        elif old is not None and new is not None:
            self.updated(old, new)
        return self.drafts

    # -- created ------------------------------------------------------------------------------

    def created(self, new: Document) -> None:
        self.add("CREATED", _summary(new, self.written()), self.binding(new, None))
        if isinstance(new, Version) and new.lifecycle != VERSION_START and not self.genesis:
            self.transitions(VERSION_START, new.lifecycle)
        if isinstance(new, Instance) and new.state != INSTANCE_START and not self.genesis:
            self.transitions(INSTANCE_START, new.state)
        if isinstance(new, Deployment) and new.status == "ACTIVE":
            self.add(
                "ACTIVATED",
                {"from": None, "to": new.version, "previousVersion": new.previous_version},
                self.binding(new, new.version),
            )

    # -- updated ------------------------------------------------------------------------------

    def updated(self, old: Document, new: Document) -> None:
        changed = _changes(old, new)
        if isinstance(old, Version) and isinstance(new, Version):
            changed = self.version(old, new, changed)
        elif isinstance(old, Instance) and isinstance(new, Instance):
            changed = self.moved("state", old.state, new.state, changed)
        elif isinstance(old, Deployment) and isinstance(new, Deployment):
            changed = self.deployment(old, new, changed)
        elif isinstance(old, Operator) and isinstance(new, Operator):
            changed = self.identities(old, new, changed)
        elif isinstance(old, Role) and isinstance(new, Role):
            changed = self.permissions(old, new, changed)
        if "policy" in changed and self.id.kind != "Policy":
            self.add_typed("POLICY_ATTACHED", changed.pop("policy"))
        if changed:
            binding = self.binding(new, None)
            if isinstance(old, Policy) and isinstance(new, Policy):
                binding = self.binding(new, str(new.autonomy_tier))
            self.add("UPDATED", {"changed": _json(changed)}, binding)

    def version(
        self, old: Version, new: Version, changed: dict[str, JsonObject]
    ) -> dict[str, JsonObject]:
        if "evaluation" in changed:
            del changed["evaluation"]
            self.add(
                "EVALUATED",
                {
                    "from": old.evaluation.status,
                    "to": new.evaluation.status,
                    "evaluation": _json(new.evaluation.model_dump(mode="json", exclude_none=True)),
                },
            )
        changed = self.moved("lifecycle", old.lifecycle, new.lifecycle, changed)
        if "genome" in changed:
            # the genome is shown by its recomputed digest: a rewritten genome is visible as such
            changed["genome"] = {
                "from": _genome_digest(old),
                "to": _genome_digest(new),
            }
        return changed

    def moved(
        self, field: str, before: str, after: str, changed: dict[str, JsonObject]
    ) -> dict[str, JsonObject]:
        if before != after:
            del changed[field]
            self.transitions(before, after)
        return changed

    def transitions(self, before: str, after: str) -> None:
        """One TRANSITIONED record per step of the path the move took (a squash may move a
        version DRAFT -> TESTING -> CANDIDATE in one commit), each bound to its own step."""
        assert self.new is not None
        if isinstance(self.new, Version):
            path = version_path(before, after, self.new.evaluation.status)
        else:
            path = instance_path(before, after)
        for start, end in steps(path) if path is not None else [(before, after)]:
            self.add("TRANSITIONED", {"from": start, "to": end}, self.binding(self.new, end))

    def deployment(
        self, old: Deployment, new: Deployment, changed: dict[str, JsonObject]
    ) -> dict[str, JsonObject]:
        covered: tuple[str, ...] = ()
        if new.rollback_of is not None and (
            old.rollback_of != new.rollback_of or old.version != new.version
        ):
            self.add(
                "ROLLED_BACK",
                {
                    "from": old.version,
                    "to": new.version,
                    "rollbackOf": new.rollback_of,
                    "reason": new.reason,
                },
                self.binding(new, new.version),
            )
            covered = ("version", "previousVersion", "rollbackOf", "reason", "status")
        elif new.status == "ACTIVE" and (old.status != "ACTIVE" or old.version != new.version):
            self.add(
                "ACTIVATED",
                {
                    "from": old.version if old.status == "ACTIVE" else None,
                    "to": new.version,
                    "previousVersion": new.previous_version,
                },
                self.binding(new, new.version),
            )
            covered = ("version", "previousVersion", "status", "rollbackOf")
        return {k: v for k, v in changed.items() if k not in covered}

    def identities(
        self, old: Operator, new: Operator, changed: dict[str, JsonObject]
    ) -> dict[str, JsonObject]:
        payload: JsonObject = {}
        if "identities" in changed:
            del changed["identities"]
            payload["identities"] = _added_removed(old.identities, new.identities)
        if "sshKeys" in changed:
            del changed["sshKeys"]
            payload["sshKeys"] = _added_removed(
                [_fingerprint(k) for k in old.ssh_keys], [_fingerprint(k) for k in new.ssh_keys]
            )
        if payload:
            self.add_typed("IDENTITY_UPDATED", payload)
        return changed

    def permissions(
        self, old: Role, new: Role, changed: dict[str, JsonObject]
    ) -> dict[str, JsonObject]:
        if "permissions" in changed:
            changed["permissions"] = _added_removed(old.permissions, new.permissions)
        return changed

    # -- approvals ----------------------------------------------------------------------------

    def approval(self) -> None:
        old = self.old if isinstance(self.old, Approval) else None
        new = self.new if isinstance(self.new, Approval) else None
        either = new if new is not None else old
        subject = either.statement.subject.ref if either is not None else self.id.ref
        if old is None and new is not None:
            s = new.statement
            payload: JsonObject = {
                "approval": self.id.name,
                "decision": s.decision,
                "approver": s.approver,
                "change": {"type": s.change.type, "from": s.change.from_, "to": s.change.to},
                "subjectKind": s.subject.kind,
                "digest": s.digest,
                "justification": s.justification,
                "createdAt": s.created_at,
                "expiresAt": s.expires_at,
            }
            self.add_typed("APPROVAL_DECIDED", payload, target=subject)
        elif old is not None and new is None:
            self.add_typed(
                "APPROVAL_DELETED",
                {"approval": self.id.name, "decision": old.statement.decision},
                target=subject,
            )
        elif old is not None and new is not None:
            changed: JsonObject = {"approval": self.id.name}
            changed["changed"] = _json(_changes(old, new))
            self.add_typed("APPROVAL_UPDATED", changed, target=subject)

    # -- what an approval binds -----------------------------------------------------------------

    def binding(self, model: Document, to: str | None) -> Binding | None:
        """What an approval of the new entity binds: its whole file, as the gate binds it
        (armgit.core.rules.change), and the genome hash approvals made before whole-file
        binding bound."""
        assert model is self.new
        if not isinstance(model, Version | Deployment | Instance | Policy):
            return None
        if not self._digest:
            self._digest = entity_digest(model, self.written())
        if isinstance(model, Version):
            return Binding(self.id.ref, self._digest, to, model.genome_hash)
        if isinstance(model, Deployment):
            deployed = self.head.get(
                version_id(self.id.tenant, model.template, model.version), Version
            )
            former = deployed.genome_hash if deployed is not None else None
            return Binding(self.id.ref, self._digest, to, former)
        return Binding(self.id.ref, self._digest, to)


def _dump(model: Document) -> JsonObject:
    return _json(model.model_dump(mode="json", by_alias=True))


def _json(value: object) -> JsonObject:
    assert isinstance(value, dict)
    return value


def _genome_digest(version: Version) -> str:
    """The genome hash recomputed from the genome as written."""
    return genome_hash(version.genome.model_dump(mode="json", by_alias=True, exclude_unset=True))


def _summary(model: Document, written: JsonObject | None = None) -> JsonObject:
    """The entity as written (defaults left out), a genome shown by its hash only;
    ``written``: :func:`as_written` of ``model``, where the caller has it (not changed)."""
    data = dict(written) if written is not None else as_written(model)
    for key in _HIDDEN:
        data.pop(key, None)
    if isinstance(model, Version):
        data.pop("genome", None)
    if isinstance(model, Operator) and "sshKeys" in data:
        data["sshKeys"] = [_fingerprint(k) for k in model.ssh_keys]
    return data


def _changes(old: Document, new: Document) -> dict[str, JsonObject]:
    """``field -> {"from", "to"}`` for every top-level field whose value differs."""
    before, after = _dump(old), _dump(new)
    changed: dict[str, JsonObject] = {}
    for key in [*before, *(k for k in after if k not in before)]:
        if key in _HIDDEN:
            continue
        if before.get(key) != after.get(key):
            changed[key] = {"from": before.get(key), "to": after.get(key)}
    return changed


def _added_removed(before: object, after: object) -> JsonObject:
    assert isinstance(before, tuple | list)
    assert isinstance(after, tuple | list)
    added: list[JsonValue] = [x for x in after if x not in before]
    removed: list[JsonValue] = [x for x in before if x not in after]
    return {"added": added, "removed": removed}


def _fingerprint(line: str) -> str:
    # imported here: cryptography takes tens of ms to load, and few changes touch an SSH key
    from armgit.crypto.sshkeys import SshKeyError, parse_public_key

    try:
        return parse_public_key(line).fingerprint
    except SshKeyError:
        return "sha256:" + hashlib.sha256(line.encode()).hexdigest()
