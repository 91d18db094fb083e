"""SemVer 2.0.0 precedence, for sorting versions by their labels."""

from __future__ import annotations

import re

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")

SemverKey = tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]


def semver_key(label: str) -> SemverKey:
    """A sort key in SemVer precedence: a pre-release sorts before its release, numeric
    identifiers numerically and below alphanumeric ones (build metadata is ignored)."""
    match = _SEMVER.match(label)
    if match is None:
        return (-1, -1, -1, 0, ((1, 0, label),))
    major, minor, patch, pre = match.groups()
    parts: tuple[tuple[int, int, str], ...] = ()
    if pre:
        parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (int(major), int(minor), int(patch), 0 if pre else 1, parts)
