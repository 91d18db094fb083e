"""The JSON text of the site's data scripts: orjson where it can, the standard library where
orjson refuses, the same data either way."""

from __future__ import annotations

import json

from armgit.core.findings import Finding
from armgit.site.render import _json
from armgit.site.views import finding_row


def test_data_text_reads_back_as_the_data() -> None:
    value = {"name": "støtte </script> \u2028", "n": [1, 2.5, None, True], "nested": {"a": "b"}}
    text = _json(value)
    assert json.loads(text) == value
    assert text == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def test_a_finding_is_written_as_its_row() -> None:
    finding = Finding(
        "genome-hash-mismatch", "tenants/t/x.yaml", "the genome does not hash", line=3
    )
    assert json.loads(_json({"f": [finding]})) == {"f": [finding_row(finding)]}


def test_what_orjson_refuses_is_written_by_the_standard_library() -> None:
    value = {"big": 2**70, 1: "a non-string key"}
    assert json.loads(_json(value)) == {"big": 2**70, "1": "a non-string key"}
