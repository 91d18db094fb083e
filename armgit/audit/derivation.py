"""One commit's records: the one derivation every driver of the audit runs.

Pure: from views of the parent and the commit, the entities the commit touched and what the
commit says of itself, with two lookups the driver answers (the operator the author is, for a
tenant; the APPROVE statements the commit adds, for a tenant), it returns the commit's records,
each with the key that orders them. A new record type is added once, in
:mod:`armgit.audit.records`, and every driver gives it the same bytes.

The drivers differ only in how they read: :mod:`.derive` takes a few new commits one at a time
from pygit2 trees; :mod:`.walk` takes a long history one tenant per worker process from
``git diff-tree``; :mod:`.fast` serves what either stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from armgit.audit.records import ChangeRecord, Draft, admitting, derive_changes
from armgit.core.layout import EntityId
from armgit.core.models import Approval
from armgit.core.snapshot import View

# (target, entity id as a tuple, position among the entity's records): sorting a commit's
# records of every tenant by this key gives the order of a derivation over the whole registry
SortKey = tuple[str, tuple[str, str, str, str], int]


@dataclass(frozen=True, slots=True)
class CommitFacts:
    """What a record says of its commit; ``genesis``: the commit has no parent."""

    commit: str
    time: str
    author: str
    genesis: bool


def commit_records(
    base: View,
    head: View,
    entity_ids: Iterable[EntityId],
    facts: CommitFacts,
    operator: Callable[[str], str | None],
    added: Callable[[str], Mapping[str, Approval]],
) -> list[tuple[SortKey, ChangeRecord]]:
    """The records of the entities in ``entity_ids`` between ``base`` (the parent) and ``head``,
    in the order of their keys. ``operator(tenant)`` is asked once per tenant with a record;
    ``added(tenant)`` only for a record that an approval binds."""
    drafts: list[tuple[SortKey, Draft]] = []
    # as sorted(entity_ids) orders them (EntityId compares its fields in this order), without
    # a dataclass comparison per step
    keyed = sorted(((e.kind, e.tenant, e.name, e.template), e) for e in entity_ids)
    for entity, entity_id in keyed:
        for i, draft in enumerate(derive_changes(base, head, entity_id, genesis=facts.genesis)):
            drafts.append(((draft.target, entity, i), draft))
    drafts.sort(key=lambda keyed: keyed[0])
    names: dict[str, str | None] = {}
    bound: dict[str, dict[tuple[str, str], dict[str, Approval]]] = {}
    out = []
    for key, draft in drafts:
        if draft.tenant not in names:
            names[draft.tenant] = operator(draft.tenant)
        approvals: tuple[str, ...] = ()
        if draft.binding is not None:
            if draft.tenant not in bound:
                bound[draft.tenant] = _by_binding(added(draft.tenant))
            grouped = bound[draft.tenant]
            binding = draft.binding
            candidates = dict(grouped.get((binding.subject, binding.digest), {}))
            if binding.former is not None:  # approvals made before whole-file binding
                candidates.update(grouped.get((binding.subject, binding.former), {}))
            if candidates:
                approvals = admitting(binding, candidates)
        record = ChangeRecord(
            type=draft.type,
            tenant=draft.tenant,
            target=draft.target,
            commit=facts.commit,
            time=facts.time,
            author=facts.author,
            operator=names[draft.tenant],
            payload=draft.payload,
            approvals=approvals,
        )
        out.append((key, record))
    return out


def _by_binding(added: Mapping[str, Approval]) -> dict[tuple[str, str], dict[str, Approval]]:
    """``added`` grouped by the subject and digest their statements bind: a commit that adds
    thousands of approvals (a registry's first commit) looks each record's up, not through all."""
    grouped: dict[tuple[str, str], dict[str, Approval]] = {}
    for name, approval in added.items():
        statement = approval.statement
        grouped.setdefault((statement.subject.ref, statement.digest), {})[name] = approval
    return grouped
