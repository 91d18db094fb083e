"""Verify index bytes and compile them for lookups. Pure: bytes and the time in, no I/O.

Like python-tuf's trusted metadata set, this module decides what to trust; fetching and
remembering what was accepted live in :mod:`armgit.runtime.client`.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, NoReturn

from armgit.core.index.assemble import WHOLE_REGISTRY
from armgit.core.index.compact import INDEX_FORMAT
from armgit.core.index.decide import DENY, Decision, Target, compile_target, decide, refuse_tool
from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE
from armgit.gcpause import collector_paused
from armgit.runtime.envelope import parse_envelope
from armgit.runtime.errors import IndexRefused, NotFound
from armgit.runtime.payload import read_payload, wrong_format
from armgit.runtime.trust import TrustRoot

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_MAX_REFUSALS = 4096
_ZERO = 0  # the default usage: ``x is _ZERO`` is how evaluate() spots a call that gives none


def plain_call(
    instance: str | None,
    estimated_cost: float,
    daily_tokens_used: int,
    monthly_cost_used: float,
    data_scope: object,
) -> bool:
    """Whether an ``evaluate`` call gives no instance, usage figures or data scope: the
    runtime's common call, which :meth:`VerifiedIndex.plain_decision` answers."""
    return (
        instance is None
        and estimated_cost is _ZERO
        and daily_tokens_used is _ZERO
        and monthly_cost_used is _ZERO
        and data_scope is None
    )


@dataclass(frozen=True, slots=True)
class Accepted:
    """The version and payload digest of the last accepted index (kept in the state directory,
    one per registry and scope: see :func:`scope_key`)."""

    version: int
    digest: str


def scope_key(registry: str, scope: Iterable[str]) -> str:
    """What a rollback floor is kept under: the registry's id and the tenants of the scope
    (``*`` for the whole registry). Each published file has its own version counter, so a
    floor is never shared between scopes: another tenant's index cannot raise this one's."""
    return registry + "/" + ",".join(sorted(scope))


def parse_scope(payload: Mapping[str, Any]) -> tuple[str, ...]:
    """The payload's ``scope.tenants`` (``("*",)`` for the whole registry); an index from before
    scopes were written covers exactly the tenants it holds."""
    scope = payload.get("scope")
    if scope is None:
        tenants = payload["tenants"]
        if not isinstance(tenants, dict):
            raise ValueError("tenants is an object")
        return tuple(sorted(tenants))
    names = scope.get("tenants") if isinstance(scope, dict) else None
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(n, str) and n for n in names)
        or (WHOLE_REGISTRY in names and len(names) > 1)
    ):
        raise ValueError('scope is {"tenants": ["*"]} or {"tenants": [tenant, ...]}')
    return tuple(sorted(names))


def covers(scope: tuple[str, ...], tenant: str) -> bool:
    """Whether an index of ``scope`` speaks for ``tenant``."""
    return scope == (WHOLE_REGISTRY,) or tenant in scope


@dataclass(frozen=True, slots=True)
class Resolution:
    """What runs where: the deployed version of a template in an environment, with its genome
    (a private copy), genome hash and effective policy (index JSON form, with ``digest``)."""

    tenant: str
    environment: str
    template: str
    version: str
    lifecycle: str
    genome: dict[str, Any]
    genome_hash: str
    policy: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "environment": self.environment,
            "template": self.template,
            "version": self.version,
            "lifecycle": self.lifecycle,
            "genomeHash": self.genome_hash,
            "genome": self.genome,
            "policy": self.policy,
        }


def parse_time(value: object) -> float:
    """An RFC 3339 time with a zone, as a POSIX timestamp."""
    if not isinstance(value, str):
        raise ValueError("a time is an RFC 3339 string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return parsed.timestamp()


class VerifiedIndex:
    """A verified index, compiled so that :meth:`evaluate` is a few dict lookups. Immutable."""

    __slots__ = (
        "_answers",
        "_deployments",
        "_instance_targets",
        "_instances",
        "_refusals",
        "_targets",
        "digest",
        "expires",
        "payload",
        "registry",
        "scope",
        "version",
    )

    def __init__(self, payload: dict[str, Any], digest: str) -> None:
        self.payload = payload
        self.digest = digest
        self.version: int = payload["version"]
        self.expires: float = parse_time(payload["expires"])
        self.registry: str = payload["registry"]
        self.scope: tuple[str, ...] = parse_scope(payload)
        # what each target is made of, checked at load; compiled on first use (a fleet's index
        # has many targets, a runtime asks about few)
        self._deployments: dict[tuple[str, str, str], _Deployed] = {}
        self._instances: dict[tuple[str, str], _Deployed] = {}
        self._targets: dict[tuple[str, str, str], Target | str] = {}
        self._instance_targets: dict[tuple[str, str], Target | str] = {}
        # (tenant, environment, template, tool, risk) -> the answer of each compiled target's
        # Target.plain (never changed once here), for plain_decision: one lookup
        self._answers: dict[tuple[str, str, str | None, str, str | None], Decision] = {}
        self._refusals = 0  # answers kept for tools a policy does not name (_MAX_REFUSALS)
        for tenant, data in payload["tenants"].items():
            self._compile_tenant(tenant, data)

    @property
    def scope_key(self) -> str:
        """The key of this index's rollback floor (:func:`scope_key`)."""
        return scope_key(self.registry, self.scope)

    @property
    def issued_at(self) -> float:
        """When the index was signed (POSIX seconds)."""
        return parse_time(self.payload["issuedAt"])

    def time_left(self, now: float) -> float:
        """Seconds until the index expires (negative once it has)."""
        return self.expires - now

    def _compile_tenant(self, tenant: str, data: Mapping[str, Any]) -> None:
        versions: Mapping[str, Any] = data["versions"]
        policies = {ref: _policy(ref, body) for ref, body in data["policies"].items()}
        approvals: Mapping[str, Any] = data["approvals"]
        deployments = self._deployments
        for environment, by_template in data["deployments"].items():
            for template, deployment in by_template.items():
                version = versions[template + "@" + deployment["version"]]
                policy = policies.get(deployment["policy"])
                if policy is None:
                    _no_policy(f"{tenant}/deployment/{environment}/{template}", deployment)
                for name in deployment["approvals"]:
                    if name not in approvals:
                        raise ValueError(
                            f"{tenant}/deployment/{environment}/{template}: approval {name!r} "
                            "is not in the tenant's table"
                        )
                deployments[(tenant, environment, template)] = _Deployed(
                    environment, deployment, version, policy, None, None
                )
        for name, instance in data["instances"].items():
            version = versions[instance["template"] + "@" + instance["version"]]
            policy = policies.get(instance["policy"])
            if policy is None:
                _no_policy(f"{tenant}/instance/{name}", instance)
            state = instance["state"]
            blocked = readonly = None
            if state == "READONLY":
                readonly = f"instance {name!r} is READONLY: only low-risk read-only tools"
            elif state != "ACTIVE":
                blocked = f"instance {name!r} is {state}: only ACTIVE instances act"
            self._instances[(tenant, name)] = _Deployed(
                instance["environment"], instance, version, policy, blocked, readonly
            )

    def resolve(self, tenant: str, environment: str, template: str) -> Resolution:
        """The version of ``template`` deployed (ACTIVE) in ``environment``; :class:`NotFound`
        when there is none."""
        found = self._deployments.get((tenant, environment, template))
        if found is None:
            raise NotFound(
                f"no active deployment of {tenant}/{template} in environment {environment!r}"
            )
        _, deployment, version, policy, _, _ = found
        return Resolution(
            tenant=tenant,
            environment=environment,
            template=template,
            version=deployment["version"],
            lifecycle=version["lifecycle"],
            genome=copy.deepcopy(version["genome"]),
            genome_hash=version["genomeHash"],
            policy=copy.deepcopy(policy),
        )

    def target(
        self, tenant: str, environment: str, template: str | None, instance: str | None
    ) -> Target | str:
        """The compiled target of a deployed template or an instance, or why there is none."""
        if instance is not None:
            place = (tenant, instance)
            compiled = self._instance_targets.get(place)
            if compiled is None:
                found = self._instances.get(place)
                if found is None:
                    return f"no instance {tenant}/instance/{instance} in the index"
                compiled = _compiled(f"{tenant}/instance/{instance}", found)
                self._instance_targets[place] = compiled  # a benign race: the same either way
            if self._instances[place].environment != environment:
                where = self._instances[place].environment
                return f"instance {instance!r} runs in {where!r}, not {environment!r}"
            return compiled
        key = (tenant, environment, template or "")
        target = self._targets.get(key)
        if target is not None:
            return target
        found = self._deployments.get(key)
        if found is None:
            return f"no active deployment of {tenant}/{template} in environment {environment!r}"
        subject = f"{tenant}/{environment}/{template}@{found.entry['version']}"
        compiled = _compiled(subject, found)
        if isinstance(compiled, Target):  # a benign race: two threads may compile the same
            answers = self._answers
            for tool, risks in compiled.plain.items():
                for risk, decision in risks.items():
                    answers[(tenant, environment, key[2], tool, risk)] = decision
        self._targets[key] = compiled
        return compiled

    def evaluate(
        self,
        tenant: str,
        environment: str,
        *,
        template: str | None = None,
        instance: str | None = None,
        tool: str,
        risk: str | None = None,
        estimated_cost: float = 0,
        daily_tokens_used: int = 0,
        monthly_cost_used: float = 0,
        data_scope: str | Iterable[str] | None = None,
    ) -> Decision:
        """Decide a tool call (see :func:`armgit.core.index.decide.decide`); never raises."""
        if plain_call(instance, estimated_cost, daily_tokens_used, monthly_cost_used, data_scope):
            return self.plain_decision(tenant, environment, template, tool, risk)
        return self._decide(
            tenant,
            environment,
            template,
            instance,
            tool,
            risk,
            estimated_cost,
            daily_tokens_used,
            monthly_cost_used,
            data_scope,
        )

    def plain_decision(
        self, tenant: str, environment: str, template: str | None, tool: str, risk: str | None
    ) -> Decision:
        """:meth:`evaluate` of a call to a deployed template without usage figures or data
        scope, the runtime's common call: for a target compiled already, a tool its policy
        names and a known risk, its precomputed answer (one lookup); else the long way."""
        try:
            decision = self._answers.get((tenant, environment, template, tool, risk))
            if decision is not None:
                return decision
            target = self._targets.get((tenant, environment, template))  # type: ignore[arg-type]
        except TypeError:  # an unhashable argument: the long way says what is wrong
            target = None
        if (
            type(target) is Target
            and type(tool) is str
            and target.blocked is None
            and tool not in target.plain
        ):
            refused = refuse_tool(target, tool)
            if self._refusals < _MAX_REFUSALS:  # kept, up to a bound: callers name any tool
                self._refusals += 1
                self._answers[(tenant, environment, template, tool, risk)] = refused
            return refused
        return self._decide(tenant, environment, template, None, tool, risk, 0, 0, 0, None)

    def _decide(
        self,
        tenant: str,
        environment: str,
        template: str | None,
        instance: str | None,
        tool: str,
        risk: str | None,
        estimated_cost: float,
        daily_tokens_used: int,
        monthly_cost_used: float,
        data_scope: str | Iterable[str] | None,
    ) -> Decision:
        try:
            target = self.target(tenant, environment, template, instance)
        except TypeError:  # an unhashable name
            why = "evaluation error (TypeError): failing closed"
            return Decision(DENY, None, (why,), None, None)
        if isinstance(target, str):
            return Decision(DENY, None, (target,), None, None)
        return decide(
            target,
            tool,
            risk=risk,
            estimated_cost=estimated_cost,
            daily_tokens_used=daily_tokens_used,
            monthly_cost_used=monthly_cost_used,
            data_scope=data_scope,
        )


def _no_policy(where: str, entry: Mapping[str, Any]) -> NoReturn:
    raise ValueError(f"{where}: policy {entry['policy']!r} is not in the tenant's table")


def _policy(ref: str, body: object) -> dict[str, Any]:
    """A table entry in the index JSON form of an effective policy, with its ``digest`` (the
    reader hashed each entry and added it)."""
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("allowedTools", []), list)
        or not isinstance(body.get("digest"), str)
    ):
        raise ValueError(f"policies[{ref!r}] is not an object with allowedTools")
    return body


class _Deployed(NamedTuple):
    """A deployment or instance as the index has it, with its version and effective policy."""

    environment: str
    entry: Mapping[str, Any]
    version: Mapping[str, Any]
    policy: dict[str, Any]
    blocked: str | None  # an instance that is not ACTIVE: why every call is denied
    readonly: str | None  # a READONLY instance: why all but low-risk read-only tools are denied


def _compiled(subject: str, found: _Deployed) -> Target | str:
    """The compiled target, or why it cannot be compiled (every call to it is then DENY)."""
    try:
        return compile_target(
            subject,
            found.policy,
            found.version["genome"],
            policy_digest=found.policy["digest"],
            genome_digest=found.version["genomeHash"],
            blocked=found.blocked,
            readonly=found.readonly,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return f"{subject}: its policy in the index is malformed ({exc}): failing closed"


def verify_index(
    data: bytes,
    trust: TrustRoot,
    *,
    now: float,
    last: Accepted | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    floors: Mapping[str, Accepted] | None = None,
    tenant: str | None = None,
) -> VerifiedIndex:
    """Verify raw envelope bytes against ``trust`` at time ``now`` (POSIX seconds).

    Checks, in order: size, envelope shape, exact payloadType, signatures from ``threshold``
    distinct trusted keys (key ids are hints only), the payload parsed from the signed bytes
    with duplicate keys refused and every genome hash and policy digest recomputed from its
    canonical slice, ``expires`` after ``now``, the scope covering ``tenant`` (when given),
    ``version`` above ``last`` and above ``floors[scope_key]`` (or equal with the same
    digest). Raises :class:`IndexRefused` with the reason.
    """
    if len(data) > max_bytes:
        raise IndexRefused("too-large", f"{len(data)} bytes is over the cap of {max_bytes}")
    with collector_paused():
        return _verify(data, trust, now, last, floors or {}, tenant)


def check_floor(version: int, digest: str, last: Accepted | None) -> None:
    """Refuse (``rollback``) a version below ``last``, or equal to it with another digest."""
    if last is not None and (
        version < last.version or (version == last.version and digest != last.digest)
    ):
        raise IndexRefused(
            "rollback",
            f"version {version} ({digest}) does not follow the last accepted version "
            f"{last.version} ({last.digest})",
        )


def _verify(
    data: bytes,
    trust: TrustRoot,
    now: float,
    last: Accepted | None,
    floors: Mapping[str, Accepted],
    tenant: str | None,
) -> VerifiedIndex:
    envelope = parse_envelope(data, INDEX_PAYLOAD_TYPE)
    trust.require(envelope, "the index")
    # hashlib lets go of the GIL: the payload's digest is computed on another core meanwhile
    hashed: list[str] = []
    hashing = threading.Thread(
        target=lambda: hashed.append(hashlib.sha256(envelope.payload).hexdigest()),
        name="armgit-index-digest",
    )
    try:
        hashing.start()
    except RuntimeError:  # no thread to be had: hash here
        hashing.run()
    try:
        payload = read_payload(envelope.payload)
    finally:
        if hashing.ident is not None:
            hashing.join()
    digest = "sha256:" + hashed[0]
    try:
        if not isinstance(payload, dict) or payload.get("kind") != "Index":
            raise ValueError("the payload is not an armgit index (kind: Index)")
        if payload.get("format", 1) != INDEX_FORMAT:
            raise ValueError(wrong_format(payload.get("format", 1)))
        version = payload["version"]
        if type(version) is not int or version < 1:
            raise ValueError("version is a positive integer")
        expires = parse_time(payload["expires"])
        scope = parse_scope(payload)
        registry = payload["registry"]
        if not isinstance(registry, str):
            raise ValueError("registry is a string")
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexRefused("malformed-payload", str(exc)) from exc
    if expires <= now:
        raise IndexRefused("expired", f"the index expired at {payload['expires']}")
    if tenant is not None and not covers(scope, tenant):
        raise IndexRefused(
            "wrong-scope",
            f"the index covers {', '.join(scope)}, not tenant {tenant!r} (this runtime's)",
        )
    check_floor(version, digest, last)
    check_floor(version, digest, floors.get(scope_key(registry, scope)))
    try:
        return VerifiedIndex(payload, digest)
    except IndexRefused:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise IndexRefused("malformed-payload", f"{type(exc).__name__}: {exc}") from exc
