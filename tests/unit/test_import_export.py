"""Reading Convex exports: ids, both formats, ZIP and folder, and refusals naming table, line
and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from armgit.importer.export import ExportError, parse_export
from armgit.importer.files import read_entries, read_export
from armgit.importer.ids import encode_id, table_number
from tests.import_exports import SAMPLES, small_arm, small_mc


@pytest.mark.parametrize(
    ("document_id", "number"),
    [
        ("j578z37z4hjayapw8nkvx24ya0kv9way", 10001),  # the sample's tenant
        ("js7bgr96j715tem7x00dsqrny6nkg87c", 10006),  # a version
        ("k570smje539te2qtmfrbqzjw8xq0y9ds", 10009),  # the policy ARM names as a plain string
        ("j578z37z4hjayapw8nkvx24ya0kv9wax", None),  # one character off: the checksum fails
        ("j578z37z4hjayapw8nkvx24ya0kv9wa", None),  # too short
        ("J578Z37Z4HJAYAPW8NKVX24YA0KV9WAY", None),  # not the lowercase alphabet
        ("support-prod", None),
    ],
)
def test_ids_decode_to_their_table(document_id: str, number: int | None) -> None:
    assert table_number(document_id) == number


@pytest.mark.parametrize("table", [0, 1, 127, 128, 10001, 2**20])
def test_ids_round_trip(table: int) -> None:
    assert table_number(encode_id(table, bytes(range(16)))) == table


def test_samples_read_in_both_formats_zip_and_folder(tmp_path: Path) -> None:
    arm = read_export(SAMPLES / "arm-sample-export.zip")
    assert set(arm.formats.values()) == {"uniform"}
    assert len(arm.rows("changeRecords")) == 9
    assert arm.table_of("k570smje539te2qtmfrbqzjw8xq0y9ds") == "policyEnvelopes"
    mc = read_export(SAMPLES / "mc-sample-export.zip")
    assert set(mc.formats.values()) == {"older"}
    assert [r.fields["name"] for r in mc.rows("agents")] == ["Atlas", "Echo"]
    folder = tmp_path / "unpacked"
    for name, data in read_entries(SAMPLES / "arm-sample-export.zip").items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    assert read_export(folder).digest == arm.digest
    nested = tmp_path / "nested"
    (nested / "x").parent.mkdir(parents=True)
    folder.rename(nested / "x")
    assert read_export(nested).digest == arm.digest  # unpacked into one top folder


def test_generated_exports_in_both_formats_read_the_same(tmp_path: Path) -> None:
    uniform = parse_export(small_arm("uniform")[0].entries())
    older = parse_export(small_arm("older")[0].entries())
    assert uniform.formats["agentVersions"] == "uniform"
    assert older.formats["agentVersions"] == "older"
    for table in uniform.tables:
        assert [r.id for r in uniform.rows(table)] == [r.id for r in older.rows(table)]
    builder = small_mc("older")[0]
    zipped = read_export(builder.write_zip(tmp_path / "mc.zip"))
    atlas = zipped.rows("agents")[0]
    assert atlas.fields["maxSubAgents"] == 3  # an Int64 written as "3", known from the shape
    assert read_export(builder.write_folder(tmp_path / "mc")).digest == zipped.digest


def test_older_format_overrides_name_int64_values() -> None:
    builder, _ = small_mc("older")
    entries = builder.entries()
    atlas = json.loads(entries["agents/documents.jsonl"].decode().splitlines()[0])
    atlas["errorStreak"] = "7"
    lines = entries["agents/documents.jsonl"].decode().splitlines()
    lines[0] = json.dumps(atlas)
    entries["agents/documents.jsonl"] = ("\n".join(lines) + "\n").encode()
    schema = entries["agents/generated_schema.jsonl"].decode()
    override = json.dumps({atlas["_id"]: {"errorStreak": "int64"}})
    entries["agents/generated_schema.jsonl"] = (schema + override + "\n").encode()
    assert parse_export(entries).rows("agents")[0].fields["errorStreak"] == 7


def test_line_separators_inside_strings_do_not_split_a_row() -> None:
    # JSON.stringify (what Convex exports with) leaves U+2028, U+2029 and U+0085 raw in strings
    entries = small_arm()[0].entries()
    lines = entries["tenants/documents.jsonl"].decode().splitlines()
    tenant = json.loads(lines[0])
    tenant["name"] = "Acme\u2028Support\u2029Team\x85West\x1c\x1d\x1e"
    lines[0] = json.dumps(tenant, ensure_ascii=False)
    entries["tenants/documents.jsonl"] = ("\r\n".join(lines) + "\r\n").encode()
    rows = parse_export(entries).rows("tenants")
    assert rows[0].fields["name"] == tenant["name"]
    assert len(rows) == len(lines)


def _broken(table: str, line: int, edit: object) -> dict[str, bytes]:
    entries = small_arm()[0].entries()
    lines = entries[f"{table}/documents.jsonl"].decode().splitlines()
    lines[line - 1] = edit(lines[line - 1]) if callable(edit) else str(edit)
    entries[f"{table}/documents.jsonl"] = ("\n".join(lines) + "\n").encode()
    return entries


def _set(field: str, value: object) -> object:
    def edit(line: str) -> str:
        doc = json.loads(line)
        doc[field] = value
        return json.dumps(doc)

    return edit


@pytest.mark.parametrize(
    ("entries", "where", "says"),
    [
        (
            _broken("agentVersions", 2, "{not json"),
            "agentVersions/documents.jsonl, line 2",
            "not a JSON document",
        ),
        (
            _broken("operators", 1, _set("_id", 5)),
            "operators/documents.jsonl, line 1, field _id",
            "not a string",
        ),
        (
            _broken(
                "policyEnvelopes",
                1,
                _set("costLimits", {"monthlyCost": {"$float": "AAAAAAAA8H8="}}),
            ),
            "policyEnvelopes/documents.jsonl, line 1, field costLimits.monthlyCost",
            "encoded value",
        ),
        (
            _broken("tenants", 1, _set("_creationTime", "soon")),
            "tenants/documents.jsonl, line 1, field _creationTime",
            "not a number",
        ),
        (
            _broken("tenants", 1, '{"_id": "a", "_creationTime": NaN}'),
            "tenants/documents.jsonl, line 1",
            "not a JSON document",
        ),
    ],
)
def test_unreadable_rows_are_refused_with_table_line_and_field(
    entries: dict[str, bytes], where: str, says: str
) -> None:
    with pytest.raises(ExportError) as caught:
        parse_export(entries)
    assert caught.value.where == where
    assert says in str(caught.value)


def test_unreadable_exports_are_refused(tmp_path: Path) -> None:
    entries = small_arm()[0].entries()
    cases: list[tuple[dict[str, bytes], str]] = [
        ({**entries, "_components/auth/_tables/documents.jsonl": b""}, "components"),
        ({k: v for k, v in entries.items() if k != "_tables/documents.jsonl"}, "not a Convex"),
        ({**entries, "roles/generated_schema.jsonl": b"42\n"}, "unknown export format"),
        ({k: v for k, v in entries.items() if k != "roles/generated_schema.jsonl"}, "format"),
        ({k: v for k, v in entries.items() if k != "roles/documents.jsonl"}, "missing"),
        ({**entries, "roles/generated_schema.jsonl": b'"{data: bytes}"\n'}, "bytes"),
        ({**entries, "_tables/documents.jsonl": b'{"name": "roles", "id": "x"}\n'}, "table number"),
    ]
    for broken, says in cases:
        with pytest.raises(ExportError, match=says):
            parse_export(broken)
    (tmp_path / "junk.zip").write_bytes(b"PK not really")
    with pytest.raises(ExportError, match="neither a folder nor a ZIP"):
        read_export(tmp_path / "junk.zip")
    with pytest.raises(ExportError, match="no such file"):
        read_export(tmp_path / "absent.zip")
