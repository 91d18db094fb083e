"""Authoring as data: what an ``armgit promote``/``deploy``/``rollback``/``retire``/``instance``
changes, computed from a registry view, with no I/O.

A planner returns a :class:`Plan` (field edits to existing files, new files, a commit message)
or a :class:`Refusal` that says why the move is not possible and what would be. Serializing the
edits so that comments and layout survive is :mod:`armgit.authoring.edit`'s job; checking the
result with the pipeline's own rules is :mod:`armgit.authoring.apply`'s.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field

from armgit.core.jsondata import JsonValue
from armgit.core.layout import EntityId, deployment_id, named_id
from armgit.core.models import Deployment, Environment, Instance, Version
from armgit.core.rules.lifecycle import (
    INSTANCE_TRANSITIONS,
    LIFECYCLE_ORDER,
    VERSION_TRANSITIONS,
    is_deployable,
    lifecycle_rank,
)
from armgit.core.rules.state import parse_version_ref
from armgit.core.snapshot import View


@dataclass(frozen=True, slots=True)
class SetField:
    """Set the value at ``key`` (a path of mapping keys); a missing key is inserted after the
    key ``after`` of its mapping when that exists, else at the mapping's end."""

    key: tuple[str, ...]
    value: JsonValue
    after: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteField:
    """Remove ``key`` if present."""

    key: tuple[str, ...]


FieldEdit = SetField | DeleteField


@dataclass(frozen=True, slots=True)
class FileEdit:
    """Field edits to one existing registry file."""

    path: str
    edits: tuple[FieldEdit, ...]


@dataclass(frozen=True, slots=True)
class NewFile:
    """A new registry file: its path and its document (key order as it will be written)."""

    path: str
    data: dict[str, JsonValue]


@dataclass(frozen=True, slots=True)
class NewArtifact:
    """A new artifact file (prompt bundle, tool manifest) beside a template."""

    path: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Plan:
    """One authoring change: ``message`` names it (and is the commit message's subject)."""

    message: str
    subject: EntityId
    edits: tuple[FileEdit, ...] = ()
    created: tuple[NewFile, ...] = ()
    artifacts: tuple[NewArtifact, ...] = ()
    notes: tuple[str, ...] = ()
    body: str = ""

    @property
    def paths(self) -> list[str]:
        return [
            *(e.path for e in self.edits),
            *(c.path for c in self.created),
            *(a.path for a in self.artifacts),
        ]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a change cannot be made as asked, and what to do instead."""

    message: str
    reasons: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class EvaluationInput:
    """An evaluation to record on a version (``status`` NOT_RUN, RUNNING, PASS or FAIL)."""

    status: str
    suite: str | None = None
    report_digest: str | None = None
    report_uri: str | None = None
    evaluated_at: str | None = None


def apply_edits(data: JsonValue, edits: Sequence[FieldEdit]) -> JsonValue:
    """``data`` with ``edits`` applied (what the edited file must read back as)."""
    result = copy.deepcopy(data)
    for edit in edits:
        target = result
        for part in edit.key[:-1]:
            assert isinstance(target, dict)
            nxt = target.get(part)
            if not isinstance(nxt, dict):
                if isinstance(edit, DeleteField):
                    break
                nxt = target[part] = {}
            target = nxt
        else:
            assert isinstance(target, dict)
            if isinstance(edit, SetField):
                target[edit.key[-1]] = copy.deepcopy(edit.value)
            else:
                target.pop(edit.key[-1], None)
    return result


def _missing(entity_id: EntityId, view: View) -> Refusal:
    if view.is_broken(entity_id):
        return Refusal(
            f"{entity_id.ref} has problems in {entity_id.path}: run `armgit validate` and fix "
            "them first"
        )
    return Refusal(
        f"no such {entity_id.kind.lower()}: {entity_id.ref} (expected at {entity_id.path})"
    )


def _next(lifecycle: str) -> str:
    forward = [s for s in LIFECYCLE_ORDER if lifecycle_rank(s) > lifecycle_rank(lifecycle)]
    return next((s for s in forward if s in VERSION_TRANSITIONS[lifecycle]), "...")


def _legal(transitions: dict[str, frozenset[str]], state: str) -> str:
    return ", ".join(sorted(transitions[state])) or "none (RETIRED is final)"


# -- versions ---------------------------------------------------------------------------------


def plan_promote(
    view: View, vid: EntityId, to: str, evaluation: EvaluationInput | None = None
) -> Plan | Refusal:
    """Move a version one legal lifecycle step to ``to``, recording ``evaluation`` if given."""
    version = view.get(vid, Version)
    if version is None:
        return _missing(vid, view)
    current = version.lifecycle
    edits: list[FieldEdit] = []
    if evaluation is not None:
        edits += _evaluation_edits(evaluation)
    if to == current:
        if evaluation is None:
            return Refusal(f"{vid.ref} is already {current}")
    elif to not in VERSION_TRANSITIONS[current]:
        return Refusal(
            f"{vid.ref} cannot go from {current} to {to}",
            (f"from {current} it may go to: {_legal(VERSION_TRANSITIONS, current)}",),
        )
    status = evaluation.status if evaluation is not None else version.evaluation.status
    if (current, to) == ("TESTING", "CANDIDATE") and status != "PASS":
        return Refusal(
            f"{vid.ref} cannot become CANDIDATE: TESTING -> CANDIDATE needs evaluation PASS, "
            f"and it has {status}",
            (
                "record a passing evaluation with the promotion: --evaluation PASS --suite NAME "
                "--report-digest sha256:...",
            ),
        )
    if to != current:
        edits.insert(0, SetField(("lifecycle",), to, after="parent"))
    if to == current:
        message = f"evaluate {vid.ref}: {status}"
    else:
        message = f"promote {vid.ref} {current} -> {to}"
    if evaluation is not None and to != current:
        message += f" (evaluation {evaluation.status})"
    return Plan(message, vid, (FileEdit(vid.path, tuple(edits)),))


def _evaluation_edits(evaluation: EvaluationInput) -> list[FieldEdit]:
    fields = {
        "status": evaluation.status,
        "suite": evaluation.suite,
        "reportDigest": evaluation.report_digest,
        "reportUri": evaluation.report_uri,
        "evaluatedAt": evaluation.evaluated_at,
    }
    edits: list[FieldEdit] = []
    previous = "status"
    for name, value in fields.items():
        if value is None:
            edits.append(DeleteField(("evaluation", name)))  # stale evidence of another run
        else:
            edits.append(SetField(("evaluation", name), value, after=previous))
            previous = name
    return edits


def plan_retire(view: View, entity_id: EntityId) -> Plan | Refusal:
    """A version or an instance to RETIRED, in one legal step only."""
    if entity_id.kind == "Instance":
        return plan_instance(view, entity_id, "RETIRED", verb="retire")
    if entity_id.kind != "Version":
        return Refusal(f"only versions and instances are retired, not {entity_id.kind.lower()}s")
    version = view.get(entity_id, Version)
    if version is None:
        return _missing(entity_id, view)
    current = version.lifecycle
    if current == "RETIRED":
        return Refusal(f"{entity_id.ref} is already RETIRED")
    if "RETIRED" not in VERSION_TRANSITIONS[current]:
        return Refusal(
            f"{entity_id.ref} is {current} and cannot be retired in one step",
            (
                f"from {current} it may go to: {_legal(VERSION_TRANSITIONS, current)}",
                "only a DEPRECATED version retires; once it is APPROVED, deprecate it first: "
                f"armgit promote {entity_id.ref} --to DEPRECATED",
            ),
        )
    return Plan(
        f"retire {entity_id.ref} {current} -> RETIRED",
        entity_id,
        (FileEdit(entity_id.path, (SetField(("lifecycle",), "RETIRED"),)),),
    )


# -- instances --------------------------------------------------------------------------------

INSTANCE_VERBS = {
    "activate": "ACTIVE",
    "reactivate": "ACTIVE",
    "resume": "ACTIVE",
    "pause": "PAUSED",
    "readonly": "READONLY",
    "drain": "DRAINING",
    "quarantine": "QUARANTINED",
    "retire": "RETIRED",
}


def plan_instance(view: View, iid: EntityId, to: str, verb: str = "instance") -> Plan | Refusal:
    """Move an instance one legal step to ``to``."""
    instance = view.get(iid, Instance)
    if instance is None:
        return _missing(iid, view)
    current = instance.state
    if to == current:
        return Refusal(f"{iid.ref} is already {current}")
    if to not in INSTANCE_TRANSITIONS[current]:
        return Refusal(
            f"{iid.ref} cannot go from {current} to {to}",
            (f"from {current} it may go to: {_legal(INSTANCE_TRANSITIONS, current)}",),
        )
    return Plan(
        f"{verb} {iid.ref} {current} -> {to}",
        iid,
        (FileEdit(iid.path, (SetField(("state",), to),)),),
    )


# -- deployments ------------------------------------------------------------------------------


def plan_deploy(
    view: View, vid: EntityId, environment: str, requested_by: str | None
) -> Plan | Refusal:
    """Make ``vid`` the active version of its template in ``environment``."""
    version = view.get(vid, Version)
    if version is None:
        return _missing(vid, view)
    env = _environment(view, vid.tenant, environment)
    if isinstance(env, Refusal):
        return env
    if not is_deployable(version.lifecycle, env.min_lifecycle):
        return Refusal(
            f"{vid.ref} is {version.lifecycle}; environment {environment!r} takes "
            f"{env.min_lifecycle} or later (and never RETIRED)",
            (f"promote it first: armgit promote {vid.ref} --to {_next(version.lifecycle)}",),
        )
    did = deployment_id(vid.tenant, environment, vid.template)
    existing = view.get(did, Deployment)
    if existing is None and view.is_broken(did):
        return _missing(did, view)
    label = vid.name
    if existing is not None and existing.status == "ACTIVE" and existing.version == label:
        return Refusal(f"{vid.ref} is already the active deployment in {environment!r}")
    message = f"deploy {vid.ref} to {environment}"
    files: list[FileEdit] = []
    created: tuple[NewFile, ...] = ()
    if existing is None:
        data: dict[str, JsonValue] = {
            "apiVersion": "armgit/v1",
            "kind": "Deployment",
            "template": vid.template,
            "environment": environment,
            "version": label,
            "status": "ACTIVE",
        }
        if requested_by is not None:
            data["requestedBy"] = requested_by
        created = (NewFile(did.path, data),)
    else:
        message += f" (replaces {existing.version})"
        edits: list[FieldEdit] = [
            SetField(("version",), label),
            SetField(("previousVersion",), existing.version, after="version"),
            SetField(("status",), "ACTIVE", after="previousVersion"),
            DeleteField(("rollbackOf",)),
            DeleteField(("reason",)),
        ]
        edits.append(_requester(requested_by))
        files.append(FileEdit(did.path, tuple(edits)))
    rebinds, notes = _rebind(view, vid.tenant, vid.template, environment, label)
    return Plan(message, did, (*files, *rebinds), created, notes=notes)


def plan_rollback(
    view: View,
    tenant: str,
    template: str,
    environment: str,
    reason: str | None,
    requested_by: str | None,
) -> Plan | Refusal:
    """Return a deployment to its ``previousVersion``, naming the version backed out."""
    env = _environment(view, tenant, environment)
    if isinstance(env, Refusal):
        return env
    did = deployment_id(tenant, environment, template)
    deployment = view.get(did, Deployment)
    if deployment is None:
        return _missing(did, view)
    if deployment.status != "ACTIVE":
        return Refusal(
            f"{tenant}/{template} has no active deployment in {environment!r} "
            f"(status {deployment.status})"
        )
    previous = deployment.previous_version
    if previous is None:
        return Refusal(
            f"{tenant}/{template} in {environment!r} has no previousVersion to roll back to",
            (
                f"deploy the version you want instead: armgit deploy {tenant}/{template}@LABEL "
                f"--env {environment}",
            ),
        )
    current = deployment.version
    target = view.get(EntityId("Version", tenant, previous, template), Version)
    if target is not None and not is_deployable(target.lifecycle, env.min_lifecycle):
        return Refusal(
            f"cannot roll back to {template}@{previous}: it is {target.lifecycle}, and "
            f"{environment!r} takes {env.min_lifecycle} or later (and never RETIRED)",
            (
                f"deploy another version instead: armgit deploy {tenant}/{template}@LABEL "
                f"--env {environment}",
            ),
        )
    why = reason or f"rollback of {current}"
    edits: list[FieldEdit] = [
        SetField(("version",), previous),
        SetField(("previousVersion",), current, after="version"),
        SetField(("status",), "ACTIVE", after="previousVersion"),
        _requester(requested_by),
        SetField(("rollbackOf",), current),
        SetField(("reason",), why, after="rollbackOf"),
    ]
    rebinds, notes = _rebind(view, tenant, template, environment, previous)
    return Plan(
        f"rollback {tenant}/{template} in {environment}: {current} -> {previous}",
        did,
        (FileEdit(did.path, tuple(edits)), *rebinds),
        notes=notes,
        body=f"Reason: {why}",
    )


def _requester(requested_by: str | None) -> FieldEdit:
    if requested_by is None:
        return DeleteField(("requestedBy",))  # whoever asked for the replaced version did not
    return SetField(("requestedBy",), requested_by, after="rolloutPolicy")


def _environment(view: View, tenant: str, name: str) -> Environment | Refusal:
    env = view.get(named_id("Environment", tenant, name), Environment)
    if env is not None:
        return env
    known = ", ".join(e.name for e in view.ids("Environment", tenant)) or "none"
    return Refusal(f"no environment {name!r} in tenant {tenant!r} (environments: {known})")


def _rebind(
    view: View, tenant: str, template: str, environment: str, label: str
) -> tuple[list[FileEdit], tuple[str, ...]]:
    """Point the live instances of ``template`` in ``environment`` at ``label``."""
    edits, notes = [], []
    for iid in view.ids("Instance", tenant):
        instance = view.get(iid, Instance)
        if instance is None or instance.environment != environment or instance.state == "RETIRED":
            continue
        ref = parse_version_ref(instance.version, tenant)
        if ref.template != template or ref.label == label:
            continue
        head = instance.version.rpartition("@")[0]
        edits.append(FileEdit(iid.path, (SetField(("version",), f"{head}@{label}"),)))
        notes.append(f"instance {iid.name} now runs {template}@{label} (was {ref.label})")
    return edits, tuple(notes)
