"""What the index keeps once per tenant and how entries name it (formats 2 and 3, docs/index.md).

Effective policies and the repeated parts of genomes (each tool of a tool manifest, each
repeated object such as a model configuration) are kept once in a tenant's table and named by
a short ref: the first :data:`REF_LENGTH` hex digits of the sha256 of the entry's canonical
JSON. A version entry keeps its genome without the interned members and names them in
``parts``; :func:`merge_genome` puts the genome back together, and its hash is the registry's
genome hash of the whole. Pure: JSON data in and out; the runtime reads these rules too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from armgit.core.canonical import to_canonical_json
from armgit.core.jsondata import JsonObject, JsonValue

# the payload's ``format``: 2 since approvals, genomes and refs were compacted; 3 since entry
# tables are rows of fixed fields (:mod:`armgit.core.index.tables`)
INDEX_FORMAT = 3
REF_LENGTH = 12  # hex digits of a sha256 naming a table entry (48 bits, within one tenant)


def short_ref(canonical_digest: str) -> str:
    """The ref of an entry whose digest is ``sha256:<hex>`` (or bare hex)."""
    return canonical_digest.removeprefix("sha256:")[:REF_LENGTH]


def ref_of(value: JsonValue) -> str:
    """The ref of a JSON value: the first hex digits of the sha256 of its canonical JSON."""
    return hashlib.sha256(to_canonical_json(value)).hexdigest()[:REF_LENGTH]


def keep(table: dict[str, JsonValue], ref: str, value: JsonValue, what: str) -> str:
    """Put ``value`` in ``table`` under ``ref``; raises ``ValueError`` on a collision of two
    different entries (48 bits within one tenant: not expected in practice)."""
    known = table.setdefault(ref, value)
    if known != value:
        raise ValueError(f"two {what} of one tenant share the ref {ref}: cannot compile")
    return ref


def split_genomes(
    genomes: Mapping[str, JsonObject],
) -> tuple[dict[str, tuple[JsonObject, JsonObject]], dict[str, JsonValue]]:
    """Each genome (by version key) as (what stays inline, ``parts``), and the parts table.

    Interned: every member that is a non-empty list of objects (a tool manifest), item by item
    (``parts[member]`` is the list of refs), and every object member whose value occurs in more
    than one genome of the tenant (``parts[member]`` is its ref). The rest stays inline.
    """
    seen: dict[bytes, int] = {}
    for genome in genomes.values():
        for value in genome.values():
            if isinstance(value, dict):
                text = to_canonical_json(value)
                seen[text] = seen.get(text, 0) + 1
    table: dict[str, JsonValue] = {}
    result: dict[str, tuple[JsonObject, JsonObject]] = {}
    for key, genome in genomes.items():
        inline: JsonObject = {}
        parts: JsonObject = {}
        for member, value in genome.items():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                parts[member] = [keep(table, ref_of(v), v, "genome parts") for v in value]
            elif isinstance(value, dict) and seen[to_canonical_json(value)] > 1:
                parts[member] = keep(table, ref_of(value), value, "genome parts")
            else:
                inline[member] = value
        result[key] = (inline, parts)
    return result, table


def merge_genome(
    inline: Mapping[str, Any], parts: Mapping[str, Any], table: Mapping[str, Any]
) -> dict[str, Any]:
    """The whole genome from a version entry's ``genome`` and ``parts`` and the tenant's
    ``parts`` table; raises ``ValueError`` for a member given twice or an unknown ref."""
    genome = dict(inline)
    for member, ref in parts.items():
        if member in genome:
            raise ValueError(f"genome member {member!r} is both inline and a part")
        if isinstance(ref, str):
            genome[member] = table[ref]
        elif isinstance(ref, list):
            genome[member] = [table[r] for r in ref]
        else:
            raise ValueError(f"parts[{member!r}] is a ref or a list of refs")
    return genome
