"""Pure authoring pieces: field edits as data, the round-trip editor, genomes, tool specs."""

from __future__ import annotations

import pytest

from armgit.authoring.edit import edit_document, render_document
from armgit.authoring.newfiles import GenomeChanges, ToolSpec, derive_genome, parse_tool_spec
from armgit.authoring.plans import DeleteField, FieldEdit, SetField, apply_edits
from armgit.core.jsondata import JsonValue

TWO_SPACE_LISTS = b"""\
# a comment that must survive
apiVersion: armgit/v1
kind: Role
name: writer
permissions:
- write:versions   # trailing comment
- 'write:templates'
"""


@pytest.mark.parametrize(
    ("data", "edits", "expected"),
    [
        ({"a": 1}, [SetField(("a",), 2)], {"a": 2}),
        ({"a": 1}, [SetField(("b", "c"), "x")], {"a": 1, "b": {"c": "x"}}),
        ({"a": {"b": 1}}, [DeleteField(("a", "b"))], {"a": {}}),
        ({"a": 1}, [DeleteField(("x", "y"))], {"a": 1}),
        ({"a": 1}, [DeleteField(("a",)), SetField(("z",), [1])], {"z": [1]}),
    ],
)
def test_apply_edits(data: JsonValue, edits: list[FieldEdit], expected: JsonValue) -> None:
    assert apply_edits(data, edits) == expected


def test_edit_keeps_the_file_layout() -> None:
    result = edit_document(TWO_SPACE_LISTS, [SetField(("name",), "author")])
    assert result == TWO_SPACE_LISTS.replace(b"name: writer", b"name: author")


def test_insert_after_a_key_and_quote_when_needed() -> None:
    data = b"a: 1   # one\nb: 2\n"
    result = edit_document(
        data, [SetField(("when",), "2026-01-01T00:00:00Z", after="a"), SetField(("n",), "1.0")]
    )
    assert result == b'a: 1   # one\nwhen: "2026-01-01T00:00:00Z"\nb: 2\nn: "1.0"\n'


def test_render_uses_the_house_style() -> None:
    text = render_document(
        {
            "kind": "Policy",
            "allowedTools": ["a", "b"],
            "dataScopes": ["kb:read"],
            "costLimits": {"dailyTokens": 5},
            "toolRisk": {"a": "low"},
            "description": "yes",
        },
        "# header\n",
    ).decode()
    assert text == (
        '# header\nkind: Policy\nallowedTools: [a, b]\ndataScopes: ["kb:read"]\n'
        'costLimits: {dailyTokens: 5}\ntoolRisk:\n  a: low\ndescription: "yes"\n'
    )


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("crm,low", ToolSpec("crm", "low")),
        ("crm,high,crm:read,crm:write", ToolSpec("crm", "high", ("crm:read", "crm:write"))),
    ],
)
def test_tool_specs(text: str, spec: ToolSpec) -> None:
    assert parse_tool_spec(text) == spec


@pytest.mark.parametrize("text", ["crm", "crm,extreme", ",low"])
def test_bad_tool_specs(text: str) -> None:
    with pytest.raises(ValueError, match="ID,RISK"):
        parse_tool_spec(text)


def test_derive_genome_changes_only_what_is_asked() -> None:
    start: dict[str, JsonValue] = {
        "modelConfig": {"provider": "p", "modelId": "m", "topK": 3},
        "promptBundleHash": "sha256:" + "0" * 64,
        "toolManifest": [{"toolId": "a", "schemaVersion": "1", "risk": "low"}],
        "provenance": {"createdBy": "old", "source": "s", "createdAt": "t", "commitRef": "c"},
    }
    fresh: dict[str, JsonValue] = {"createdBy": "new", "source": "s", "createdAt": "u"}
    genome, problems = derive_genome(
        start, GenomeChanges(max_tokens=10, remove_tools=("a",)), fresh
    )
    assert problems == []
    assert genome == {
        "modelConfig": {"provider": "p", "modelId": "m", "topK": 3, "maxTokens": 10},
        "promptBundleHash": "sha256:" + "0" * 64,
        "toolManifest": [],
        "provenance": fresh,
    }
    _, problems = derive_genome(start, GenomeChanges(add_tools=(ToolSpec("a", "low"),)), fresh)
    assert problems == ["--add-tool a: the manifest has it already"]
    hashed, _ = derive_genome(start, GenomeChanges(tool_manifest_hash="sha256:" + "1" * 64), fresh)
    assert "toolManifest" not in hashed
    assert hashed["toolManifestHash"] == "sha256:" + "1" * 64
