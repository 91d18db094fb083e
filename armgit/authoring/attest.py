"""``armgit approve --attest-review``: a pull-request review, checked at its source, attested.

The event file (``$GITHUB_EVENT_PATH``, or an artifact a ``workflow_run`` job downloaded) only
points at a review: a pull request number and a review id. What is attested comes from the
GitHub API (:mod:`armgit.authoring.github_api`): the pull request (open, its head commit, its
author) and the review (state, the commit it was made on, the reviewer's login and numeric id),
and the reviewer's permission on the repository. The work tree must be the pull request's head,
so the gates found (against the base branch) are exactly what the review saw.

An APPROVED review of the head by a reviewer with write access who is not the author becomes an
APPROVE per gate, signed by the attestor key. A review that requests changes, or one dismissed
(an approval withdrawn by a maintainer, or by a push when stale reviews are dismissed), becomes a
REJECT per gate by the same operator, so an attestation that landed on the branch stops counting
before the pull request merges (the approvals rule: the latest decision of each approver counts,
and a counted REJECT blocks the gate).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pygit2

from armgit.authoring.approval_file import Decision
from armgit.authoring.approve import (
    Pending,
    Refused,
    Workspace,
    Written,
    pending_gates,
    resolve_branch,
    rule_of,
    validity,
    write_approval,
)
from armgit.authoring.github_api import GitHubApi, NotFound
from armgit.authoring.github_review import (
    WRITE_PERMISSIONS,
    ReviewEvent,
    SourcePull,
    SourceReview,
)
from armgit.core.layout import REGISTRY_ID
from armgit.core.models import Operator, Registry
from armgit.core.rules.access import operators
from armgit.core.rules.gates import Gate
from armgit.core.rules.reviewers import find_reviewer, id_identity
from armgit.crypto.sshkeys import CryptoPrivateKey, PublicKey, SshKeyError, parse_public_key
from armgit.crypto.sshkeys import public_key_of as _public_key_of
from armgit.errors import StoreError, UsageError
from armgit.registry.lazyview import LazyView

PLATFORM = "github"
REJECTING = {"CHANGES_REQUESTED": "requested changes", "DISMISSED": "was dismissed"}


@dataclass(frozen=True, slots=True)
class Attested:
    """What an attestation wrote, and the review as the API had it."""

    pending: Pending
    written: list[Written]
    review: SourceReview
    decision: str  # APPROVE or REJECT
    note: str | None = None


def attest_review(
    ws: Workspace,
    event: ReviewEvent,
    key: CryptoPrivateKey,
    now: datetime,
    against: str | None,
    api: GitHubApi,
) -> Attested:
    """Check the review the event points at with the API, then write its approvals."""
    if event.number is None:
        raise UsageError("the event has no pull_request.number: is it a pull_request_review?")
    pull, review = _at_source(api, event)
    if pull.state != "open":
        raise Refused(
            f"pull request #{pull.number} is {pull.state}: only an open pull request's reviews "
            "are attested"
        )
    if review.state == "APPROVED" and review.commit != pull.head_sha:
        raise Refused(
            f"review {review.review_id} approved {review.commit[:12]}, but the pull request's "
            f"head is {pull.head_sha[:12]}: a review approves a commit, not what was pushed "
            "after it; ask for a review of the head"
        )
    head = None if ws.repo.head_is_unborn else str(ws.repo.head.peel(pygit2.Commit).id)
    if head != pull.head_sha:
        raise Refused(
            f"the pull request's head is {pull.head_sha[:12]}, but the work tree is at "
            f"{(head or 'nothing')[:12]}: check out the head the API names "
            "(actions/checkout with ref: the pull request's head sha)"
        )
    if review.state == "APPROVED":
        return _approve(ws, pull, review, key, now, against, api)
    if review.state in REJECTING:
        return _reject(ws, pull, review, key, now, against)
    raise Refused(
        f"review {review.review_id} by {review.login} is {review.state.lower() or 'empty'}: "
        "only an approving review is attested (changes requested and dismissed ones as REJECTs)"
    )


def _at_source(api: GitHubApi, event: ReviewEvent) -> tuple[SourcePull, SourceReview]:
    assert event.number is not None
    try:
        pull = api.pull(event.number)
        review = api.review(event.number, event.review_id)
    except NotFound as exc:
        raise Refused(
            f"GitHub has no review {event.review_id} of pull request #{event.number} in "
            f"{api.repository}: the event is not GitHub's ({exc})"
        ) from exc
    if review.review_id != event.review_id or pull.number != event.number:
        raise Refused(f"the API answered for another review or pull request than #{event.number}")
    if review.pull_url is not None and not review.pull_url.endswith(f"/pulls/{pull.number}"):
        raise Refused(
            f"review {review.review_id} belongs to {review.pull_url}, not pull request "
            f"#{pull.number}"
        )
    return pull, review


def _approve(
    ws: Workspace,
    pull: SourcePull,
    review: SourceReview,
    key: CryptoPrivateKey,
    now: datetime,
    against: str | None,
    api: GitHubApi,
) -> Attested:
    if review.user_id == pull.author_id:
        raise Refused(
            f"{review.login} reviewed their own pull request: four eyes, another must approve"
        )
    try:
        role = api.permission(review.login)
    except NotFound:
        role = "none"
    if role not in WRITE_PERMISSIONS:
        raise Refused(
            f"{review.login} has {role} permission on {api.repository}: only a reviewer who "
            f"may write to it ({', '.join(sorted(WRITE_PERMISSIONS))}) approves"
        )
    pending, name, approvers = _approvers(ws, pull, review, key, now, against)
    missing = [gate for gate, operator in approvers if operator is None]
    if missing:
        raise Refused(
            f"{_account(review)} is not an identity of any operator of "
            f"{missing[0].subject.tenant!r} at the base branch: add it to the reviewer's "
            "operator file (identities:)"
        )
    text = (
        f"approving review {review.review_id} by {_account(review)} on pull request #{pull.number}"
    )
    if review.body:
        text = f"{text}: {review.body}"[:4000]
    written = _write(ws, pending, approvers, review, name, key, now, "APPROVE", text)
    return Attested(pending, written, review, "APPROVE")


def _reject(
    ws: Workspace,
    pull: SourcePull,
    review: SourceReview,
    key: CryptoPrivateKey,
    now: datetime,
    against: str | None,
) -> Attested:
    pending, name, approvers = _approvers(ws, pull, review, key, now, against)
    if not pending.gates or any(operator is None for _, operator in approvers):
        note = (
            None
            if not pending.gates
            else f"{_account(review)} is no operator's: none of its approvals could count, and "
            "there is nothing to withdraw"
        )
        return Attested(pending, [], review, "REJECT", note)
    text = (
        f"review {review.review_id} by {_account(review)} on pull request #{pull.number} "
        f"{REJECTING[review.state]}: its approval is withdrawn"
    )
    written = _write(ws, pending, approvers, review, name, key, now, "REJECT", text)
    return Attested(pending, written, review, "REJECT")


def _approvers(
    ws: Workspace,
    pull: SourcePull,
    review: SourceReview,
    key: CryptoPrivateKey,
    now: datetime,
    against: str | None,
) -> tuple[Pending, str, list[tuple[Gate, Operator | None]]]:
    """The gates of the pull request, the attestor's name, and each gate's reviewing operator.

    A change to what the registry trusts (no tenant) is left out: it counts only with a registry
    admin's own signature."""
    base_ref = against or resolve_branch(ws, pull.base_ref)
    try:
        pending = pending_gates(ws, base_ref, now=now, work_tree=False)
    except StoreError as exc:
        raise UsageError(f"{exc}: fetch the base branch (actions/checkout fetch-depth: 0)") from exc
    name = attestor_name(pending.base, _public_key_of(key))
    approvers = [
        (
            gate,
            find_reviewer(
                operators(pending.base, gate.subject.tenant),
                PLATFORM,
                review.login,
                str(review.user_id),
            ),
        )
        for gate in pending.gates
        if gate.subject.tenant
    ]
    return pending, name, approvers


def _write(
    ws: Workspace,
    pending: Pending,
    approvers: list[tuple[Gate, Operator | None]],
    review: SourceReview,
    attestor: str,
    key: CryptoPrivateKey,
    now: datetime,
    decision_word: str,
    justification: str,
) -> list[Written]:
    written = []
    for gate, operator in approvers:
        assert operator is not None
        attestation = {
            "platform": PLATFORM,
            "reviewId": review.review_id,
            "login": review.login,
            "userId": str(review.user_id),
        }
        if review.url:
            attestation["url"] = review.url
        attestation["attestor"] = attestor
        decision = Decision(
            approver=operator.name,
            decision=decision_word,
            justification=justification,
            review=attestation,
        )
        valid_for = validity(rule_of(pending.base, gate), None)
        written.append(write_approval(ws, gate, decision, key, now, valid_for))
    return written


def _account(review: SourceReview) -> str:
    return f"{PLATFORM}:{review.login} ({id_identity(PLATFORM, str(review.user_id))})"


def attestor_name(base: LazyView, key: PublicKey) -> str:
    """The name under which armgit.yaml (at the base commit) trusts the bot's key."""
    registry = base.get(REGISTRY_ID, Registry)
    for attestor in registry.attestors if registry is not None else ():
        try:
            if parse_public_key(attestor.public_key).blob == key.blob:
                return attestor.name
        except SshKeyError:
            continue
    raise Refused(
        f"the key {key.fingerprint} is not an attestor in armgit.yaml (attestors:) at the base "
        "branch: a registry admin adds the bot's public key there first"
    )
