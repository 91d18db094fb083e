"""The runtime's loop around a policy decision (SPEC 12): action requests, deciding with
approvals, waiting on the spool, and appending to the decision log.

:class:`ActionLoop` is what :class:`armgit.runtime.Runtime` delegates to after the policy has
answered; it holds the spent ids, the spool and the log, and per index a few lookup tables.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from armgit.core.index.decide import ALLOW, DENY, NEEDS_APPROVAL, Decision
from armgit.runtime.actions import (
    DIGEST,
    REJECT,
    ActionApproval,
    ActionError,
    ActionRequest,
    Operators,
    approves,
    check_approval,
    parse_request,
    quorum_of,
)
from armgit.runtime.agents import Agent, instance_name, legacy_ids, resolve_agent
from armgit.runtime.decisions import DecisionLog
from armgit.runtime.records import Call, record_of
from armgit.runtime.spent import SpentIds
from armgit.runtime.spool import Spool
from armgit.runtime.verify import VerifiedIndex

_ISSUED_KEPT = 4096
Approvals = Iterable[ActionApproval | bytes | str | Mapping[str, Any]]
RequestLike = ActionRequest | bytes | str | Mapping[str, Any]


class _Tables:
    """Per index: legacy ids to instance names and each tenant's operators, built on first use."""

    def __init__(self, index: VerifiedIndex) -> None:
        self.digest = index.digest
        self.legacy = legacy_ids(index)
        self.operators: dict[str, Operators] = {
            tenant: Operators(data.get("operators") or {})
            for tenant, data in index.payload["tenants"].items()
        }
        # (tenant, environment, template, instance): the target's template and quorum count
        self.quorums: dict[tuple[str | None, ...], tuple[str, int]] = {}


class DecideRequest(Protocol):
    """How :meth:`ActionLoop.wait` has the runtime decide a call with approvals (no log)."""

    def __call__(
        self, call: Call, risk: str, request: ActionRequest, approvals: Approvals
    ) -> tuple[VerifiedIndex | None, Decision]: ...


class PendingRequest(Mapping[str, Any]):
    """The action request of a NEEDS_APPROVAL (its JSON form), made on first use: most callers
    that get a NEEDS_APPROVAL never read it, and making one (a nonce, RFC 8785, SHA-256) costs
    tens of times a decision. Once made, its fields (nonce included) never change."""

    __slots__ = ("_args", "_made_request")

    def __init__(
        self,
        loop: ActionLoop,
        index: VerifiedIndex,
        decision: Decision,
        call: tuple[str, str, str | None, str | None, str, str | None],
        now: float,
    ) -> None:
        self._args = (loop, index, decision, call, now)
        self._made_request: tuple[ActionRequest, dict[str, Any]] | None = None

    def _made(self) -> dict[str, Any]:
        return self.made()[1]

    def made(self) -> tuple[ActionRequest, dict[str, Any]]:
        """The request and its JSON form, made once."""
        made = self._made_request
        if made is None:
            with _MAKING:
                made = self._made_request
                if made is None:
                    loop, index, decision, call, now = self._args
                    request = loop.create_request(index, decision, Call(*call), now)
                    made = self._made_request = (request, request.to_json())
        return made

    def loop(self) -> ActionLoop:
        """The loop that made this request."""
        return self._args[0]

    def __getitem__(self, key: str) -> Any:
        return self._made()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._made())

    def __len__(self) -> int:
        return len(self._made())

    def __repr__(self) -> str:
        return repr(self._made())


_MAKING = threading.Lock()
_DECISION = tuple.__new__  # a Decision from its fields without NamedTuple's __new__


def pending(
    loop: ActionLoop,
    index: VerifiedIndex,
    decision: Decision,
    call: tuple[str, str, str | None, str | None, str, str | None],
    now: float,
) -> Decision:
    """``decision`` (a NEEDS_APPROVAL) with its action request, made when first read."""
    d = decision
    request = PendingRequest(loop, index, d, call, now)
    return _DECISION(Decision, (d[0], d[1], d[2], d[3], d[4], request, ()))


class ActionLoop:
    """Requests, approvals, spent ids, the spool and the decision log of one runtime."""

    def __init__(
        self,
        *,
        spent: SpentIds,
        spool: Spool | None = None,
        log: DecisionLog | None = None,
    ) -> None:
        self.spent = spent
        self.spool = spool
        self.log = log
        self._tables: _Tables | None = None
        self._lock = threading.Lock()
        # requests this runtime made, by id: one given back equal to its body needs no rehash
        self._issued: dict[str, Mapping[str, Any]] = {}

    @classmethod
    def open(
        cls,
        state_dir: str | Path | None,
        spool: str | Path | None,
        decision_log: str | Path | None,
    ) -> ActionLoop:
        """The loop of a runtime: spent ids in ``state_dir`` (else in memory), the spool and
        the decision log where given."""
        return cls(
            spent=SpentIds(state_dir),
            spool=Spool(spool) if spool is not None else None,
            log=DecisionLog(decision_log) if decision_log is not None else None,
        )

    def tables(self, index: VerifiedIndex) -> _Tables:
        tables = self._tables
        if tables is None or tables.digest != index.digest:
            with self._lock:
                tables = self._tables
                if tables is None or tables.digest != index.digest:
                    tables = self._tables = _Tables(index)
        return tables

    # -- legacy agents -----------------------------------------------------------------------

    def instance_name(self, index: VerifiedIndex, tenant: str, ref: str) -> str:
        """``ref`` when it names an instance, else the instance whose legacyAgentId it is."""
        data = index.payload["tenants"].get(tenant) if type(tenant) is str else None
        if data is not None and type(ref) is str and ref in data["instances"]:
            return ref  # the common case, without building the legacy table
        return instance_name(index, self.tables(index).legacy, tenant, ref)

    def resolve_agent(self, index: VerifiedIndex, tenant: str, ref: str) -> Agent:
        """The instance named ``ref``, or whose ``legacyAgentId`` is ``ref``."""
        return resolve_agent(index, self.tables(index).legacy, tenant, ref)

    # -- approvals ---------------------------------------------------------------------------

    def decide(
        self,
        index: VerifiedIndex,
        decision: Decision,
        call: Call,
        now: float,
        request: RequestLike | None,
        approvals: Approvals | None,
    ) -> Decision:
        """:meth:`settle`, failing closed: any error is a DENY."""
        try:
            return self.settle(index, decision, call, now, request, approvals)
        except ActionError as exc:
            return _deny(decision, str(exc))
        except Exception as exc:  # fail closed, whatever went wrong
            return _deny(decision, f"evaluation error ({type(exc).__name__}): failing closed")

    def wait(
        self,
        decide: DecideRequest,
        request: RequestLike,
        timeout: float,
        poll: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None] = time.sleep,
    ) -> Decision:
        """Submit ``request`` to the spool and poll it for approvals until ``timeout``."""
        if self.spool is None:
            raise ActionError("this runtime has no spool: Runtime(..., spool=DIR)")
        asked = request if isinstance(request, ActionRequest) else parse_request(request)
        self.spool.submit(asked)
        body = asked.body
        instance = body.get("instance")
        call = Call(
            body["tenant"],
            body["environment"],
            None if instance is not None else body["template"],
            instance,
            body["tool"],
            body.get("argsDigest"),
        )
        deadline = clock() + max(0.0, timeout)
        index: VerifiedIndex | None = None
        while True:
            answers = list(self.spool.approvals(asked.request_id))
            if answers:
                index, decision = decide(call, body["risk"], asked, answers)
                if decision.decision != NEEDS_APPROVAL:
                    self.spool.close(asked)
                    self.record(index, decision, call, clock())
                    return decision
            now = clock()
            if now >= deadline or now >= asked.expires_at:
                why = "timed out" if now < asked.expires_at else "expired"
                decision = Decision(
                    DENY,
                    body["risk"],
                    (f"no approval of {asked.request_id} within {timeout:g}s: {why}",),
                    body["policyDigest"],
                    None,
                    asked.to_json(),
                )
                self.spool.close(asked)
                self.record(index, decision, call, now, why.replace(" ", "-"))
                return decision
            sleep(max(0.0, min(poll, deadline - now)))

    def settle(
        self,
        index: VerifiedIndex,
        decision: Decision,
        call: Call,
        now: float,
        request: ActionRequest | bytes | str | Mapping[str, Any] | None,
        approvals: Approvals | None,
    ) -> Decision:
        """The policy's ``decision`` with the loop around it: a NEEDS_APPROVAL gets its action
        request; with ``request`` and ``approvals`` it becomes ALLOW at the quorum, DENY on a
        valid REJECT, and stays NEEDS_APPROVAL (saying why each approval did not count)."""
        if decision.decision != NEEDS_APPROVAL:
            return decision
        if request is None:
            if call.args_digest is not None and not DIGEST.match(call.args_digest):
                return _deny(decision, f"argsDigest {call.args_digest!r} is not sha256:<64 hex>")
            reasons = decision.reasons
            if approvals:
                reasons += ("approvals were given without the request they answer: give it back",)
            return pending(self, index, decision._replace(reasons=reasons), call, now)
        tables = self._tables
        if tables is None or tables.digest != index.digest:
            tables = self.tables(index)
        target = call[:4]  # tenant, environment, template, instance
        quorum = tables.quorums.get(target)
        if quorum is None:
            where = _target(index, call)
            if where is None:  # not reached: a NEEDS_APPROVAL has a target
                return decision
            quorum = tables.quorums[target] = (where[0], quorum_of(where[2])[0])
        template, count = quorum
        try:
            asked = self._request(request)
        except ActionError as exc:
            return _deny(decision, f"the action request is malformed: {exc}")
        body = asked.body
        get = body.get
        if not (  # the request was made for this call: the usual case, without _mismatch's table
            get("tenant") == call.tenant
            and get("environment") == call.environment
            and get("template") == template
            and get("instance") == call.instance
            and get("tool") == call.tool
            and get("argsDigest") == call.args_digest
            and get("risk") == decision.risk
            and get("policyDigest") == decision.policy_digest
        ):
            mismatch = _mismatch(asked, call, template, decision)
            if mismatch is not None:
                why = f"the action request does not match this call: {mismatch}"
                return _deny(decision, why)
        expires_at = asked.expires_at
        if expires_at <= now:
            return _deny(decision, f"the action request expired at {asked.body['expiresAt']}")
        spent = self.spent.is_spent(asked.request_id)
        operators = tables.operators.get(call.tenant) or Operators({})
        if count == 1 and not spent and type(approvals) is list and len(approvals) == 1:
            one = approves(approvals[0], asked, operators, now)  # the usual case, one pass
            if one is not None and self.spent.claim(asked.request_id, expires_at, now):
                reasons = (f"{asked.request_id} approved by {one} (1 of 1 needed)",)
                return _DECISION(Decision, (
                    ALLOW, decision.risk, reasons, decision.policy_digest, decision.genome_digest,
                    asked.to_json(), (one,),
                ))  # fmt: skip
        problems: list[str] = []
        approving: dict[str, None] = {}  # approvers in order, each once
        rejecting: dict[str, None] = {}
        for given in approvals or ():
            verdict = check_approval(given, asked, operators, now, spent)
            if verdict.problem is not None:
                problems.append(verdict.message)
            elif verdict.decision == REJECT:
                rejecting[verdict.approver] = None
            else:
                approving[verdict.approver] = None
        if rejecting:
            who = tuple(rejecting)
            reasons = (f"{asked.request_id} rejected by {', '.join(who)}", *problems)
            return _DECISION(Decision, (
                DENY, decision.risk, reasons, decision.policy_digest, decision.genome_digest,
                asked.to_json(), who,
            ))  # fmt: skip
        approvers = tuple(approving)
        if len(approvers) >= count:
            if not self.spent.claim(asked.request_id, expires_at, now):
                message = f"approval by {', '.join(approvers)}: already-used"
                return _deny(decision, message, asked)
            reasons = (
                f"{asked.request_id} approved by {', '.join(approvers)} "
                f"({len(approvers)} of {count} needed)",
                *problems,
            )
            return _DECISION(Decision, (
                ALLOW, decision.risk, reasons, decision.policy_digest, decision.genome_digest,
                asked.to_json(), approvers,
            ))  # fmt: skip
        reasons = (
            *decision.reasons,
            f"{len(approvers)} of {count} approvals for {asked.request_id}",
            *problems,
        )
        return decision._replace(request=asked.to_json(), reasons=reasons, approvers=approvers)

    def create_request(
        self, index: VerifiedIndex, decision: Decision, call: Call, now: float
    ) -> ActionRequest:
        """A new action request for ``call``, which the policy answered NEEDS_APPROVAL."""
        template, version, policy = _target(index, call) or (call.template or "", "", {})
        count, valid_for = quorum_of(policy)
        created = ActionRequest.create(
            tenant=call.tenant,
            environment=call.environment,
            template=template,
            version=version,
            instance=call.instance,
            tool=call.tool,
            risk=decision.risk or "critical",
            policy_digest=decision.policy_digest or "",
            index_version=index.version,
            index_digest=index.digest,
            now=now,
            valid_for=valid_for,
            count=count,
            args_digest=call.args_digest,
        )
        self._remember(created)
        return created

    def _remember(self, request: ActionRequest) -> None:
        issued = self._issued
        if len(issued) >= _ISSUED_KEPT:
            with self._lock, contextlib.suppress(StopIteration, KeyError, RuntimeError):
                del issued[next(iter(issued))]
        issued[request.request_id] = request.body

    def _request(self, given: RequestLike) -> ActionRequest:
        if type(given) is PendingRequest and given._args[0] is self:
            made = given._made_request  # made here, its fields never change: no rehash
            return made[0] if made is not None else given.made()[0]
        if isinstance(given, ActionRequest):
            return given
        if isinstance(given, Mapping):
            request_id = given.get("requestId")
            known = self._issued.get(request_id) if isinstance(request_id, str) else None
            if known is not None and len(given) == len(known) + 1:
                body = {k: v for k, v in given.items() if k != "requestId"}
                if body == known:
                    return ActionRequest(str(request_id), known)
        return parse_request(given)

    # -- the log -----------------------------------------------------------------------------

    def record(
        self,
        index: VerifiedIndex | None,
        decision: Decision,
        call: Call,
        now: float,
        outcome: str | None = None,
    ) -> None:
        """Append ``decision`` to the decision log (when there is one)."""
        if self.log is None:
            return
        self.log.append(record_of(index, decision, call, now, outcome))


def _target(index: VerifiedIndex, call: Call) -> tuple[str, str, Mapping[str, Any]] | None:
    """(template, version label, effective policy) of the call's target."""
    tenant = index.payload["tenants"].get(call.tenant)
    if tenant is None:
        return None
    if call.instance is not None:
        entry = tenant["instances"].get(call.instance)
        if entry is None:
            return None
        template = entry["template"]
    else:
        template = call.template or ""
        entry = tenant["deployments"].get(call.environment, {}).get(template)
        if entry is None:
            return None
    return template, entry["version"], tenant["policies"].get(entry["policy"], {})


def _mismatch(request: ActionRequest, call: Call, template: str, decision: Decision) -> str | None:
    body = request.body
    expected = {
        "tenant": call.tenant,
        "environment": call.environment,
        "template": template,
        "instance": call.instance,
        "tool": call.tool,
        "argsDigest": call.args_digest,
        "risk": decision.risk,
        "policyDigest": decision.policy_digest,
    }
    for key, value in expected.items():
        if body.get(key) != value:
            return f"{key} is {body.get(key)!r} in the request, {value!r} here"
    return None


def _deny(decision: Decision, why: str, request: ActionRequest | None = None) -> Decision:
    return Decision(
        DENY,
        decision.risk,
        (why,),
        decision.policy_digest,
        decision.genome_digest,
        request.to_json() if request is not None else None,
    )
