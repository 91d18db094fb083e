"""Approving one tool call (SPEC 12): who the approver is, and the signed action approval.

The approver is the operator of the request's tenant whose ``sshKeys`` hold the signing key,
found in the registry's work tree or in an index file. The index is read without checking its
signatures: naming the approver is a convenience, the runtime checks the approval's signature
against the operators of the index it verified.
"""

from __future__ import annotations

import json
from pathlib import Path

from armgit.authoring.approve import key_holder, read_private_key
from armgit.core.layout import REGISTRY_FILE
from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE
from armgit.crypto.sshkeys import PublicKey, SshKeyError, parse_public_key, public_key_of
from armgit.errors import UsageError
from armgit.registry.lazyview import LazyView
from armgit.runtime.actions import ActionApproval, ActionRequest, sign_approval
from armgit.runtime.envelope import parse_envelope
from armgit.runtime.errors import IndexRefused
from armgit.store.tree import WorkTree


def approver_in_registry(repo: str | None, tenant: str, key: PublicKey) -> str:
    """``TENANT/OPERATOR`` of the operator of ``tenant`` holding ``key`` in the work tree."""
    root = Path(repo or ".")
    if not (root / REGISTRY_FILE).is_file():
        raise UsageError(
            f"{root} is not a registry (no {REGISTRY_FILE}): give --repo or --index FILE"
        )
    operator = key_holder(LazyView(WorkTree(root)), tenant, key)
    if operator is None:
        raise UsageError(f"no operator of tenant {tenant!r} has the key {key.fingerprint}")
    return f"{tenant}/{operator.name}"


def approver_in_index(path: str, tenant: str, key: PublicKey) -> str:
    """``TENANT/OPERATOR`` of the operator of ``tenant`` holding ``key`` in an index file."""
    try:
        envelope = parse_envelope(Path(path).read_bytes(), INDEX_PAYLOAD_TYPE)
        payload = json.loads(envelope.payload)
        operators = payload["tenants"][tenant].get("operators", {})
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (IndexRefused, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"{path}: not an index holding tenant {tenant!r} ({exc})") from exc
    for name, entry in sorted(operators.items()):
        for line in entry.get("keys", ()):
            try:
                if parse_public_key(line).blob == key.blob:
                    return f"{tenant}/{name}"
            except SshKeyError:
                continue
    raise UsageError(f"no operator of tenant {tenant!r} in {path} has the key {key.fingerprint}")


def approve_action(
    request: ActionRequest,
    key_path: str,
    *,
    decision: str,
    now: float,
    valid_for: int,
    justification: str | None,
    repo: str | None = None,
    index: str | None = None,
    approver: str | None = None,
) -> ActionApproval:
    """Sign ``decision`` (APPROVE or REJECT) of ``request`` with the key at ``key_path``."""
    private = read_private_key(key_path)
    public = public_key_of(private)
    tenant = str(request.body["tenant"])
    if approver is None:
        if index is not None:
            approver = approver_in_index(index, tenant, public)
        else:
            approver = approver_in_registry(repo, tenant, public)
    return sign_approval(
        request.request_id,
        decision,
        approver,
        private,
        now=now,
        valid_for=valid_for,
        justification=justification,
    )
