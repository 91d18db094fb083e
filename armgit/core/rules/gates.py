"""What a change asks for beyond being well-formed: gates (approvals) and actions (permissions).

:func:`armgit.core.rules.change.check_change` produces them; :mod:`armgit.core.rules.approvals`
judges gates against the approval files and :mod:`armgit.core.rules.access` judges actions
against the author's roles. Kept apart so each of those imports only what it consumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from armgit.core.layout import EntityId


@dataclass(frozen=True, slots=True)
class Gate:
    """A change that may land only with enough valid approvals.

    Approvals must name ``subject`` (kind and reference), ``request_type`` with the same
    ``change_from``/``change_to``, and bind ``digest``, the subject's whole proposed content.
    ``former_digest`` is what approvals made before armgit bound whole files bound (a version's
    genome hash): such an approval counts when it was made before that change, and is refused
    with a reason that says to re-approve when made after it.
    """

    request_type: str
    subject: EntityId
    change_from: str | None
    change_to: str | None
    digest: str
    path: str
    pointer: str
    environment: str | None = None
    required: int | None = None  # None: the registry's rule for the request type says
    former_digest: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Action:
    """One permission a change needs: ``permission`` in ``tenant`` ("" for the registry)."""

    tenant: str
    permission: str
    path: str
