"""Effective policy, not files (SPEC section 4a): widening what a deployed version or an instance
may do needs a ``POLICY_AUTONOMY_INCREASE`` approval, whichever file the change edits.

For one commit (``base`` its parent, ``head`` the commit) and the entities it changed, find the
targets whose effective policy the change can reach, resolve each at both sides with the index's
own resolution (:func:`armgit.core.rules.policy.target_policy`) and gate every target whose
policy lets it do more, as the runtime judges its calls (on the tool manifest of the version it
runs at the head): a higher autonomy tier, a tool it can call that it could not (allowed by the
policy and declared by the manifest), a lower risk for one (the higher of the manifest's and
the policy's), a larger or removed cost limit, a data scope not covered before.

The work follows the change. A changed instance or deployment is its own only target. A changed
attachment (a version's, a template's, an environment's or the tenant's ``policy``) or any change
to a policy file makes the tenant's instances and deployments candidates, narrowed by what
changed where that is known without reading (a deployment's path names its environment and
template).

Targets, as the index has them: every ACTIVE deployment and every instance that is not RETIRED.
A deployment's target is its deployed version in its environment: that version is resolved
there at the parent too, whether or not it was deployed then, so a deployment that becomes
ACTIVE or changes version is compared on the version it now runs (choosing to run another
version is ``DEPLOYMENT_ACTIVATION``'s concern in a protected environment; a version new in the
commit has nothing to compare with). An instance is its own identity, compared with itself at
the parent; a new instance is compared with what its version gets in its environment without
the instance's own ``policy`` (at the commit): creating an instance with a wider policy
attached is the same widening as attaching it to an existing one.

One gate per widened target: its subject is the target (an Instance or a Deployment), its
digest the target's effective policy at the commit (``EffectivePolicy.to_json()["digest"]``,
the digest the index carries), so ``armgit approve TARGET`` signs exactly what will run;
``change.to`` is the policy that grants it, ``change.from`` the one that granted before with
what widened.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from armgit.core.layout import EntityId, version_id
from armgit.core.models import Deployment, Instance, Version
from armgit.core.rules.ceilings import RISK_ORDER, scope_covered
from armgit.core.rules.gates import Gate
from armgit.core.rules.policy import DEFAULT_ACTION_APPROVALS, EffectivePolicy, target_policy
from armgit.core.rules.state import parse_version_ref
from armgit.core.snapshot import View
from armgit.core.timeutil import parse_duration

REQUEST_TYPE = "POLICY_AUTONOMY_INCREASE"
_TEXT_MAX = 4000  # an approval's change.to is at most 4096 characters
# kinds whose ``policy`` field attaches a policy to the targets under them
_ATTACHING = ("Tenant", "Environment", "Template", "Version")


@dataclass(frozen=True, slots=True)
class _Scan:
    """Candidates in ``tenant``, optionally only those of a template, version or environment."""

    tenant: str
    template: str | None = None
    label: str | None = None
    environment: str | None = None

    def covers(self, template: str, label: str, environment: str) -> bool:
        return (
            self.template in (None, template)
            and self.label in (None, label)
            and self.environment in (None, environment)
        )


@dataclass(frozen=True, slots=True)
class _Running:
    """A target at one commit: its environment, the version it runs and its effective policy."""

    environment: str
    template: str
    label: str
    version: Version
    policy: EffectivePolicy


def _usable(policy: EffectivePolicy, version: Version) -> dict[str, int]:
    """The tools ``policy`` lets ``version`` call, as the runtime judges calls, with the risk
    rank of each: allowed by the policy and, where the genome lists its tools, declared there;
    the higher of the manifest's and the policy's risk (``critical`` when neither says)."""
    manifest = version.genome.tool_manifest
    declared = {t.tool_id: t.risk for t in manifest} if manifest is not None else None
    risks: dict[str, int] = {}
    for tool in policy.allowed_tools:
        if declared is not None and tool not in declared:
            continue
        known = [r for r in (policy.tool_risk.get(tool), (declared or {}).get(tool)) if r]
        risks[tool] = max(RISK_ORDER.index(r) for r in known) if known else len(RISK_ORDER) - 1
    return risks


def policy_widenings(base: View, head: View, changed: Iterable[EntityId]) -> list[Gate]:
    """A ``POLICY_AUTONOMY_INCREASE`` gate for every target whose effective policy the change
    from ``base`` to ``head`` widens, sorted by target."""
    targets: set[EntityId] = set()
    scans: set[_Scan] = set()
    for entity_id in changed:
        if entity_id.kind in ("Instance", "Deployment"):
            targets.add(entity_id)
        elif entity_id.kind == "Policy":
            scans.add(_Scan(entity_id.tenant))
        elif entity_id.kind in _ATTACHING and _attached(base, entity_id) != _attached(
            head, entity_id
        ):
            scans.add(_scan_of(entity_id))
    for scan in scans:
        targets |= _candidates(base, head, scan)
    gates = []
    for target in sorted(targets):
        gate = _gate(base, head, target)
        if gate is not None:
            gates.append(gate)
    return gates


def widened(old: EffectivePolicy, new: EffectivePolicy, version: Version) -> list[str]:
    """Every way ``new`` lets ``version`` do more than ``old`` did (empty when no more).

    Both are judged on the same version's tool manifest, the one the target runs at the head:
    what a change of version adds to the manifest is the version's concern
    (``PRIVILEGE_WIDENING``, ``DEPLOYMENT_ACTIVATION``), so returning to an earlier version with
    the same policies (a rollback) is no widening."""
    was, now = _usable(old, version), _usable(new, version)
    if not now:
        return []  # it can call no tool (the empty policy, say): it may do nothing at all
    reasons: list[str] = []
    if new.autonomy_tier > old.autonomy_tier:
        reasons.append(f"autonomy tier {old.autonomy_tier} to {new.autonomy_tier}")
    added = sorted(set(now) - set(was))
    if added:
        reasons.append(f"tools added: {', '.join(added)}")
    for tool in sorted(set(now) & set(was)):
        if now[tool] < was[tool]:
            reasons.append(
                f"risk of {tool} lowered from {RISK_ORDER[was[tool]]} to {RISK_ORDER[now[tool]]}"
            )
    for name, old_limit, new_limit in (
        ("daily tokens", old.daily_tokens, new.daily_tokens),
        ("monthly cost", old.monthly_cost, new.monthly_cost),
    ):
        if old_limit is not None and (new_limit is None or new_limit > old_limit):
            reasons.append(f"{name} {_amount(old_limit)} to {_amount(new_limit)}")
    scopes = [s for s in sorted(new.data_scopes) if not scope_covered(s, tuple(old.data_scopes))]
    if scopes:
        reasons.append(f"data scopes added: {', '.join(scopes)}")
    # fewer approvals for one tool call, or approvals that hold longer (SPEC 12)
    old_count, old_valid = old.action_approvals or DEFAULT_ACTION_APPROVALS
    new_count, new_valid = new.action_approvals or DEFAULT_ACTION_APPROVALS
    if new_count < old_count:
        reasons.append(f"action approvals needed {old_count} to {new_count}")
    if parse_duration(new_valid) > parse_duration(old_valid):
        reasons.append(f"action approvals valid {old_valid} to {new_valid}")
    return reasons


def _amount(limit: float | None) -> str:
    if limit is None:
        return "unlimited"
    return str(int(limit)) if float(limit).is_integer() else str(limit)


def _attached(view: View, entity_id: EntityId) -> str | None:
    entity = view.entity(entity_id)
    name = getattr(entity.model, "policy", None) if entity is not None else None
    return name if isinstance(name, str) else None


def _scan_of(entity_id: EntityId) -> _Scan:
    if entity_id.kind == "Environment":
        return _Scan(entity_id.tenant, environment=entity_id.name)
    if entity_id.kind == "Template":
        return _Scan(entity_id.tenant, template=entity_id.name)
    if entity_id.kind == "Version":
        return _Scan(entity_id.tenant, template=entity_id.template, label=entity_id.name)
    return _Scan(entity_id.tenant)


def _candidates(base: View, head: View, scan: _Scan) -> set[EntityId]:
    """The instances and deployments of ``scan.tenant`` it may cover, at either side."""
    found: set[EntityId] = set()
    for view in (base, head):
        # a scan of one template looks at its deployments and instances only (by name, and
        # through the view's table of instances): not at every one of the tenant's
        if scan.template is not None:
            deployments = view.deployments_of(scan.tenant, scan.template)
            instances = view.instances_naming(scan.tenant, scan.template)
        else:
            deployments = view.ids("Deployment", scan.tenant)
            instances = view.ids("Instance", scan.tenant)
        for deployment_id in deployments:
            environment, _, template = deployment_id.name.partition("/")
            if scan.template not in (None, template) or scan.environment not in (None, environment):
                continue
            deployment = view.get(deployment_id, Deployment)
            if deployment is not None and scan.covers(template, deployment.version, environment):
                found.add(deployment_id)
        for instance_id in instances:
            instance = view.get(instance_id, Instance)
            if instance is None:
                continue
            ref = parse_version_ref(instance.version, scan.tenant)
            if scan.covers(ref.template, ref.label, instance.environment):
                found.add(instance_id)
    return found


def _gate(base: View, head: View, target: EntityId) -> Gate | None:
    if target.kind == "Deployment":
        deployment = head.get(target, Deployment)
        if deployment is None or deployment.status != "ACTIVE":
            return None
        # the deployed version in its environment, as it stood at the parent (deployed or not);
        # resolved there first: a push of a new version deploys one the parent lacks
        where = (target.tenant, deployment.environment, deployment.template, deployment.version)
        before = _resolved(base, *where)
        after = _resolved(head, *where) if before is not None else None
    else:
        after = _running(head, target)
        before = (_running(base, target) or _running(head, target, own=False)) if after else None
    if after is None or before is None:
        return None  # no target now, or a new version: nothing to compare (module docstring)
    reasons = widened(before.policy, after.policy, after.version)
    if not reasons:
        return None
    # change.to, which an approval must repeat, names only what runs after the change (its
    # digest binds the rest), so an approval stays good when the base moves under a pull
    # request; change.from says what ran before and how the new policy is wider
    change_from = f"{_named(before.policy)} (wider: {'; '.join(reasons)})"
    return Gate(
        REQUEST_TYPE,
        target,
        change_from=_text(change_from),
        change_to=_named(after.policy),
        digest=str(after.policy.to_json()["digest"]),
        path=target.path,
        pointer="/policy" if target.kind == "Instance" else "/version",
        environment=after.environment,
    )


def _running(view: View, target: EntityId, *, own: bool = True) -> _Running | None:
    """The instance ``target`` at ``view`` (``None`` if it is none there, or RETIRED);
    ``own=False`` leaves its own ``policy`` out."""
    instance = view.get(target, Instance)
    if instance is None or instance.state == "RETIRED":
        return None
    ref = parse_version_ref(instance.version, target.tenant)
    attached = instance.policy if own else None
    return _resolved(view, target.tenant, instance.environment, ref.template, ref.label, attached)


def _resolved(
    view: View,
    tenant: str,
    environment: str,
    template: str,
    label: str,
    attached: str | None = None,
) -> _Running | None:
    version = view.get(version_id(tenant, template, label), Version)
    if version is None:
        return None
    policy = target_policy(view, tenant, environment, template, version, attached)
    return _Running(environment, template, label, version, policy)


def _text(text: str) -> str:
    return text if len(text) <= _TEXT_MAX else text[: _TEXT_MAX - 3] + "..."


def _named(policy: EffectivePolicy) -> str:
    """The policy that grants (the ceilings that bound it are in its digest)."""
    return policy.sources[0] if policy.sources else "no policy"
