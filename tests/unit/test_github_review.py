"""Reading pull_request_review payloads: what is required, and the messages when it is not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from armgit.authoring.github_review import ReviewEventError, parse_review_event

MINIMAL: dict[str, Any] = {
    "action": "submitted",
    "review": {"id": 7, "state": "APPROVED", "user": {"login": "bob"}, "body": ""},
    "pull_request": {
        "number": 3,
        "user": {"login": "alice"},
        "base": {"ref": "main"},
        "head": {"sha": "a" * 40},
    },
}


def test_minimal_payload() -> None:
    event = parse_review_event(json.dumps(MINIMAL).encode())
    assert event.approved  # the REST API's upper case is accepted too
    assert (event.review_id, event.reviewer, event.author) == ("7", "bob", "alice")
    assert event.body is None
    assert event.commit is None
    assert event.url is None


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (("review", "user"), "no review.user object"),
        (("review", "id"), "the event has no review.id"),
        (("pull_request", "base"), "no pull_request.base object"),
        (("pull_request", "head"), "no pull_request.head object"),
        (("review", "state"), "review.state is missing"),
    ],
)
def test_missing_fields(path: tuple[str, str], message: str) -> None:
    payload = json.loads(json.dumps(MINIMAL))
    del payload[path[0]][path[1]]
    with pytest.raises(ReviewEventError, match=message):
        parse_review_event(json.dumps(payload).encode())
