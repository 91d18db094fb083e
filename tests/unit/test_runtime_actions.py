"""SPEC 12 in the runtime: action requests, deciding with approvals, spent ids, legacy agents."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from armgit.core.canonical import CanonicalizationError, sha256_digest, to_canonical_json
from armgit.core.index.compact import short_ref
from armgit.crypto.ed25519 import public_key_line
from armgit.runtime import ALLOW, DENY, NEEDS_APPROVAL, NotFound, Runtime, TrustRoot
from armgit.runtime.actions import (
    APPROVE,
    REJECT,
    ActionError,
    parse_approval,
    parse_request,
    sign_approval,
    signed_message,
)
from armgit.runtime.spent import SpentIds
from tests.index_helpers import NOW, example_payload, sign

INDEX_KEY = Ed25519PrivateKey.generate()
ALICE = Ed25519PrivateKey.generate()
BOB = Ed25519PrivateKey.generate()
MALLORY = Ed25519PrivateKey.generate()
CALL: dict[str, Any] = {"template": "customer-support", "tool": "refund_issue"}


def payload(count: int | None = None, **operators: Any) -> dict[str, Any]:
    data = example_payload()
    tenant = data["tenants"]["arm-dev"]
    tenant["operators"] = operators or {
        "alice": {"keys": [public_key_line(ALICE.public_key())], "permissions": {"*:*": None}},
        "bob": {
            "keys": [public_key_line(BOB.public_key())],
            "permissions": {"approve:actions": "2027-06-01T00:00:00Z"},
        },
        "carol": {
            "keys": [public_key_line(MALLORY.public_key())],
            "permissions": {"approve:versions": None},
        },
        "dave": {
            "keys": [public_key_line(MALLORY.public_key())],
            "permissions": {"approve:actions": "2027-01-01T00:00:00Z"},
        },
    }
    if count is not None:
        for digest, old in list(tenant["policies"].items()):
            del tenant["policies"][digest]
            policy = {**old, "actionApprovals": {"count": count, "validFor": "1h"}}
            new = short_ref(sha256_digest(to_canonical_json(policy)))
            tenant["policies"][new] = policy
            for table in (*tenant["deployments"].values(), tenant["instances"]):
                for entry in table.values():
                    if entry["policy"] == digest:
                        entry["policy"] = new
    return data


def runtime(
    data: dict[str, Any] | None = None, clock: list[float] | None = None, **kw: Any
) -> Runtime:
    trust = TrustRoot.from_public_keys([public_key_line(INDEX_KEY.public_key())])
    now = clock if clock is not None else [NOW]
    rt = Runtime(trust, clock=lambda: now[0], **kw)
    rt.load_bytes(sign(data if data is not None else payload(), [INDEX_KEY]))
    return rt


def approve(
    request: Mapping[str, Any], who: str, key: Ed25519PrivateKey, **kw: Any
) -> dict[str, Any]:
    kw.setdefault("now", NOW)
    decision = kw.pop("decision", APPROVE)
    return sign_approval(request["requestId"], decision, who, key, **kw).to_json()


def test_a_needs_approval_carries_a_request_whose_id_is_its_digest() -> None:
    rt = runtime()
    digest = "sha256:" + "ab" * 32
    first = rt.evaluate("arm-dev", "prod", **CALL, args_digest=digest)
    second = rt.evaluate("arm-dev", "prod", **CALL, args_digest=digest)
    assert first.decision == NEEDS_APPROVAL
    assert first.request is not None
    request = dict(first.request)
    body = {k: v for k, v in request.items() if k != "requestId"}
    assert request["requestId"] == sha256_digest(to_canonical_json(body))
    assert request["argsDigest"] == digest
    assert request["tool"] == "refund_issue"
    assert request["risk"] == "critical"
    assert request["version"] == "2.0.0"
    assert request["indexVersion"] == 1
    assert request["expiresAt"] == "2027-01-15T08:15:00Z"  # the default 15 minutes
    assert second.request is not None
    assert second.request["requestId"] != request["requestId"]
    assert parse_request(json.dumps(request)).request_id == request["requestId"]
    edited = {**request, "tool": "kb_lookup"}
    with pytest.raises(ActionError, match="edited"):
        parse_request(edited)
    # ALLOW and DENY carry none
    assert (
        rt.evaluate("arm-dev", "prod", template="customer-support", tool="kb_lookup").request
        is None
    )


def test_a_malformed_args_digest_fails_closed() -> None:
    decision = runtime().evaluate("arm-dev", "prod", **CALL, args_digest="md5:abc")
    assert decision.decision == DENY
    assert "argsDigest" in decision.reasons[0]


def test_a_valid_approval_allows_once() -> None:
    rt = runtime()
    request = rt.evaluate("arm-dev", "prod", **CALL).request
    assert request is not None
    approval = approve(request, "arm-dev/alice", ALICE)
    allowed = rt.evaluate("arm-dev", "prod", **CALL, request=request, approvals=[approval])
    assert allowed.decision == ALLOW, allowed.reasons
    assert allowed.approvers == ("arm-dev/alice",)
    again = rt.evaluate("arm-dev", "prod", **CALL, request=request, approvals=[approval])
    assert again.decision == NEEDS_APPROVAL
    assert any("already-used" in r for r in again.reasons)


def test_a_valid_reject_denies() -> None:
    rt = runtime()
    request = rt.evaluate("arm-dev", "prod", **CALL).request
    assert request is not None
    approvals = [
        approve(request, "arm-dev/alice", ALICE),
        approve(request, "arm-dev/bob", BOB, decision=REJECT, justification="no refunds today"),
    ]
    denied = rt.evaluate("arm-dev", "prod", **CALL, request=request, approvals=approvals)
    assert denied.decision == DENY
    assert "rejected by arm-dev/bob" in denied.reasons[0]


@pytest.mark.parametrize(
    ("who", "key", "kw", "problem"),
    [
        ("arm-dev/carol", MALLORY, {}, "no-permission"),
        ("arm-dev/dave", MALLORY, {}, "no-permission"),  # the role expired
        ("arm-dev/alice", MALLORY, {}, "unknown-key"),
        ("arm-dev/zed", MALLORY, {}, "unknown-approver"),
        ("other/alice", ALICE, {}, "wrong-tenant"),
        ("arm-dev/alice", ALICE, {"now": NOW - 3600, "valid_for": 600}, "expired"),
        ("arm-dev/alice", ALICE, {"now": NOW + 3600}, "not-yet-valid"),
    ],
)
def test_approvals_that_do_not_count_say_why(
    who: str, key: Ed25519PrivateKey, kw: dict[str, Any], problem: str
) -> None:
    rt = runtime()
    request = rt.evaluate("arm-dev", "prod", **CALL).request
    assert request is not None
    approval = approve(request, who, key, **kw)
    decision = rt.evaluate("arm-dev", "prod", **CALL, request=request, approvals=[approval])
    assert decision.decision == NEEDS_APPROVAL
    assert any(f"({problem})" in r for r in decision.reasons), decision.reasons


def test_wrong_request_edited_statement_and_garbage_never_count() -> None:
    rt = runtime()
    request = rt.evaluate("arm-dev", "prod", **CALL).request
    other = rt.evaluate("arm-dev", "prod", **CALL).request
    assert request is not None
    assert other is not None
    wrong = approve(other, "arm-dev/alice", ALICE)
    edited = approve(request, "arm-dev/alice", ALICE, decision=REJECT)
    edited["statement"]["decision"] = APPROVE
    garbage = b'{"statement": 1}'
    decision = rt.evaluate(
        "arm-dev", "prod", **CALL, request=request, approvals=[wrong, edited, garbage]
    )
    assert decision.decision == NEEDS_APPROVAL
    text = " | ".join(decision.reasons)
    assert "(wrong-request)" in text
    assert "(malformed)" in text
    assert "(bad-signature)" in text


def test_a_quorum_counts_distinct_operators() -> None:
    rt = runtime(payload(count=2))
    first = rt.evaluate("arm-dev", "prod", **CALL)
    request = first.request
    assert request is not None
    assert request["approvalsNeeded"] == 2
    assert request["expiresAt"] == "2027-01-15T09:00:00Z"
    alice = approve(request, "arm-dev/alice", ALICE)
    one = rt.evaluate("arm-dev", "prod", **CALL, request=request, approvals=[alice, alice])
    assert one.decision == NEEDS_APPROVAL
    assert any("1 of 2 approvals" in r for r in one.reasons)
    bob = approve(request, "arm-dev/bob", BOB)
    two = rt.evaluate("arm-dev", "prod", **CALL, request=request, approvals=[alice, bob])
    assert two.decision == ALLOW
    assert set(two.approvers) == {"arm-dev/alice", "arm-dev/bob"}


def test_a_request_is_bound_to_its_call_and_expires() -> None:
    clock = [NOW]
    rt = runtime(clock=clock)
    request = rt.evaluate("arm-dev", "prod", **CALL, args_digest="sha256:" + "0" * 64).request
    assert request is not None
    approval = approve(request, "arm-dev/alice", ALICE, valid_for=7200)
    other_args = rt.evaluate(
        "arm-dev", "prod", **CALL, args_digest="sha256:" + "1" * 64, request=request,
        approvals=[approval],
    )  # fmt: skip
    assert other_args.decision == DENY
    assert "argsDigest" in other_args.reasons[0]
    clock[0] = NOW + 16 * 60
    late = rt.evaluate(
        "arm-dev", "prod", **CALL, args_digest="sha256:" + "0" * 64, request=request,
        approvals=[approval],
    )  # fmt: skip
    assert late.decision == DENY
    assert "expired" in late.reasons[0]


def test_policy_answers_other_than_needs_approval_stand() -> None:
    rt = runtime()
    request = rt.evaluate("arm-dev", "prod", **CALL).request
    assert request is not None
    approval = approve(request, "arm-dev/alice", ALICE)
    denied = rt.evaluate(
        "arm-dev", "prod", template="customer-support", tool="shell_exec", request=request,
        approvals=[approval],
    )  # fmt: skip
    assert denied.decision == DENY


def test_spent_ids_are_shared_through_the_state_dir(tmp_path: Path) -> None:
    request = runtime().evaluate("arm-dev", "prod", **CALL).request
    assert request is not None
    approval = approve(request, "arm-dev/alice", ALICE)
    one = runtime(state_dir=tmp_path)
    two = runtime(state_dir=tmp_path)
    assert (
        one.evaluate("arm-dev", "prod", **CALL, request=request, approvals=[approval]).decision
        == ALLOW
    )
    assert (
        two.evaluate("arm-dev", "prod", **CALL, request=request, approvals=[approval]).decision
        == NEEDS_APPROVAL
    )
    spent = json.loads((tmp_path / "spent.json").read_text())
    assert spent == {request["requestId"]: parse_request(request).expires_at}


def _claim(args: tuple[str, str]) -> bool:
    directory, request_id = args
    return SpentIds(directory).claim(request_id, NOW + 60, NOW)


def test_only_one_process_spends_a_request(tmp_path: Path) -> None:
    ids = ["sha256:" + f"{i:064x}" for i in range(6)]
    jobs = [(str(tmp_path), i) for i in ids for _ in range(4)]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(_claim, jobs)
    assert sum(results) == len(ids)
    assert set(json.loads((tmp_path / "spent.json").read_text())) == set(ids)


def test_expired_ids_are_forgotten(tmp_path: Path) -> None:
    spent = SpentIds(tmp_path)
    assert spent.claim("a", NOW + 10, NOW)
    assert not spent.claim("a", NOW + 10, NOW + 5)
    assert spent.claim("b", NOW + 100, NOW + 20)
    assert json.loads((tmp_path / "spent.json").read_text()) == {"b": NOW + 100}


def test_legacy_agent_ids_resolve_and_evaluate() -> None:
    rt = runtime()
    agent = rt.resolve_agent("arm-dev", "agent_01HZX3K8")
    assert agent.instance == "support-prod-1"
    assert agent.to_json()["template"] == "customer-support"
    assert rt.resolve_agent("arm-dev", "support-prod-1") == agent
    with pytest.raises(NotFound):
        rt.resolve_agent("arm-dev", "agent_nope")
    by_legacy = rt.evaluate("arm-dev", "prod", instance="agent_01HZX3K8", tool="kb_lookup")
    by_name = rt.evaluate("arm-dev", "prod", instance="support-prod-1", tool="kb_lookup")
    assert by_legacy == by_name
    assert by_name.decision == ALLOW


def test_approval_documents_are_checked() -> None:
    for bad, message in [
        (b"[]", "not a JSON object"),
        (b'{"statement": {}, "signature": "x", "more": 1}', "exactly"),
        (b'{"a": 1, "a": 2}', "twice"),
        (b"\xff", "not JSON"),
    ]:
        with pytest.raises(ActionError, match=message):
            parse_approval(bad)


@pytest.mark.parametrize(
    ("state", "tool", "risk", "expected"),
    [
        ("ACTIVE", "zendesk_reply", None, ALLOW),
        ("READONLY", "kb_lookup", None, ALLOW),  # low, kb:read
        ("READONLY", "zendesk_search", None, ALLOW),  # low, zendesk:read
        ("READONLY", "kb_lookup", "medium", DENY),  # the caller raised it above low
        ("READONLY", "zendesk_reply", None, DENY),  # medium, zendesk:write
        ("READONLY", "refund_issue", None, DENY),  # never reaches NEEDS_APPROVAL
        ("PAUSED", "kb_lookup", None, DENY),
        ("QUARANTINED", "kb_lookup", None, DENY),
    ],
)
def test_instance_states_at_runtime(state: str, tool: str, risk: str | None, expected: str) -> None:
    data = payload()
    data["tenants"]["arm-dev"]["instances"]["support-prod-1"]["state"] = state
    decision = runtime(data).evaluate(
        "arm-dev", "prod", instance="support-prod-1", tool=tool, risk=risk
    )
    assert decision.decision == expected, decision.reasons
    if expected == DENY:
        assert state in decision.reasons[0]


_FIELDS = ("requestId", "decision", "approver", "createdAt", "expiresAt", "justification")


@settings(max_examples=300, deadline=None)
@given(
    statement=st.dictionaries(
        st.one_of(st.sampled_from(_FIELDS), st.text(max_size=4)),
        st.one_of(st.text(), st.none(), st.integers(), st.booleans()),
        max_size=7,
    )
)
def test_signed_message_is_the_rfc8785_form(statement: dict[str, Any]) -> None:
    """The statement's fast printing gives exactly the bytes of the general encoder."""
    try:
        expected = to_canonical_json(statement)
    except CanonicalizationError:
        with pytest.raises(CanonicalizationError):
            signed_message(statement)
        return
    assert signed_message(statement) == expected


# --- the one-approval case in one pass: never counts what check_approval does not ---

_EDITS: dict[str, list[Any]] = {
    "requestId": ["sha256:" + "0" * 64, "SHA256:" + "0" * 64, 5, None],
    "decision": [REJECT, "approve", None],
    "approver": ["arm-dev/bob", "arm-dev/carol", "arm-dev/dave", "other/alice", "arm-dev/a/b", 5],
    "createdAt": ["2027-01-15T09:00:00Z", "2027-01-15T08:00:00", "not a time", None, 7],
    "expiresAt": ["2027-01-15T07:00:00Z", "2027-01-15T08:00:00Z", "2027-01-15", [], None],
    "justification": ["fine", 5, None],
    "extra": ["x"],
}
_SIGNERS = {"alice": ALICE, "bob": BOB, "mallory": MALLORY}


def _one_pass_case(
    edits: list[tuple[str, int]], signer: str | None, same_request: bool, shape: str, late: int
) -> None:
    from armgit.crypto.sshsig import sign as sshsig_sign
    from armgit.runtime.actions import ACTION_NAMESPACE, approves, check_approval

    rt = runtime()
    first = rt.evaluate("arm-dev", "prod", **CALL).request
    other = rt.evaluate("arm-dev", "prod", **CALL).request
    assert first is not None
    assert other is not None
    asked = rt.loop._request(first)
    document = approve(first if same_request else other, "arm-dev/alice", ALICE)
    statement = dict(document["statement"])
    for key, i in edits:
        statement[key] = _EDITS[key][i]
    document = {"statement": statement, "signature": document["signature"]}
    if signer is not None:
        try:
            message = signed_message(statement)
        except CanonicalizationError:
            message = b"{}"
        if signer == "owner":  # the key of the operator the statement names
            name = str(statement.get("approver")).partition("/")[2]
            signer = {"carol": "mallory", "dave": "mallory"}.get(name, name)
        private = _SIGNERS.get(signer, ALICE)
        document["signature"] = sshsig_sign(message, private, ACTION_NAMESPACE)
    if shape == "extra-key":
        document["more"] = 1
    elif shape == "no-signature":
        del document["signature"]
    elif shape == "garbled":
        document["signature"] = document["signature"][:-40] + "A" * 10 + document["signature"][-30:]
    elif shape == "crlf":
        document["signature"] = document["signature"].replace("\n", "\r\n")
    operators = rt.loop.tables(rt.index).operators["arm-dev"]
    now = NOW + late
    fast = approves(document, asked, operators, now)
    verdict = check_approval(document, asked, operators, now)
    if fast is not None:
        assert verdict.problem is None, verdict
        assert verdict.decision == APPROVE
        assert verdict.approver == fast
    if (
        not edits
        and signer in (None, "alice", "owner")
        and same_request
        and shape == "as-is"
        and not late
    ):
        assert fast == "arm-dev/alice"  # the usual approval takes the one pass


_ONE_EDITS = [(k, i) for k, values in _EDITS.items() for i in range(len(values))]


@pytest.mark.parametrize("edit", _ONE_EDITS, ids=[f"{k}-{i}" for k, i in _ONE_EDITS])
def test_each_edit_signed_again_counts_only_as_check_approval_says(edit: tuple[str, int]) -> None:
    _one_pass_case([edit], "owner", True, "as-is", 0)


@settings(max_examples=150, deadline=None)
@given(
    edits=st.lists(st.sampled_from(_ONE_EDITS), max_size=3),
    signer=st.sampled_from([None, "owner", "owner", "alice", "mallory"]),  # None: the original
    same_request=st.booleans(),
    shape=st.sampled_from(["as-is", "extra-key", "no-signature", "garbled", "crlf"]),
    late=st.sampled_from([0, 600, 3600]),
)
def test_the_one_pass_counts_only_what_check_approval_counts(
    edits: list[tuple[str, int]], signer: str | None, same_request: bool, shape: str, late: int
) -> None:
    _one_pass_case(edits, signer, same_request, shape, late)
