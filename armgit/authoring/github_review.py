"""GitHub reviews, as far as an attested approval needs them: the webhook payload that points at
a review, and the REST API's answers that say what the review is.

Pure: bytes in, a :class:`ReviewEvent` (the ``pull_request_review`` payload, "Webhook events
and payloads") or the API's :class:`SourceReview`, :class:`SourcePull` and permission out, or
:class:`ReviewEventError` saying which field is missing or wrong. The event is only a pointer
(pull request number, review id): anyone who can write a file can write one, so what is attested
comes from the API (:mod:`armgit.authoring.github_api` fetches it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from armgit.errors import UsageError


class ReviewEventError(UsageError):
    """The file is not a ``pull_request_review`` payload armgit can read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewEvent:
    """One submitted review of a pull request."""

    action: str
    state: str  # lower case: approved, changes_requested, commented, dismissed
    review_id: str
    reviewer: str
    url: str | None
    commit: str | None  # the commit the review was made on
    body: str | None
    number: int | None
    author: str  # the pull request's author
    base_ref: str
    head_sha: str

    @property
    def approved(self) -> bool:
        return self.state == "approved"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceReview:
    """A review as the API has it (``GET /repos/{o}/{r}/pulls/{n}/reviews/{id}``)."""

    review_id: str
    state: str  # upper case: APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    commit: str
    user_id: int
    login: str
    url: str | None
    body: str | None
    pull_url: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourcePull:
    """A pull request as the API has it (``GET /repos/{o}/{r}/pulls/{n}``)."""

    number: int
    state: str  # open, closed
    head_sha: str
    base_ref: str
    author: str
    author_id: int


# the repository permissions that may approve a pull request (``GET .../collaborators/{login}/
# permission`` says admin, maintain, write, triage, read or none; older servers only the first,
# third, fifth and sixth)
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})


def parse_source_review(data: bytes) -> SourceReview:
    """The API's review object."""
    review = _json_object(data, "the review")
    user = _object(review, "user", "review.user")
    return SourceReview(
        review_id=str(_required(review, "review.id")),
        state=(_text(review, "review.state") or "").upper(),
        commit=_text(review, "review.commit_id") or "",
        user_id=_number(user, "review.user.id"),
        login=_text(user, "review.user.login") or "",
        url=_text(review, "review.html_url", None),
        body=_text(review, "review.body", None),
        pull_url=_text(review, "review.pull_request_url", None),
    )


def parse_source_pull(data: bytes) -> SourcePull:
    """The API's pull request object."""
    pull = _json_object(data, "the pull request")
    user = _object(pull, "user", "pull_request.user")
    return SourcePull(
        number=_number(pull, "pull_request.number"),
        state=_text(pull, "pull_request.state") or "",
        head_sha=_text(_object(pull, "head", "pull_request.head"), "pull_request.head.sha") or "",
        base_ref=_text(_object(pull, "base", "pull_request.base"), "pull_request.base.ref") or "",
        author=_text(user, "pull_request.user.login") or "",
        author_id=_number(user, "pull_request.user.id"),
    )


def parse_permission(data: bytes) -> str:
    """The ``role_name`` (else ``permission``) of a collaborator's permission answer."""
    answer = _json_object(data, "the permission")
    return _text(answer, "role_name", None) or _text(answer, "permission") or ""


def _json_object(data: bytes, what: str) -> dict[str, object]:
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReviewEventError(f"{what} from the API is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ReviewEventError(f"{what} from the API is not a JSON object")
    return value


def _number(data: dict[str, object], where: str) -> int:
    value = data.get(where.rpartition(".")[2])
    if not isinstance(value, int) or isinstance(value, bool):
        raise ReviewEventError(f"the {where} is missing or not a number")
    return value


def parse_review_event(data: bytes) -> ReviewEvent:
    """Read a ``pull_request_review`` payload (``$GITHUB_EVENT_PATH`` in GitHub Actions)."""
    try:
        payload = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReviewEventError(f"the event is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ReviewEventError("the event is not a JSON object")
    review = _object(payload, "review")
    pull = _object(payload, "pull_request")
    number = pull.get("number")
    return ReviewEvent(
        action=_text(payload, "action", "") or "",
        state=(_text(review, "review.state") or "").lower(),
        review_id=str(_required(review, "review.id")),
        reviewer=_text(_object(review, "user", "review.user"), "review.user.login") or "",
        url=_text(review, "review.html_url", None),
        commit=_text(review, "review.commit_id", None),
        body=_text(review, "review.body", None),
        number=number if isinstance(number, int) else None,
        author=_text(_object(pull, "user", "pull_request.user"), "pull_request.user.login") or "",
        base_ref=_text(_object(pull, "base", "pull_request.base"), "pull_request.base.ref") or "",
        head_sha=_text(_object(pull, "head", "pull_request.head"), "pull_request.head.sha") or "",
    )


def _object(data: dict[str, object], key: str, where: str = "") -> dict[str, object]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ReviewEventError(
            f"the event has no {where or key} object: is it a pull_request_review event?"
        )
    return value


def _required(data: dict[str, object], where: str) -> object:
    value = data.get(where.rpartition(".")[2])
    if value is None or value == "":
        raise ReviewEventError(f"the event has no {where}")
    return value


_MISSING = object()


def _text(data: dict[str, object], where: str, default: object = _MISSING) -> str | None:
    value = data.get(where.rpartition(".")[2])
    if value in (None, "") and default is not _MISSING:
        return None if default is None else str(default)
    if not isinstance(value, str) or not value:
        raise ReviewEventError(f"the event's {where} is missing or not a string")
    return value
