"""Who a platform review is by: the operator whose identities name the reviewer.

A login (``github:alice``) can be renamed and then taken by someone else; the platform's numeric
account id (``github-id:12345``) cannot. So an operator that lists an id identity for the
platform is matched by the id alone, and the login counts only for operators that list none.
"""

from __future__ import annotations

from collections.abc import Iterable

from armgit.core.models import Operator


def id_identity(platform: str, user_id: str) -> str:
    """``github-id:12345``: the identity that names a platform account by its number."""
    return f"{platform}-id:{user_id}"


def is_reviewer(operator: Operator, platform: str, login: str, user_id: str | None) -> bool:
    """Whether ``operator`` is the account ``login`` (numeric ``user_id``) of ``platform``."""
    prefix = id_identity(platform, "")
    if any(identity.startswith(prefix) for identity in operator.identities):
        return user_id is not None and id_identity(platform, user_id) in operator.identities
    return f"{platform}:{login}" in operator.identities


def find_reviewer(
    candidates: Iterable[Operator], platform: str, login: str, user_id: str | None
) -> Operator | None:
    """The operator the review is by: bound to its id first, else to its login."""
    pool = list(candidates)
    if user_id is not None:
        wanted = id_identity(platform, user_id)
        for operator in pool:
            if wanted in operator.identities:
                return operator
    return next((o for o in pool if is_reviewer(o, platform, login, user_id)), None)
