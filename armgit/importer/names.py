"""Valid armgit names for imported rows: slugs of what the row calls itself, collisions resolved
deterministically (rows in creation order; the later one takes ``-2``, ``-3``, ...), and a
``--names`` file that overrides any of them by Convex id. Pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from armgit.core.jsondata import JsonValue
from armgit.core.layout import is_valid_name
from armgit.core.patterns import NAME_MAX, SEMVER_PATTERN

_SEMVER = re.compile(SEMVER_PATTERN)
_NUMERIC = re.compile(r"^[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?([-+].*)?$")


def slugify(text: str, fallback: str) -> str:
    """``text`` as a name: ASCII lowercase letters, digits and single ``-`` (accents folded,
    everything else a separator), at most 63 characters; ``fallback`` when nothing is left."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    slug = slug[:NAME_MAX].rstrip("-")
    return slug if slug else fallback


def to_label(text: str) -> str:
    """An ARM version label as SemVer: ``v1.0.0`` -> ``1.0.0``, ``v2`` -> ``2.0.0``, ``1.2`` ->
    ``1.2.0``; anything else ``0.0.0-legacy.<slug>`` (the original is kept in ``legacy``)."""
    bare = text[1:] if text[:1] in "vV" and _SEMVER.match(text[1:]) else text
    if _SEMVER.match(bare):
        return bare
    numeric = _NUMERIC.match(text.strip())
    if numeric:
        major, minor, patch, rest = numeric.groups()
        label = f"{int(major)}.{int(minor or 0)}.{int(patch or 0)}{rest or ''}"
        if _SEMVER.match(label):
            return label
    return f"0.0.0-legacy.{slugify(text, 'unnamed')}"


class NameBook:
    """Names within scopes (a tenant's operators, a template's versions, ...): each Convex id
    gets one name, unique in its scope; ``overrides`` (id -> name) win."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._taken: dict[str, set[str]] = {}
        self._names: dict[tuple[str, str], str] = {}

    def name(self, scope: str, row_id: str, wanted: str) -> str:
        key = (scope, row_id)
        if key in self._names:
            return self._names[key]
        taken = self._taken.setdefault(scope, set())
        name = self._overrides.get(row_id, wanted)
        if name in taken:
            stem = name
            suffix = 2
            while name in taken:
                tail = f"-{suffix}"
                name = stem[: NAME_MAX - len(tail)].rstrip("-") + tail
                suffix += 1
        taken.add(name)
        self._names[key] = name
        return name

    def reserve(self, scope: str, name: str) -> None:
        """Mark ``name`` as used in ``scope`` (a name already in the repository)."""
        self._taken.setdefault(scope, set()).add(name)


def parse_names(data: JsonValue, where: str) -> dict[str, str]:
    """The ``--names`` file's content: an object of Convex id -> armgit name; raises
    ``ValueError`` naming the entry that is not valid."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a mapping of Convex id -> name")
    names: dict[str, str] = {}
    for row_id, name in data.items():
        if not isinstance(name, str) or not (is_valid_name(name) or _SEMVER.match(name)):
            raise ValueError(
                f"{where}: {row_id}: {name!r} is not a valid name (lowercase ASCII letters, "
                "digits and '-') or SemVer label"
            )
        names[row_id] = name
    return names
