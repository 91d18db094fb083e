"""The change records as the site uses them: decoded once from the lines ``armgit audit``
writes, and the CSV download written from those same lines (pure)."""

from __future__ import annotations

import json

import orjson

from armgit.audit.query import record_of
from armgit.audit.records import ChangeRecord

CSV_HEADER = ("time", "type", "tenant", "target", "author", "operator", "commit", "approvals")
_PAYLOAD = '"payload":'
_AFTER_PAYLOAD = ',"approvals":['


def parse_records(lines: bytes) -> list[ChangeRecord]:
    """The records of ``lines`` (JSON Lines, one record a line), decoded in one call: a JSON
    string never holds a raw newline, so the lines joined by commas are one JSON array."""
    if not lines:
        return []
    array = b"[%s]" % lines.rstrip(b"\n").replace(b"\n", b",")
    try:
        decoded = orjson.loads(array)  # a few times faster than the standard library
    except orjson.JSONDecodeError:  # what only the standard library reads (NaN in an import)
        decoded = json.loads(array)
    return [record_of(data) for data in decoded]


def records_csv(records: list[ChangeRecord], lines: str) -> str:
    """The CSV download: one row per record, its payload as the JSON text of its line.

    ``lines`` are the records as JSON Lines (``to_line``: compact, keys in ``to_json``'s
    order, ``payload`` then ``approvals``), so the payload's text is cut from its line instead
    of being encoded again; the key ``"payload":`` and the next key ``,"approvals":[`` cannot
    appear unescaped inside the strings before or after it. Lines end at ``\n`` only: a JSON
    string may hold a raw U+2028 or U+0085, which :meth:`str.splitlines` would split at.

    The cells are quoted as :func:`csv.writer` quotes them (a test checks it), by hand: the
    writer's character-by-character scan of ~30 MB of payloads was most of the download's cost.
    """
    texts = lines.split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    if len(texts) != len(records):
        raise ValueError(f"{len(records)} records but {len(texts)} lines")
    rows = [",".join((*CSV_HEADER, "payload"))]
    rows += [
        ",".join(
            map(
                _cell,
                (
                    r.time,
                    r.type,
                    r.tenant,
                    r.target,
                    r.author,
                    r.operator or "",
                    r.commit,
                    " ".join(r.approvals),
                    line[line.index(_PAYLOAD) + len(_PAYLOAD) : line.rindex(_AFTER_PAYLOAD)],
                ),
            )
        )
        for r, line in zip(records, texts, strict=True)
    ]
    rows.append("")
    return "\n".join(rows)


def _cell(text: str) -> str:
    """A CSV cell as ``csv.writer(lineterminator="\n")`` writes it (QUOTE_MINIMAL)."""
    if '"' in text or "," in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text
