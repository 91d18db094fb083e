"""ARM's change records an import commit carries, as audit records of the types armgit does not
derive (``ROLE_ASSIGNED``, ``APPROVAL_REQUESTED``, ...).

``armgit import`` writes each of ARM's change records into its commit's message, one JSON object a
line, above the import mark (:mod:`armgit.core.importmark`). A message is anyone's to write, so a
record is taken only from a commit that could be an import's: its message ends with the mark and
holds nothing but well-formed records, its place in its import follows the commits below it
(:class:`~armgit.enforce.imported.ImportRuns`), it changes nothing but files in ``tenants/T/``,
and only for tenants ``T`` that its tree has and the tree its import grew from (the commit below
its import's first) does not: the record's tenant must be one of those. So a mark written on
an ordinary commit claims nothing about a tenant that existed before it (docs/import.md). Records
kept are labelled ``"imported": true``: ARM's word, not something armgit derived or verified.

:func:`imported_records` is pure; :class:`ImportClaims` answers, with pygit2, which tenants a
commit may speak for. Both drivers (:mod:`.derive`, the walk in :mod:`.query`) append a commit's
imported records after the records they derived, so the bytes are the same either way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pygit2

from armgit.audit.derivation import CommitFacts
from armgit.audit.records import ChangeRecord
from armgit.core.importmark import import_mark
from armgit.core.jsondata import JsonObject
from armgit.core.layout import TENANTS_DIR, EntityId, identify
from armgit.core.record_types import RECORD_TYPES
from armgit.enforce.imported import ImportRuns
from armgit.enforce.ranges import registry_tree

_DERIVED = frozenset(RECORD_TYPES)


def message_records(message: str) -> list[JsonObject]:
    """ARM's records in an import commit's message (``[]`` unless the message ends with the
    import mark and every line between its summary and the mark is a record: an object with a
    string ``type``)."""
    if import_mark(message) is None:
        return []
    paragraphs = message.rstrip("\n").split("\n\n")
    if len(paragraphs) != 3:
        return []
    found: list[JsonObject] = []
    for line in paragraphs[1].split("\n"):
        try:
            record = json.loads(line)
        except ValueError:
            return []
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            return []
        found.append(record)
    return found


def imported_records(
    message: str, facts: CommitFacts, tenants: Iterable[str]
) -> list[ChangeRecord]:
    """The commit's records of types armgit does not derive, for the ``tenants`` it may speak
    for, in the message's order."""
    allowed = frozenset(tenants)
    if not allowed:
        return []
    out = []
    for record in message_records(message):
        kind, tenant = str(record["type"]), record.get("tenant")
        if kind in _DERIVED or not isinstance(tenant, str) or tenant not in allowed:
            continue
        operator, time = record.get("operator"), record.get("time")
        out.append(
            ChangeRecord(
                type=kind,
                tenant=tenant,
                target=_target(record.get("target"), tenant),
                commit=facts.commit,
                time=time if isinstance(time, str) else facts.time,
                author=facts.author,
                operator=operator if isinstance(operator, str) else None,
                payload={
                    "armId": record.get("id"),
                    "targetEntity": record.get("targetEntity"),
                    "targetId": record.get("targetId"),
                    "payload": record.get("payload"),
                },
                imported=True,
            )
        )
    return out


def _target(path: object, tenant: str) -> str:
    """The reference of the file ARM's target became, else the tenant's (a deleted row)."""
    found = identify(path) if isinstance(path, str) else None
    if isinstance(found, EntityId) and found.tenant == tenant:
        return found.ref
    return tenant


class ImportClaims:
    """Which tenants a commit's imported records may speak for, in one repository."""

    def __init__(self, repo: pygit2.Repository, prefix: str) -> None:
        self.repo = repo
        self.prefix = prefix
        self._tenants: dict[str, frozenset[str]] = {}  # commit id -> the tenants its tree has
        self.runs = ImportRuns()

    def tenants(self, commit: pygit2.Commit, paths: Iterable[str]) -> frozenset[str]:
        """The tenants ``commit`` (whose changed paths, from the registry's directory, are
        ``paths``) may speak for: none unless it carries the import mark and changes only files
        of tenants its tree has and its import's base does not."""
        base = self.runs.base(commit)
        if base is None:
            return frozenset()
        new = self._tenants_at(str(commit.id)) - self._tenants_at(str(base.id))
        for path in paths:
            steps = path.split("/")
            if len(steps) < 3 or steps[0] != TENANTS_DIR or steps[1] not in new:
                return frozenset()
        return new

    def _tenants_at(self, commit_id: str) -> frozenset[str]:
        if commit_id not in self._tenants:
            commit = self.repo[commit_id].peel(pygit2.Commit)
            tree = registry_tree(self.repo, commit, self.prefix)
            names = tree.names(TENANTS_DIR) if tree is not None else []
            self._tenants[commit_id] = frozenset(names)
        return self._tenants[commit_id]
