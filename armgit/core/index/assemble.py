"""The index payload's top-level fields, and its canonical bytes assembled from tenant fragments.

RFC 8785 writes an object as its members in key order (UTF-16 code units), each value encoded on
its own, independently of where it sits. So the canonical payload is the canonical top-level
fields and each tenant's canonical fragment, concatenated in that order: a compiler can keep each
tenant's bytes (cached by the git tree they were built from) and never encode them again.

Imports no model, so a compile whose fragments are all cached never loads pydantic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from armgit.core.canonical import to_canonical_json
from armgit.core.index.compact import INDEX_FORMAT
from armgit.core.jsondata import JsonObject

PAYLOAD_KIND = "Index"
PAYLOAD_API_VERSION = "armgit/v1"
TENANTS_FIELD = "tenants"
WHOLE_REGISTRY = "*"  # scope.tenants of an index of every tenant (no tenant slug can be "*")


@dataclass(frozen=True, slots=True)
class IndexOptions:
    """What the compiler adds to the registry's content."""

    issued_at: str
    expires: str
    version: int = 1
    previous: str | None = None
    tenant: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """Where the registry was read: repository, commit and tree (plain strings)."""

    repo: str
    commit: str = ""
    tree: str = ""
    dirty: bool = False  # compiled from a work tree with uncommitted changes (--allow-dirty)


def payload_head(registry: str, source: Source, options: IndexOptions) -> JsonObject:
    """Every top-level field of the payload but ``tenants``."""
    return {
        "apiVersion": PAYLOAD_API_VERSION,
        "kind": PAYLOAD_KIND,
        "format": INDEX_FORMAT,
        "registry": registry,
        "source": {
            "repo": source.repo,
            "commit": source.commit,
            "tree": source.tree,
            "dirty": source.dirty,
        },
        "scope": {"tenants": [options.tenant or WHOLE_REGISTRY]},
        "version": options.version,
        "issuedAt": options.issued_at,
        "expires": options.expires,
        "previous": options.previous,
    }


def jcs_order(keys: Iterable[str]) -> list[str]:
    """``keys`` in RFC 8785 order: by UTF-16 code units (not code points, as ``sorted`` does)."""
    return sorted(keys, key=lambda k: k.encode("utf-16-be", "surrogatepass"))


def canonical_object(members: Mapping[str, bytes]) -> bytes:
    """The RFC 8785 encoding of an object whose member values are given as canonical bytes."""
    parts = [b"{"]
    for i, key in enumerate(jcs_order(members)):
        parts += (b"," if i else b"", to_canonical_json(key), b":", members[key])
    parts.append(b"}")
    return b"".join(parts)


def assemble_payload(head: JsonObject, fragments: Mapping[str, bytes]) -> bytes:
    """The canonical payload: ``head`` (see :func:`payload_head`) with ``tenants`` made of each
    tenant's canonical fragment; the same bytes as ``to_canonical_json`` of the whole."""
    if TENANTS_FIELD in head:
        raise ValueError("the head of a payload has no tenants field")
    members = {key: to_canonical_json(value) for key, value in head.items()}
    members[TENANTS_FIELD] = canonical_object(fragments)
    return canonical_object(members)
