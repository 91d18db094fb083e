"""GitHub ``pull_request_review`` webhook payloads, as far as an attested approval needs them.

Pure: bytes in, a :class:`ReviewEvent` out, or :class:`ReviewEventError` saying which field is
missing or wrong. The payload format is GitHub's ("Webhook events and payloads",
``pull_request_review``); only the fields below are read.
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
