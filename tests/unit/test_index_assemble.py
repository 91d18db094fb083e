"""The payload assembled from canonical fragments is the canonical payload, byte for byte."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armgit.core.canonical import to_canonical_json
from armgit.core.index.assemble import (
    IndexOptions,
    Source,
    assemble_payload,
    canonical_object,
    jcs_order,
    payload_head,
)
from armgit.core.index.build import build_index, build_tenant, tenant_names
from armgit.core.jsondata import JsonObject, JsonValue
from armgit.core.snapshot import Snapshot
from armgit.registry.loader import load_registry
from armgit.store.tree import WorkTree
from tests.conftest import EXAMPLE
from tests.unit.test_canonical import json_values

# keys from every plane: above U+FFFF, UTF-16 order (surrogates 0xD800..) differs from code
# point order (U+E000..U+FFFF sort after them by code point, before them by code unit)
keys = st.text(st.characters(codec="utf-8"), max_size=6)
heads = st.dictionaries(keys.filter(lambda k: k != "tenants"), json_values, max_size=8)
tenants = st.dictionaries(keys, json_values, max_size=6)


@settings(max_examples=300)
@given(heads, tenants)
def test_assembled_payload_is_the_canonical_whole(
    head: JsonObject, fragments: dict[str, JsonValue]
) -> None:
    whole: JsonObject = {**head, "tenants": fragments}
    canonical = {name: to_canonical_json(value) for name, value in fragments.items()}
    assert assemble_payload(head, canonical) == to_canonical_json(whole)


@given(st.dictionaries(keys, json_values, max_size=8))
def test_canonical_object_of_canonical_members(value: dict[str, JsonValue]) -> None:
    members = {k: to_canonical_json(v) for k, v in value.items()}
    assert canonical_object(members) == to_canonical_json(value)


def test_key_order_is_utf16_not_code_points() -> None:
    # U+1F600 is the surrogate pair D83D DE00, which sorts before U+FF21 in UTF-16
    assert jcs_order(["\uff21", "\U0001f600", "a"]) == ["a", "\U0001f600", "\uff21"]
    assert sorted(["\uff21", "\U0001f600"]) == ["\uff21", "\U0001f600"]


def test_a_head_with_tenants_is_refused() -> None:
    with pytest.raises(ValueError, match="no tenants field"):
        assemble_payload({"tenants": {}}, {})


@pytest.fixture(scope="module")
def example() -> Snapshot:
    loaded = load_registry(WorkTree(EXAMPLE))
    assert not loaded.findings
    return loaded.snapshot


def test_example_payload_assembled_from_tenants(example: Snapshot) -> None:
    options = IndexOptions(issued_at="2027-01-15T00:00:00Z", expires="2027-01-22T00:00:00Z")
    source = Source("example", "a" * 40, "b" * 40)
    whole = build_index(example, source, options)
    registry = example.registry
    head = payload_head(registry.name if registry is not None else "", source, options)
    fragments = {t: to_canonical_json(build_tenant(example, t)) for t in tenant_names(example)}
    assert fragments
    assert assemble_payload(head, fragments) == to_canonical_json(whole)
