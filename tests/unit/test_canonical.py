"""Canonical JSON and the genome hash: stable, order-free, and the same through YAML."""

from __future__ import annotations

import hashlib
import json
import random

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from armgit.core.canonical import CanonicalizationError, genome_hash, to_canonical_json
from armgit.core.jsondata import JsonValue
from armgit.core.yamldata import YamlDoc, parse_yaml

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8"), max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=500)
@given(json_values)
def test_matches_the_rfc8785_package(value: JsonValue) -> None:
    # to_canonical_json takes a fast path (orjson, else json.dumps) where it provably agrees
    assert to_canonical_json(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [
        {"\uffff": 1, "\ue000": 2, "z": 3, "é": 4, "a\u0000": 5, "\u007f": 6, "\u2028": 7},
        ['\u0000\u001f\b\f\n\r\t"\\/', "\u007f\u0080\u2028\u2029", "\U0001f600"],
        [0.1, 1e-4, 9.999999999999998e15, 1.5e300, 5e-324, -0.0, 1.0, 2.0**52],
    ],
    ids=["keys", "escapes", "numbers"],
)
def test_the_fast_path_agrees_on_the_edges(value: JsonValue) -> None:
    assert to_canonical_json(value) == rfc8785.dumps(value)


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53) + 1, 2**53 - 1))
def test_numbers_match_the_rfc8785_package(value: float) -> None:
    assert to_canonical_json([value, {"k": value}]) == rfc8785.dumps([value, {"k": value}])


@pytest.mark.parametrize("value", ["\ud800", {"\udfff": 1}, 2**53, [10**30]])
def test_what_rfc8785_cannot_encode_is_a_clear_error(value: JsonValue) -> None:
    with pytest.raises(CanonicalizationError):
        to_canonical_json(value)


@given(json_values)
def test_canonical_form_is_a_fixed_point(value: JsonValue) -> None:
    once = to_canonical_json(value)
    # a float like 2.0**53 is written as an integer; read it back as the float it was
    reread = json.loads(once, parse_int=lambda s: int(s) if abs(int(s)) < 2**53 else float(s))
    assert to_canonical_json(reread) == once


@given(st.dictionaries(st.text(max_size=8), scalars, min_size=2, max_size=8), st.randoms())
def test_hash_ignores_key_order(value: dict[str, JsonValue], rnd: random.Random) -> None:
    items = list(value.items())
    rnd.shuffle(items)
    assert genome_hash(dict(items)) == genome_hash(value)


bmp_text = st.text(st.characters(max_codepoint=0xFFFF, codec="utf-8"), max_size=8)
bmp_values = st.recursive(
    scalars.filter(lambda v: not isinstance(v, str)) | bmp_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(bmp_text, children, max_size=4)
    ),
    max_leaves=20,
)


@given(bmp_values)
def test_json_text_read_as_yaml_hashes_the_same(value: JsonValue) -> None:
    # YAML is a superset of JSON but for surrogate-pair escapes (libyaml refuses them), so the
    # values here stay in the basic multilingual plane; control characters are escaped
    doc = parse_yaml(json.dumps({"genome": value}).encode())
    assert isinstance(doc, YamlDoc)
    assert isinstance(doc.data, dict)
    assert genome_hash(doc.data["genome"]) == genome_hash(value)


@settings(max_examples=200)
@given(json_values)
def test_yaml_written_by_libyaml_reads_back_the_same(value: JsonValue) -> None:
    import io

    out = io.BytesIO()
    YAML(typ="safe", pure=False).dump({"genome": value}, out)
    doc = parse_yaml(out.getvalue())
    assert isinstance(doc, YamlDoc), doc
    assert isinstance(doc.data, dict)
    assert to_canonical_json(doc.data["genome"]) == to_canonical_json(value)


def test_genome_hash_is_sha256_of_jcs() -> None:
    genome: JsonValue = {"b": [1, 2.0, "é"], "a": {"z": None, "y": True}}
    expected = hashlib.sha256(b'{"a":{"y":true,"z":null},"b":[1,2,"\xc3\xa9"]}').hexdigest()
    assert genome_hash(genome) == "sha256:" + expected
