"""Which operator a platform review is by: the numeric id first, the login only without one."""

from __future__ import annotations

import pytest

from armgit.core.models import Operator
from armgit.core.rules.reviewers import find_reviewer, is_reviewer


def operator(name: str, *identities: str) -> Operator:
    return Operator.model_validate(
        {
            "apiVersion": "armgit/v1",
            "kind": "Operator",
            "name": name,
            "email": f"{name}@example.invalid",
            "identities": list(identities),
        }
    )


@pytest.mark.parametrize(
    ("identities", "login", "user_id", "expected"),
    [
        (("github:bob",), "bob", "7", True),
        (("github:bob",), "bob", None, True),
        (("github:bob",), "bobby", "7", False),
        (("github-id:7",), "anyone", "7", True),  # renamed account, same number
        (("github-id:7",), "bob", "8", False),
        (("github-id:7",), "bob", None, False),  # an old attestation without the number
        (("github:bob", "github-id:7"), "bob", "8", False),  # the login was taken by another
        (("github:bob", "github-id:7"), "bob", "7", True),
        (("gitlab-id:7",), "bob", "7", False),  # another platform's number
        (("gitlab-id:7", "github:bob"), "bob", "9", True),
    ],
)
def test_is_reviewer(
    identities: tuple[str, ...], login: str, user_id: str | None, expected: bool
) -> None:
    assert is_reviewer(operator("bob", *identities), "github", login, user_id) is expected


def test_the_id_binding_wins_over_a_login_binding() -> None:
    by_login = operator("old-bob", "github:bob")
    by_id = operator("bob", "github-id:7")
    assert find_reviewer([by_login, by_id], "github", "bob", "7") is by_id
    assert find_reviewer([by_login, by_id], "github", "bob", "8") is by_login
    assert find_reviewer([by_id], "github", "bob", "8") is None
