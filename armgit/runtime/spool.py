"""The approval queue: a spool directory, local or shared (SPEC 12).

::

    SPOOL/requests/<hex>.json                pending action requests (``<hex>`` of the requestId)
    SPOOL/approvals/<hex>/<tenant>--<operator>.json   the answers, one per approver
    SPOOL/decided/<hex>.json                 requests the runtime has decided, kept for the record

Every file is written atomically (a temporary file and a rename), so a reader sees a whole file
or none. Files that do not belong (another name, not a request, an edited request) are reported
by :meth:`Spool.pending` and never touched.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from armgit.runtime.actions import (
    ActionApproval,
    ActionError,
    ActionRequest,
    parse_request,
)
from armgit.store.atomic import write_atomic

REQUESTS = "requests"
APPROVALS = "approvals"
DECIDED = "decided"
_NAME = re.compile(r"^([0-9a-f]{64})\.json$")
_APPROVAL_NAME = re.compile(r"^[a-z0-9-]+--[a-z0-9-]+\.json$")


class SpoolError(ActionError):
    """The spool has no such request, or a file in it cannot be used."""


@dataclass(frozen=True, slots=True)
class Foreign:
    """A file in the spool that is not what its place says: left alone, reported."""

    path: Path
    why: str


def hex_of(request_id: str) -> str:
    """The file name part of a request id (``sha256:<hex>`` or the hex alone, or a prefix of
    at least 8 hex digits when looking one up)."""
    return request_id.removeprefix("sha256:")


class Spool:
    """A spool directory: where a runtime leaves requests and approvers leave answers."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def submit(self, request: ActionRequest) -> Path:
        """Write ``request`` to ``requests/`` (idempotent)."""
        path = self.root / REQUESTS / f"{hex_of(request.request_id)}.json"
        write_atomic(path, _dumps(request.to_json()))
        return path

    def pending(self) -> tuple[list[ActionRequest], list[Foreign]]:
        """The requests waiting in ``requests/`` (oldest first), and the files that are not."""
        requests: list[ActionRequest] = []
        foreign: list[Foreign] = []
        for path in _files(self.root / REQUESTS):
            match = _NAME.match(path.name)
            if match is None:
                foreign.append(Foreign(path, "not named <requestId hex>.json"))
                continue
            try:
                request = parse_request(path.read_bytes())
            except (ActionError, OSError) as exc:
                foreign.append(Foreign(path, str(exc)))
                continue
            if hex_of(request.request_id) != match.group(1):
                foreign.append(Foreign(path, "its name is not its requestId"))
                continue
            requests.append(request)
        requests.sort(key=lambda r: (r.body["requestedAt"], r.request_id))
        return requests, foreign

    def find(self, ref: str) -> ActionRequest:
        """The pending request whose id is (or starts with, 8 hex digits at least) ``ref``."""
        wanted = hex_of(ref)
        if not re.fullmatch(r"[0-9a-f]{8,64}", wanted):
            raise SpoolError(f"{ref!r} is not a request id (sha256:<hex>, or 8+ hex digits of it)")
        requests, _ = self.pending()
        found = [r for r in requests if hex_of(r.request_id).startswith(wanted)]
        if not found:
            raise SpoolError(f"no pending request {ref} in {self.root / REQUESTS}")
        if len(found) > 1:
            raise SpoolError(f"{ref} names {len(found)} pending requests: give more digits")
        return found[0]

    def answer(self, approval: ActionApproval) -> Path:
        """Leave ``approval`` for its request (one file per approver: a new answer replaces)."""
        tenant, _, operator = approval.approver.partition("/")
        name = f"{tenant}--{operator}.json"
        if not _APPROVAL_NAME.match(name):
            raise SpoolError(f"approver {approval.approver!r} is not TENANT/OPERATOR")
        path = self.root / APPROVALS / hex_of(approval.request_id) / name
        write_atomic(path, _dumps(approval.to_json()))
        return path

    def approvals(self, request_id: str) -> Iterator[bytes]:
        """The answers left for ``request_id``, as the bytes of each file."""
        for path in _files(self.root / APPROVALS / hex_of(request_id)):
            if _APPROVAL_NAME.match(path.name):
                try:
                    yield path.read_bytes()
                except OSError:
                    continue

    def count_answers(self, request_id: str) -> int:
        return sum(1 for _ in self.approvals(request_id))

    def close(self, request: ActionRequest) -> None:
        """Move a decided request from ``requests/`` to ``decided/``."""
        name = f"{hex_of(request.request_id)}.json"
        source = self.root / REQUESTS / name
        target = self.root / DECIDED / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
        except FileNotFoundError:
            write_atomic(target, _dumps(request.to_json()))


def _files(directory: Path) -> list[Path]:
    try:
        entries = sorted(directory.iterdir())
    except FileNotFoundError:
        return []
    except NotADirectoryError as exc:
        raise SpoolError(f"{directory} is not a directory") from exc
    return [p for p in entries if not p.name.startswith(".") and p.is_file()]


def _dumps(document: object) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
