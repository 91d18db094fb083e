"""Approvals (SPEC section 5): which gated changes have enough valid approvals.

An approval counts only if its signature verifies against a key of its approver in the parent
commit (or, for an attested platform review, against a trusted attestor key); the approver
holds the rule's permission there; the approver is not the change's author; it names the gated
subject and change and binds the exact content proposed; it is within its validity window, which
is no longer than the rule allows; and the same approver did not reject it afterwards.

A change to what the registry trusts (REGISTRY_TRUST_CHANGE, subject ``registry``) belongs to no
tenant: its approvals live in their approvers' tenants, and count only from the registry admins
of the parent commit (``registryAdmins``, ``TENANT/OPERATOR``), by their own SSH signature.
``admin:registry`` is held exactly by the registry admins, whatever the tenants' roles say.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from armgit.core.canonical import to_canonical_json
from armgit.core.findings import Finding
from armgit.core.jsondata import JsonValue
from armgit.core.layout import EntityId, named_id
from armgit.core.models import Approval, Instance, Operator, Registry
from armgit.core.models.approval import Statement
from armgit.core.models.registry import ApprovalRule
from armgit.core.rules.access import REGISTRY_PERMISSION, Actor, holds, is_actor, registry_admins
from armgit.core.rules.gates import Gate
from armgit.core.rules.reviewers import id_identity, is_reviewer
from armgit.core.rules.trust import trust_changes
from armgit.core.snapshot import View
from armgit.core.timeutil import parse_duration, parse_time

CLOCK_SKEW = timedelta(minutes=5)

# Approvals made before this moment bound a version's genome hash; since then they bind the
# subject's whole file (docs/approvals.md, "What an approval binds"). Each approval is judged by
# the binding of its time, so the history an earlier armgit admitted stays verified, and nobody
# can make a new genome-only approval count: the approver signs the time, and an approval is
# valid for no longer than its rule allows.
WHOLE_FILE_BINDING_SINCE = datetime(2026, 12, 6, tzinfo=UTC)


def statement_data(statement: Statement) -> JsonValue:
    """The statement as written in its file (what was signed)."""
    data: JsonValue = statement.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return data


def statement_message(statement: Statement) -> bytes:
    """The signed message: RFC 8785 canonical JSON of the statement."""
    return to_canonical_json(statement_data(statement))


def approval_id(statement: Statement) -> str:
    """``YYYYMMDD-<approver>-<10 hex of the statement's digest>``: sortable by day, so a check
    reads only the approvals young enough to count, and bound to the statement."""
    day = statement.created_at[:10].replace("-", "")
    digest = hashlib.sha256(statement_message(statement)).hexdigest()[:10]
    return f"{day}-{statement.approver[:40].rstrip('-')}-{digest}"


def approval_rule(
    registry: Registry | None, request_type: str, tenant: str, environment: str | None
) -> ApprovalRule | None:
    """The most specific rule: tenant and environment, then tenant, then neither."""
    if registry is None:
        return None
    best: tuple[int, ApprovalRule] | None = None
    for rule in registry.approval_rules:
        if rule.request_type != request_type:
            continue
        if rule.tenant not in (None, tenant):
            continue
        if rule.environment is not None and rule.environment != environment:
            continue
        score = (rule.tenant is not None) * 2 + (rule.environment is not None)
        if best is None or score > best[0]:
            best = (score, rule)
    return best[1] if best else None


def effective_rule(
    registry: Registry | None, request_type: str, tenant: str, environment: str | None
) -> ApprovalRule:
    """The rule that applies (:func:`approval_rule`), or the strictest default: one approval
    with ``approve:versions`` (``admin:registry`` for the registry's trust), valid 48 hours."""
    rule = approval_rule(registry, request_type, tenant, environment)
    if rule is None:
        permission = (
            REGISTRY_PERMISSION if request_type == "REGISTRY_TRUST_CHANGE" else "approve:versions"
        )
        return ApprovalRule.model_validate(
            {"requestType": request_type, "permission": permission, "expiresIn": "48h"}
        )
    return rule


def may_approve(
    view: View, tenant: str, operator: Operator, permission: str, now: datetime
) -> bool:
    """Whether ``operator`` of ``tenant`` holds ``permission`` at ``view``: ``admin:registry``
    exactly when listed in ``registryAdmins`` (and not disabled), others through its roles."""
    if permission == REGISTRY_PERMISSION:
        return (tenant, operator.name) in _admin_names(view)
    return holds(view, tenant, operator, permission, now)


@dataclass
class GateStatus:
    """Where one gate stands: how many approvals it needs and which ones count."""

    gate: Gate
    required: int
    permission: str
    expires_in: str
    approved_by: list[str] = field(default_factory=list)
    rejected_by: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (approval id, why)
    eligible: list[str] = field(default_factory=list)

    @property
    def satisfied(self) -> bool:
        return len(self.approved_by) >= self.required and not self.rejected_by


class _Judge:
    def __init__(self, base: View, head: View, author: Actor | None, now: datetime) -> None:
        self.base = base
        self.head = head
        self.author = author
        self.now = now
        self.registry = base.get(EntityId("Registry"), Registry)
        self.admins = _admin_names(base)

    def rule_for(self, request_type: str, tenant: str, environment: str | None) -> ApprovalRule:
        return effective_rule(self.registry, request_type, tenant, environment)

    def approvals(self, tenant: str, window: timedelta) -> list[tuple[str, Approval]]:
        oldest = (self.now - window - CLOCK_SKEW).strftime("%Y%m%d")
        newest = (self.now + CLOCK_SKEW).strftime("%Y%m%d")
        found = []
        for approval_id_ in self.head.ids("Approval", tenant):
            day = approval_id_.name[:8]
            if not (day.isdigit() and oldest <= day <= newest):
                continue
            approval = self.head.get(approval_id_, Approval)
            if approval is not None:
                found.append((approval_id_.name, approval))
        return found

    def landed_before(self, tenant: str, name: str) -> bool:
        """Whether approval ``name`` is already in ``base``: it landed with an earlier change
        (approval files are never edited or deleted), so it cannot admit this one; without
        this, an approval of 2.0.0 -> 2.1.0 would admit the same deployment again after a
        rollback, for as long as it is unexpired."""
        return self.base.files.read(named_id("Approval", tenant, name).path) is not None

    def refusal(self, approval: Approval, rule: ApprovalRule, tenant: str) -> str | None:
        """Why an approval does not count now (``None`` when it does), whatever it approves."""
        return self.defect(approval, rule, tenant) or self.untimely(approval, rule)

    def defect(self, approval: Approval, rule: ApprovalRule, tenant: str) -> str | None:
        """Why an approval could never count, at any time (``None`` when it could)."""
        s = approval.statement
        operator = self.base.get(named_id("Operator", tenant, s.approver), Operator)
        if operator is None:
            return f"approver {s.approver!r} is not an operator of {tenant!r} in the parent commit"
        if self.author is not None and self._is_author(operator):
            return f"{s.approver} is the author of the change: four eyes, another must approve"
        if s.subject.kind == "Registry" and s.review is not None:
            return (
                "a change to what the registry trusts needs a registry admin's own SSH "
                "signature (armgit approve registry), not an attested review"
            )
        why = self._signature(approval, operator)
        if why is not None:
            return why
        if s.subject.kind == "Registry" and not self.is_admin(tenant, operator):
            return (
                f"{tenant}/{s.approver} is not a registry admin (registryAdmins in armgit.yaml) "
                "in the parent commit"
            )
        if not may_approve(self.base, tenant, operator, rule.permission, self.now):
            return f"{s.approver} does not hold {rule.permission} in {tenant!r}"
        try:
            created, expires = parse_time(s.created_at), parse_time(s.expires_at)
        except ValueError:
            return "its times are not RFC 3339"
        if expires - created > parse_duration(rule.expires_in) + CLOCK_SKEW:
            return f"valid for longer than the rule's {rule.expires_in}"
        return None

    def is_admin(self, tenant: str, operator: Operator) -> bool:
        return (tenant, operator.name) in self.admins

    def tenants_of(self, gate: Gate) -> list[str]:
        """Where the approvals of ``gate`` live: its tenant's folder, or for the registry's
        trust, the folders of the tenants that hold a registry admin."""
        if gate.subject.tenant:
            return [gate.subject.tenant]
        return sorted({tenant for tenant, _ in self.admins})

    def untimely(self, approval: Approval, rule: ApprovalRule) -> str | None:
        """Why an approval is not valid now: not yet, or no longer (``None`` when it is).
        Call after :meth:`defect`, which refuses malformed times."""
        s = approval.statement
        if parse_time(s.created_at) > self.now + CLOCK_SKEW:
            return f"created in the future ({s.created_at})"
        if parse_time(s.expires_at) <= self.now:
            return f"expired at {s.expires_at}"
        return None

    def _is_author(self, operator: Operator) -> bool:
        assert self.author is not None
        return is_actor(operator, self.author)

    def _signature(self, approval: Approval, operator: Operator) -> str | None:
        # imported here: most pushes verify no signature, and cryptography is slow to import
        from armgit.crypto.sshkeys import SshKeyError, parse_public_key
        from armgit.crypto.sshsig import APPROVAL_NAMESPACE, SignatureError, verify

        s = approval.statement
        if s.review is not None:
            attestors = self.registry.attestors if self.registry is not None else ()
            lines = [a.public_key for a in attestors if a.name == s.review.attestor]
            if not lines:
                return f"attestor {s.review.attestor!r} is not trusted by armgit.yaml"
            r = s.review
            if not is_reviewer(operator, r.platform, r.login, r.user_id):
                account = f"{r.platform}:{r.login}" + (
                    f" ({id_identity(r.platform, r.user_id)})" if r.user_id else ""
                )
                return f"{account} is not an identity of {s.approver}"
        else:
            lines = list(operator.ssh_keys)
            if not lines:
                return f"{s.approver} has no SSH key in the parent commit"
        try:
            keys = [parse_public_key(line) for line in lines]
            verify(approval.signature, statement_message(s), APPROVAL_NAMESPACE, keys)
        except (SignatureError, SshKeyError) as exc:
            return f"signature does not verify: {exc}"
        return None


def evaluate_gates(
    gates: Sequence[Gate], base: View, head: View, author: Actor | None, now: datetime
) -> list[GateStatus]:
    """Where each gate stands, from the approval files at ``head`` judged by ``base``."""
    judge = _Judge(base, head, author, now)
    statuses = []
    for gate in gates:
        rule = judge.rule_for(gate.request_type, gate.subject.tenant, gate.environment)
        required = gate.required if gate.required is not None else rule.count
        eligible = _eligible(judge, gate, rule.permission)
        if gate.subject.kind == "Registry" and not eligible and _adds_admins_only(judge, head):
            required = 0  # nobody else to ask yet: the way to four eyes (docs/approvals.md)
        status = GateStatus(gate, required, rule.permission, rule.expires_in)
        latest: dict[str, tuple[str, str]] = {}  # approver -> (createdAt, decision)
        found = [
            (tenant, name, approval)
            for tenant in judge.tenants_of(gate)
            for name, approval in judge.approvals(tenant, parse_duration(rule.expires_in))
        ]
        for tenant, name, approval in found:
            s = approval.statement
            if (
                s.subject.kind != gate.subject.kind
                or s.subject.ref != gate.subject.ref
                or s.change.type != gate.request_type
            ):
                continue
            if not binds(s, gate.digest, gate.former_digest) or (
                gate.change_to and s.change.to != gate.change_to
            ):
                status.refused.append((name, _other_content(s, gate)))
                continue
            why = judge.refusal(approval, rule, tenant)
            if why is None and s.decision == "APPROVE" and judge.landed_before(tenant, name):
                why = (
                    "it was already on the branch before this change: an approval admits the "
                    "change it lands with, once; ask for a new one"
                )
            if why is not None:
                status.refused.append((name, why))
                continue
            approver = s.approver if gate.subject.tenant else f"{tenant}/{s.approver}"
            previous = latest.get(approver)
            if (
                previous is None
                or s.created_at > previous[0]
                or (s.created_at == previous[0] and s.decision == "REJECT")  # a tie rejects
            ):
                latest[approver] = (s.created_at, s.decision)
        status.approved_by = sorted(a for a, (_, d) in latest.items() if d == "APPROVE")
        status.rejected_by = sorted(a for a, (_, d) in latest.items() if d == "REJECT")
        status.eligible = eligible
        statuses.append(status)
    return statuses


def binds(statement: Statement, digest: str, former_digest: str | None) -> bool:
    """Whether ``statement`` binds the content a gate binds: ``digest`` (the subject's whole
    proposed file) or, for an approval made before :data:`WHOLE_FILE_BINDING_SINCE`,
    ``former_digest`` (the genome hash). Shared by the gates and the audit's record links."""
    if statement.digest == digest:
        return True
    return (
        former_digest is not None
        and statement.digest == former_digest
        and _before_whole_file_binding(statement)
    )


def _before_whole_file_binding(statement: Statement) -> bool:
    try:
        return parse_time(statement.created_at) < WHOLE_FILE_BINDING_SINCE
    except ValueError:
        return False


def _other_content(statement: Statement, gate: Gate) -> str:
    """Why an approval of the gate's subject and request type does not count for its content."""
    if gate.former_digest is not None and statement.digest == gate.former_digest:
        return (
            "it binds only the genome hash, as approvals made before armgit bound the whole "
            f"subject file ({WHOLE_FILE_BINDING_SINCE:%Y-%m-%d}) did; re-approve the proposed "
            f"{gate.subject.ref} (armgit approve)"
        )
    if statement.digest != gate.digest:
        return (
            f"it approves other content than proposed: {gate.subject.ref} was edited after it "
            "was approved (or the approval is of another proposal); re-approve the file as it "
            "stands (armgit approve)"
        )
    return f"it approves {statement.change.to}, and the change is to {gate.change_to}"


def _eligible(judge: _Judge, gate: Gate, permission: str) -> list[str]:
    own = gate.subject.tenant  # "" for the registry: its admins, named TENANT/OPERATOR
    candidates = [(own, i.name) for i in judge.base.ids("Operator", own)] if own else judge.admins
    names = []
    for tenant, name in candidates:
        operator = judge.base.get(named_id("Operator", tenant, name), Operator)
        if operator is None or (judge.author is not None and judge._is_author(operator)):
            continue
        if not own and not judge.is_admin(tenant, operator):
            continue
        if may_approve(judge.base, tenant, operator, permission, judge.now):
            names.append(name if own else f"{tenant}/{name}")
    return names


def _admin_names(view: View) -> list[tuple[str, str]]:
    """The registry admins of ``view`` as ``(tenant, operator name)``."""
    return [(tenant, operator.name) for tenant, operator in registry_admins(view)]


def _adds_admins_only(judge: _Judge, head: View) -> bool:
    """Whether the only change to what the registry trusts, from the base to ``head``, is
    registry admins added."""
    new = head.get(EntityId("Registry"), Registry)
    if judge.registry is None or new is None:
        return False
    changed = {c.field for c in trust_changes(judge.registry, new)}
    grown = set(judge.registry.registry_admins) <= set(new.registry_admins)
    return changed <= {"registryAdmins"} and grown


def gate_findings(statuses: Iterable[GateStatus]) -> list[Finding]:
    """An ``approval-required`` finding for every gate without enough valid approvals."""
    findings = []
    for status in statuses:
        if status.satisfied:
            continue
        gate = status.gate
        change = f"{gate.change_from} -> {gate.change_to}" if gate.change_from else gate.change_to
        parts = [
            f"{gate.request_type} of {gate.subject.ref} ({change}) needs {status.required} "
            f"approval(s) with {status.permission}; has {len(status.approved_by)}"
        ]
        if status.approved_by:
            parts.append(f"approved by {', '.join(status.approved_by)}")
        if status.rejected_by:
            parts.append(f"REJECTED by {', '.join(status.rejected_by)}")
        parts += [f"{name} does not count: {why}" for name, why in status.refused]
        nobody = (
            "nobody yet (add a second registry admin first)"
            if gate.subject.kind == "Registry"
            else "nobody yet (assign a role with the permission)"
        )
        who = ", ".join(status.eligible) or nobody
        parts.append(f"who may approve: {who} (armgit approve {gate.subject.ref} --key KEY)")
        findings.append(Finding("approval-required", gate.path, "; ".join(parts), gate.pointer))
    return findings


def check_new_approvals(
    added: Iterable[EntityId], base: View, head: View, now: datetime
) -> list[Finding]:
    """``approval-invalid`` for an added approval file that could never count (bad signature,
    unknown approver, missing permission), whatever it approves."""
    judge = _Judge(base, head, None, now)
    findings = []
    for entity_id in added:
        approval = head.get(entity_id, Approval)
        if approval is None:
            continue
        s = approval.statement
        expected = approval_id(s)
        if entity_id.name != expected:
            findings.append(
                Finding(
                    "approval-invalid",
                    entity_id.path,
                    f"an approval's file is named after its statement: {expected}.yaml",
                )
            )
            continue
        environment = _environment_of(s, entity_id.tenant, head)
        scope = "" if s.subject.kind == "Registry" else entity_id.tenant  # registry-wide rules
        rule = judge.rule_for(s.change.type, scope, environment)
        why = judge.defect(approval, rule, entity_id.tenant)  # timeliness is the gate's concern
        if why is not None:
            findings.append(Finding("approval-invalid", entity_id.path, why, "/signature"))
    return findings


def _environment_of(statement: Statement, tenant: str, head: View) -> str | None:
    """The environment a subject lives in, for environment-specific rules (as the gate has it:
    a deployment's from its reference, an instance's from its file)."""
    parts = statement.subject.ref.split("/")
    if statement.subject.kind == "Deployment" and len(parts) == 4:
        return parts[2]
    if statement.subject.kind == "Instance" and len(parts) == 3:
        instance = head.get(named_id("Instance", tenant, parts[2]), Instance)
        return instance.environment if instance is not None else None
    return None
