"""Action requests and action approvals (SPEC 12). Pure: JSON data, bytes and the time in.

An :class:`ActionRequest` is what a runtime asks a human to approve: one tool call of one agent,
bound to the effective policy and the index it was judged against, with a random nonce so each
call's request is distinct; its ``requestId`` is ``sha256:`` + SHA-256 of the RFC 8785 form of
everything else. An action approval is ``{statement, signature}``: the statement names the
request, the decision (APPROVE or REJECT), the approver (``TENANT/OPERATOR``), when it was made
and until when it holds; the signature is an SSHSIG (namespace ``armgit-action``) over the
statement's RFC 8785 form, so ``ssh-keygen -Y verify -n armgit-action`` checks it too.
:func:`check_approval` judges one approval against a request and the index's operators table.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring as _quote
from typing import Any, NamedTuple

from armgit.core.canonical import CanonicalizationError, sha256_digest, to_canonical_json
from armgit.crypto.sshkeys import CryptoPrivateKey, PublicKey, SshKeyError, parse_public_key
from armgit.crypto.sshsig import SignatureError, parse_armored, sign, verify
from armgit.errors import ArmgitError

ACTION_NAMESPACE = "armgit-action"
REQUEST_KIND = "ActionRequest"
APPROVE = "APPROVE"
REJECT = "REJECT"
PERMISSION = "approve:actions"
DEFAULT_COUNT = 1
DEFAULT_VALID_FOR = 15 * 60  # seconds
MAX_DOCUMENT = 256 * 1024

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_DURATION = re.compile(r"^([1-9][0-9]{0,6})([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_REQUEST_TEXT = (
    "tenant",
    "environment",
    "template",
    "version",
    "tool",
    "risk",
    "policyDigest",
    "requestedAt",
    "expiresAt",
    "nonce",
)
_REQUEST_OPTIONAL = ("instance", "argsDigest", "indexDigest")
_STATEMENT_FIELDS = frozenset(
    ("requestId", "decision", "approver", "createdAt", "expiresAt", "justification")
)
_APPROVAL_FIELDS = frozenset(("statement", "signature"))


class ActionError(ArmgitError):
    """A request or approval document is malformed; the message says what is wrong."""


def format_time(when: float) -> str:
    """POSIX seconds as RFC 3339 UTC, to the second."""
    return datetime.fromtimestamp(int(when), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: object, what: str) -> float:
    """An RFC 3339 time with a zone as POSIX seconds; :class:`ActionError` otherwise."""
    try:
        if not isinstance(value, str):
            raise ValueError("not a string")
        return _timestamp(value)
    except ValueError as exc:
        raise ActionError(f"{what} is not an RFC 3339 time with a zone ({exc})") from exc


@functools.lru_cache(maxsize=4096)  # requests and approvals of one second share their times
def _timestamp(text: str) -> float:
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("no time zone")
    return parsed.timestamp()


def parse_seconds(text: str) -> int:
    """``30s``, ``15m``, ``12h``, ``7d`` as seconds; raises ``ValueError`` otherwise."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"duration {text!r}: write a number and a unit, like 15m or 2h")
    return int(match.group(1)) * _UNITS[match.group(2)]


def quorum_of(policy: Mapping[str, Any]) -> tuple[int, int]:
    """(count, validFor in seconds) from an effective policy's ``actionApprovals``."""
    rule = policy.get("actionApprovals")
    if not isinstance(rule, Mapping):
        return DEFAULT_COUNT, DEFAULT_VALID_FOR
    count = rule.get("count")
    valid = rule.get("validFor")
    try:
        seconds = parse_seconds(valid) if isinstance(valid, str) else DEFAULT_VALID_FOR
    except ValueError:
        seconds = DEFAULT_VALID_FOR
    return (count if type(count) is int and count >= 1 else DEFAULT_COUNT), seconds


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """One tool call waiting for a human's approval. ``body`` is its JSON form without
    ``requestId``; ``request_id`` the digest of that body's RFC 8785 form."""

    request_id: str
    body: Mapping[str, Any]
    _json: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def create(
        cls,
        *,
        tenant: str,
        environment: str,
        template: str,
        version: str,
        instance: str | None,
        tool: str,
        risk: str,
        policy_digest: str,
        index_version: int,
        index_digest: str | None,
        now: float,
        valid_for: int,
        count: int,
        args_digest: str | None = None,
    ) -> ActionRequest:
        """A new request with a fresh nonce, valid ``valid_for`` seconds from ``now``."""
        if args_digest is not None and not DIGEST.match(args_digest):
            raise ActionError(f"argsDigest {args_digest!r} is not sha256:<64 hex>")
        body: dict[str, Any] = {
            "kind": REQUEST_KIND,
            "tenant": tenant,
            "environment": environment,
            "template": template,
            "version": version,
            "tool": tool,
            "risk": risk,
            "policyDigest": policy_digest,
            "indexVersion": index_version,
            "approvalsNeeded": count,
            "requestedAt": format_time(now),
            "expiresAt": format_time(now + valid_for),
            "nonce": secrets.token_hex(16),
        }
        for key, value in (
            ("instance", instance),
            ("argsDigest", args_digest),
            ("indexDigest", index_digest),
        ):
            if value is not None:
                body[key] = value
        return cls(sha256_digest(to_canonical_json(body)), body)

    def to_json(self) -> dict[str, Any]:
        """The request as a document: ``requestId`` and the body (a new dict each time)."""
        made = self._json
        if made is None:  # made once: a dict's copy is cheaper than building it again
            made = {"requestId": self.request_id, **self.body}
            object.__setattr__(self, "_json", made)
        return dict(made)

    @property
    def expires_at(self) -> float:
        value = self.body["expiresAt"]
        try:
            return _timestamp(value)
        except (TypeError, ValueError):
            return parse_time(value, "expiresAt")  # raises, saying why

    @property
    def requested_at(self) -> float:
        return parse_time(self.body["requestedAt"], "requestedAt")

    def get(self, key: str) -> Any:
        return self.body.get(key)


def parse_request(data: bytes | str | Mapping[str, Any]) -> ActionRequest:
    """A request document (bytes, text or parsed JSON), its ``requestId`` recomputed and
    checked; :class:`ActionError` says what is wrong."""
    document = _document(data, "request")
    body = {k: v for k, v in document.items() if k != "requestId"}
    if body.get("kind") != REQUEST_KIND:
        raise ActionError(f"not an action request (kind: {REQUEST_KIND})")
    for key in _REQUEST_TEXT:
        if not isinstance(body.get(key), str) or not body[key]:
            raise ActionError(f"request: {key} is missing or not a string")
    for key in _REQUEST_OPTIONAL:
        if key in body and not isinstance(body[key], str):
            raise ActionError(f"request: {key} is not a string")
    for key in ("indexVersion", "approvalsNeeded"):
        if type(body.get(key)) is not int:
            raise ActionError(f"request: {key} is missing or not an integer")
    parse_time(body["requestedAt"], "request: requestedAt")
    parse_time(body["expiresAt"], "request: expiresAt")
    try:
        request_id = sha256_digest(to_canonical_json(body))
    except CanonicalizationError as exc:
        raise ActionError(f"request: {exc}") from exc
    if document.get("requestId") != request_id:
        raise ActionError(
            f"request: requestId {document.get('requestId')!r} is not the digest of the "
            f"request ({request_id}): it was edited"
        )
    return ActionRequest(request_id, body)


class ActionApproval(NamedTuple):
    """A parsed action approval: its statement's fields and the armored signature. (A named
    tuple rather than a frozen dataclass: one is made per approval on the runtime's hot path,
    and a frozen dataclass's ``__init__`` costs a microsecond or two.)"""

    request_id: str
    decision: str
    approver: str  # TENANT/OPERATOR
    created_at: float
    expires_at: float
    statement: Mapping[str, Any]
    signature: str

    def to_json(self) -> dict[str, Any]:
        return {"statement": dict(self.statement), "signature": self.signature}


def statement_of(
    request_id: str,
    decision: str,
    approver: str,
    now: float,
    valid_for: int,
    justification: str | None = None,
) -> dict[str, Any]:
    """The statement an approver signs."""
    statement: dict[str, Any] = {
        "requestId": request_id,
        "decision": decision,
        "approver": approver,
        "createdAt": format_time(now),
        "expiresAt": format_time(now + valid_for),
    }
    if justification:
        statement["justification"] = justification
    return statement


def signed_message(statement: Mapping[str, Any]) -> bytes:
    """What the signature covers: the RFC 8785 form of the statement."""
    if type(statement) is dict:
        # text values under the statement's own (ASCII) names, printed in RFC 8785's order;
        # RFC 8785 quotes text as json does (armgit.core.canonical says why)
        get = statement.get
        approver = get("approver")
        created = get("createdAt")
        decision = get("decision")
        expires = get("expiresAt")
        justification = get("justification")
        request_id = get("requestId")
        if (
            type(approver) is str
            and type(created) is str
            and type(decision) is str
            and type(expires) is str
            and type(request_id) is str
            and len(statement) == (5 if justification is None else 6)
            and (justification is None or type(justification) is str)
        ):
            said = "" if justification is None else ',"justification":' + _quote(justification)
            text = (
                f'{{"approver":{_quote(approver)},"createdAt":{_quote(created)},'
                f'"decision":{_quote(decision)},"expiresAt":{_quote(expires)}{said},'
                f'"requestId":{_quote(request_id)}}}'
            )
            try:
                return text.encode("utf-8")
            except UnicodeEncodeError as exc:  # a lone surrogate
                raise CanonicalizationError(f"not canonicalizable JSON data: {exc}") from exc
    return to_canonical_json(dict(statement))


def parse_approval(data: bytes | str | Mapping[str, Any]) -> ActionApproval:
    """An approval document; :class:`ActionError` says what is wrong with its shape."""
    document = data if type(data) is dict else _document(data, "approval")  # only read here
    statement = document.get("statement")
    signature = document.get("signature")
    if document.keys() != _APPROVAL_FIELDS:
        raise ActionError("approval: expected exactly {statement, signature}")
    if not isinstance(statement, dict) or not isinstance(signature, str):
        raise ActionError("approval: statement is an object and signature a string")
    request_id = statement.get("requestId")
    decision = statement.get("decision")
    approver = statement.get("approver")
    if not isinstance(request_id, str) or not DIGEST.match(request_id):
        raise ActionError("approval: statement.requestId is not sha256:<64 hex>")
    if decision not in (APPROVE, REJECT):
        raise ActionError("approval: statement.decision is APPROVE or REJECT")
    if not isinstance(approver, str) or approver.count("/") != 1:
        raise ActionError("approval: statement.approver is TENANT/OPERATOR")
    justification = statement.get("justification")
    if justification is not None and not isinstance(justification, str):
        raise ActionError("approval: statement.justification is a string")
    if not statement.keys() <= _STATEMENT_FIELDS:
        extra = statement.keys() - _STATEMENT_FIELDS
        raise ActionError(f"approval: unknown statement fields {sorted(extra)}")
    created = statement.get("createdAt")
    expires = statement.get("expiresAt")
    try:
        times = (_timestamp(created), _timestamp(expires))
    except (TypeError, ValueError):  # not text, or not a time: say which and why
        parse_time(created, "approval: createdAt")
        parse_time(expires, "approval: expiresAt")
        raise
    return _APPROVAL(ActionApproval, (request_id, decision, approver, *times, statement, signature))


_APPROVAL = tuple.__new__  # an ActionApproval from its fields without NamedTuple's __new__


def _document(data: bytes | str | Mapping[str, Any], what: str) -> dict[str, Any]:
    if isinstance(data, Mapping):
        return dict(data)
    if len(data) > MAX_DOCUMENT:
        raise ActionError(f"the {what} is over {MAX_DOCUMENT} bytes")
    try:
        parsed = json.loads(data, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as exc:
        raise ActionError(f"the {what} is not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ActionError(f"the {what} is not a JSON object")
    return parsed


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {key!r} appears twice")
        result[key] = value
    return result


class Verdict(NamedTuple):
    """How one approval counts: ``problem`` is ``None`` when it counts, else a kebab-case code
    (``wrong-request``, ``wrong-tenant``, ``unknown-approver``, ``unknown-key``,
    ``bad-signature``, ``not-yet-valid``, ``expired``, ``no-permission``, ``already-used``,
    ``malformed``) with ``message``."""

    approver: str
    decision: str | None
    problem: str | None
    message: str


class Operators:
    """A tenant's ``operators`` table of the index, with each key line parsed once."""

    def __init__(self, table: Mapping[str, Any]) -> None:
        self.table = table
        self._keys: dict[str, tuple[PublicKey, ...]] = {}

    def keys(self, name: str) -> tuple[PublicKey, ...]:
        found = self._keys.get(name)
        if found is None:
            lines = self.table.get(name, {}).get("keys", ())
            parsed = []
            for line in lines:
                try:
                    parsed.append(parse_public_key(line))
                except SshKeyError:
                    continue
            found = self._keys[name] = tuple(parsed)
        return found

    def holds(self, name: str, permission: str, now: float) -> bool:
        """Whether ``name`` holds ``permission`` through a role unexpired at ``now``."""
        granted = self.table.get(name, {}).get("permissions", {})
        if granted.get(permission, False) is None:
            return True  # the permission itself, with no expiry: the usual grant
        for grant, expires in granted.items():
            if not _permits(grant, permission):
                continue
            if expires is None:
                return True
            try:
                if parse_time(expires, "expiresAt") > now:
                    return True
            except ActionError:
                continue
        return False


def _permits(granted: str, needed: str) -> bool:
    # as armgit.core.rules.access.permits, which imports the models: admin is every action
    g_action, _, g_resource = granted.partition(":")
    n_action, _, n_resource = needed.partition(":")
    return g_action in ("*", "admin", n_action) and g_resource in ("*", n_resource)


def check_approval(
    approval: ActionApproval | bytes | str | Mapping[str, Any],
    request: ActionRequest,
    operators: Operators,
    now: float,
    spent: bool = False,
) -> Verdict:
    """Whether ``approval`` (parsed, or a document :func:`parse_approval` reads) counts for
    ``request`` at ``now``, and if not, why."""
    if type(approval) is not ActionApproval:
        try:
            approval = parse_approval(approval)  # type: ignore[arg-type]
        except ActionError as exc:
            return Verdict("?", None, "malformed", f"an approval (malformed): {exc}")
    if approval.request_id != request.request_id:
        return _no(
            approval, "wrong-request", f"it approves {approval.request_id}, not this request"
        )
    tenant, _, name = approval.approver.partition("/")
    if tenant != request.body["tenant"]:
        return _no(
            approval, "wrong-tenant", f"the approver is not of tenant {request.body['tenant']!r}"
        )
    if name not in operators.table:
        return _no(approval, "unknown-approver", "no such operator in the index")
    keys = operators.keys(name)
    try:
        verify(approval.signature, signed_message(approval.statement), ACTION_NAMESPACE, keys)
    except (SignatureError, CanonicalizationError) as exc:
        return _signature_problem(approval, keys, name, exc)
    if approval.created_at > now + 300:
        made = approval.statement["createdAt"]
        return _no(approval, "not-yet-valid", f"it was made in the future ({made})")
    if approval.expires_at <= now:
        return _no(approval, "expired", f"it expired at {approval.statement['expiresAt']}")
    if not operators.holds(name, PERMISSION, now):
        return _no(
            approval, "no-permission", f"{name} does not hold {PERMISSION} (or the role expired)"
        )
    if spent:
        return _no(approval, "already-used", "the request was already decided with approvals once")
    who = approval.approver
    return _VERDICT(Verdict, (who, approval.decision, None, f"{approval.decision} by {who}"))


_VERDICT = tuple.__new__  # a Verdict from its fields without NamedTuple's __new__


def approves(given: object, request: ActionRequest, operators: Operators, now: float) -> str | None:
    """The approver, when ``given`` is an approval document of the usual shape (as
    ``armgit actions approve`` writes it, parsed) that counts as an APPROVE of ``request`` at
    ``now``; ``None`` for anything else, which :func:`check_approval` judges and says why.

    The one-approval case in one pass: what :func:`parse_approval` and :func:`check_approval`
    check, each as strictly (single use aside: the caller's claim decides it), with the
    signature last, as it costs the most."""
    if type(given) is not dict or len(given) != 2:
        return None
    statement = given.get("statement")
    signature = given.get("signature")
    if type(statement) is not dict or type(signature) is not str:
        return None
    get = statement.get
    request_id = get("requestId")
    approver = get("approver")
    justification = get("justification")
    if (
        type(request_id) is not str
        or request_id != request.request_id
        or len(request_id) != 71
        or request_id[:7] != "sha256:"
        or request_id[7:].strip(_HEX)  # DIGEST, without the regular expression engine
        or get("decision") != APPROVE
        or type(approver) is not str
        or approver.count("/") != 1
        or (justification is not None and type(justification) is not str)
        or not statement.keys() <= _STATEMENT_FIELDS
    ):
        return None
    tenant, _, name = approver.partition("/")
    if tenant != request.body["tenant"] or name not in operators.table:
        return None
    try:
        created_at = _timestamp(get("createdAt"))
        expires_at = _timestamp(get("expiresAt"))
    except (TypeError, ValueError):
        return None
    if created_at > now + 300 or expires_at <= now:
        return None
    granted = operators.table[name].get("permissions")
    if not (type(granted) is dict and granted.get(PERMISSION, False) is None) and not (
        operators.holds(name, PERMISSION, now)
    ):
        return None  # neither the usual grant (the permission, no expiry) nor another that holds
    keys = operators._keys.get(name)
    try:
        verify(
            signature,
            signed_message(statement),
            ACTION_NAMESPACE,
            keys if keys is not None else operators.keys(name),
        )
    except (SignatureError, CanonicalizationError):
        return None
    return approver


_HEX = "0123456789abcdef"


def _no(approval: ActionApproval, problem: str, message: str) -> Verdict:
    who = approval.approver
    return Verdict(who, approval.decision, problem, f"approval by {who} ({problem}): {message}")


def sign_approval(
    request_id: str,
    decision: str,
    approver: str,
    private_key: bytes | CryptoPrivateKey,
    *,
    now: float,
    valid_for: int = DEFAULT_VALID_FOR,
    justification: str | None = None,
) -> ActionApproval:
    """A signed action approval (``decision`` APPROVE or REJECT) of ``request_id`` by
    ``approver`` (``TENANT/OPERATOR``) with an OpenSSH private key (file bytes or a key)."""
    statement = statement_of(request_id, decision, approver, now, valid_for, justification)
    signature = sign(signed_message(statement), private_key, ACTION_NAMESPACE)
    return parse_approval({"statement": statement, "signature": signature})


def _signature_problem(
    approval: ActionApproval, keys: tuple[PublicKey, ...], name: str, error: Exception
) -> Verdict:
    """Why a signature did not verify: a key that is not the approver's, or a bad signature
    (parsed again only here, on the failing path)."""
    try:
        signer = parse_armored(approval.signature).public_key
    except SignatureError as exc:
        return _no(approval, "bad-signature", str(exc))
    if not any(key.blob == signer for key in keys):
        return _no(approval, "unknown-key", f"it is signed with a key that is not {name}'s")
    return _no(approval, "bad-signature", str(error))
