"""What the registry trusts (SPEC section 4a): the settings of ``armgit.yaml`` that decide whose
word counts, and which changes of them a REGISTRY_TRUST_CHANGE approval must admit.

- ``protectedBranches``: which pushes are judged at all, and which branches publish the index;
- ``identityEnv``: which environment variables name the pusher, i.e. who is pushing (a variable
  the pusher sets, such as a push option's, would let anyone claim to be anyone);
- ``registryAdmins``: who holds ``admin:registry`` and approves these very changes;
- ``approvalRules``: how many approvals each gate needs, with which permission, for how long;
- ``indexSigners``: whose signatures make the compiled index that runtimes trust;
- ``attestors``: whose bot keys stand for a platform review;
- ``imports``: which imports a protected branch accepts with ARM's unenforced history as notices.

``name`` and ``description`` only label the registry. Values are compared as the models have
them (defaults included), so writing a default out is no change; lists whose order means
nothing are compared as multisets, and ``identityEnv`` and ``approvalRules`` in order (the first
variable set names the pusher; the first of equally specific rules wins).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from armgit.core.models import Registry
from armgit.core.models.registry import ApprovalRule, TrustedKey


@dataclass(frozen=True, slots=True)
class TrustChange:
    """One trust setting that differs: its name in the file and what changed, in words."""

    field: str
    summary: str

    @property
    def pointer(self) -> str:
        return f"/{self.field}"


def trust_changes(old: Registry, new: Registry) -> list[TrustChange]:
    """The trust settings that differ between ``old`` and ``new``, in the file's order."""
    found = []
    for name, describe in _DESCRIBERS:
        summary = describe(old, new)
        if summary:
            found.append(TrustChange(name, summary))
    return found


def _branches(old: Registry, new: Registry) -> str:
    return _diff(old.protected_branches, new.protected_branches)


def _identity_env(old: Registry, new: Registry) -> str:
    if old.identity_env == new.identity_env:
        return ""
    return f"{', '.join(old.identity_env) or '(none)'} -> {', '.join(new.identity_env) or '(none)'}"


def _admins(old: Registry, new: Registry) -> str:
    return _diff(old.registry_admins, new.registry_admins)


def _rules(old: Registry, new: Registry) -> str:
    return _diff(
        [_rule(r) for r in old.approval_rules], [_rule(r) for r in new.approval_rules], ordered=True
    )


def _signers(old: Registry, new: Registry) -> str:
    a, b = old.index_signers, new.index_signers
    parts = [f"threshold {a.threshold} -> {b.threshold}"] if a.threshold != b.threshold else []
    keys = _diff([_key(k) for k in a.keys], [_key(k) for k in b.keys])
    return "; ".join([*parts, keys] if keys else parts)


def _attestors(old: Registry, new: Registry) -> str:
    return _diff([_key(k) for k in old.attestors], [_key(k) for k in new.attestors])


def _imports(old: Registry, new: Registry) -> str:
    return _diff(
        [f"{g.source} {g.export} by {g.operator}" for g in old.imports],
        [f"{g.source} {g.export} by {g.operator}" for g in new.imports],
    )


_DESCRIBERS: tuple[tuple[str, Callable[[Registry, Registry], str]], ...] = (
    ("protectedBranches", _branches),
    ("identityEnv", _identity_env),
    ("registryAdmins", _admins),
    ("approvalRules", _rules),
    ("indexSigners", _signers),
    ("attestors", _attestors),
    ("imports", _imports),
)


def _diff(old: Sequence[str], new: Sequence[str], *, ordered: bool = False) -> str:
    """``added X; removed Y`` (as multisets: a repeated entry counts), or ``reordered`` when only
    the order changed and it matters; ``""`` when nothing changed."""
    a, b = Counter(old), Counter(new)
    parts = []
    if b - a:
        parts.append(f"added {', '.join(sorted((b - a).elements()))}")
    if a - b:
        parts.append(f"removed {', '.join(sorted((a - b).elements()))}")
    if not parts and ordered and tuple(old) != tuple(new):
        parts.append(f"reordered to {', '.join(new)}")
    return "; ".join(parts)


def _rule(rule: ApprovalRule) -> str:
    scope = "".join(
        f" {word} {value}"
        for word, value in (("tenant", rule.tenant), ("environment", rule.environment))
        if value is not None
    )
    return f"{rule.request_type}{scope}: {rule.count} with {rule.permission} for {rule.expires_in}"


def _key(key: TrustedKey) -> str:
    """``NAME (SHA256:...)``: the fingerprint ssh-keygen -l shows, so a replaced key shows."""
    parts = key.public_key.split()
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, IndexError):
        return f"{key.name} ({key.public_key[:40]})"
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"{key.name} (SHA256:{digest})"
