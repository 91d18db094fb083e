"""The runtime's fast JCS digest equals the reference (rfc8785) on every input."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from armgit.core.canonical import canonical_digest
from armgit.runtime.jcs import jcs_digest
from tests.index_helpers import example_payload

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_fast_digest_matches_reference(value: Any) -> None:
    assert jcs_digest(value) == canonical_digest(value)


def test_example_genome() -> None:
    version = example_payload()["tenants"]["arm-dev"]["versions"]["customer-support@2.0.0"]
    assert jcs_digest(version["genome"]) == version["genomeHash"]
