"""The genome encoders of the payload reader give RFC 8785's bytes: orjson (installed with
armgit) and the standard library's C encoder, wherever the reader uses them (no number that
either may print otherwise than JCS, no key JCS orders otherwise than Python)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import armgit.runtime.payload as reader
from armgit.core.canonical import to_canonical_json
from armgit.runtime import verify_index
from tests.index_helpers import NOW, example_payload, payload_bytes
from tests.unit.test_runtime_payload import TRUST, signed

BMP = st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"])  # keys: no astral
FLOATS = st.floats(min_value=1e-4, max_value=1e16, exclude_max=True).filter(
    lambda f: not f.is_integer()
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1)
    | FLOATS
    | FLOATS.map(lambda f: -f)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(BMP), inner, max_size=4),
    max_leaves=20,
)


def _reader() -> Any:
    return reader._Reader(b"", "")


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_both_encoders_give_jcs(value: Any) -> None:
    assert reader._ORJSON_DUMPS is not None  # installed with armgit
    expected = to_canonical_json(value)
    assert _reader().canonical(value, False) == expected
    assert "".join(reader._C_ENCODE(value, 0)).encode("utf-8") == expected


@pytest.mark.parametrize(
    "value",
    [
        "".join(chr(i) for i in range(0x80)) + "é\u2028\u2029\ufeff\ue000\uffff\U0001f600",
        {"\u0000": 1, "\u001f": [0.1, -0.0001, 123456789012345.6], "é": {"z": None, "a": True}},
    ],
)
def test_escapes_and_numbers(value: Any) -> None:
    assert _reader().canonical(value, False) == to_canonical_json(value)


def test_orjsons_limits_fall_back_to_the_standard_library() -> None:
    deep: Any = 1
    for _ in range(300):  # deeper than orjson encodes
        deep = [deep]
    assert _reader().canonical(deep, False) == json.dumps(deep, separators=(",", ":")).encode()


def test_the_example_loads_the_same_without_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    data = signed(payload_bytes(example_payload()))
    with_orjson = verify_index(data, TRUST, now=NOW).payload
    monkeypatch.setattr(reader, "_ORJSON_DUMPS", None)  # an install without it
    assert verify_index(data, TRUST, now=NOW).payload == with_orjson
