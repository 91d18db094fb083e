"""Fuzzing the runtime's verifier: whatever the bytes, :class:`IndexRefused` or an index, nothing else.

The example registry is compiled once and signed with a key made by ``ssh-keygen``. Mutants:
the signed envelope changed byte by byte (nearly always refused at the signature); the payload
changed byte by byte and signed again; the payload changed as JSON (a value replaced by another
type, a huge or non-finite number, a key added, removed or doubled) and signed again, written
canonically or not. Signing again is what lets the mutants past the signature, into the parser
of the payload and the compilation of its tables. An index that is accepted must then answer
every question a runtime asks of it: ``evaluate`` never raises, ``resolve`` only
:class:`NotFound`.

A bug found here is kept as a named regression test in test_runtime_payload.py or
test_runtime_verify.py.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from armgit.core.canonical import CanonicalizationError, to_canonical_json
from armgit.core.index.tables import pack_payload
from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE, ROOT_PAYLOAD_TYPE, sign_envelope
from armgit.runtime import (
    IndexRefused,
    NotFound,
    TrustRoot,
    VerifiedIndex,
    parse_root,
    verify_index,
)
from armgit.runtime.trust import root_payload_bytes
from tests.index_helpers import NOW, example_payload, ssh_keygen
from tests.unit.helpers import node_paths

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Signer:
    """The example's index, and a key to sign mutants with (made once per module)."""

    def __init__(self, directory: Path) -> None:
        _, self.key, line = ssh_keygen(directory, "index")
        self.trust = TrustRoot.from_public_keys([line])
        self.payload: dict[str, Any] = pack_payload(example_payload())  # as compiled
        self.payload_bytes = to_canonical_json(self.payload)
        self.envelope = self.sign(self.payload_bytes)
        root = TrustRoot.from_public_keys([line], version=1)
        self.root: dict[str, Any] = root.to_payload()
        self.root_bytes = root_payload_bytes(root)

    def sign(self, payload: bytes, payload_type: str = INDEX_PAYLOAD_TYPE) -> bytes:
        return sign_envelope(payload, payload_type, [self.key])


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return Signer(tmp_path_factory.mktemp("index-key"))


# -- mutations ------------------------------------------------------------------------------

_TOKENS = [
    b"{", b"}", b"[", b"]", b":", b",", b'"', b"\\", b"\\u0000", b"\\ud83d", b" ", b"\n",
    b"NaN", b"Infinity", b"-Infinity", b"1e400", b"9" * 30, b"9" * 5000, b"-0", b"1.0",
    b"null", b"true", b"\x00", b"\xff", b"\xc3", b"\xef\xbb\xbf", b"==", b"A",
]  # fmt: skip


@st.composite
def byte_edits(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few bytes flipped, inserted or deleted."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(out)))
        what = draw(st.sampled_from(["flip", "insert", "delete"]))
        if what == "flip" and out:
            out[where % len(out)] ^= 1 << draw(st.integers(0, 7))
        elif what == "insert":
            out[where:where] = draw(st.sampled_from(_TOKENS) | st.binary(min_size=1, max_size=3))
        else:
            del out[where : where + draw(st.integers(1, 16))]
    return bytes(out)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e308, -0.0, 5e-324, 1e16, 0.1, 2**53 + 0.0])
    | st.text(max_size=10)
    | st.sampled_from(["ACTIVE", "APPROVED", "sha256:" + "0" * 64, "2027-01-16T00:00:00Z", "x@1"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def json_edits(draw: st.DrawFn, payload: dict[str, Any]) -> bytes:
    """The payload with a few values replaced, removed or added, as JSON text (canonical when
    it can be), now and then with a key written twice."""
    data = json.loads(json.dumps(payload))
    for _ in range(draw(st.integers(1, 3))):
        places = node_paths(data)  # again after each edit, so every path leads somewhere
        if not places:
            break
        place = draw(st.sampled_from(places))
        parent = data
        for part in place[:-1]:
            parent = parent[part]
        field = place[-1]
        what = draw(st.sampled_from(["replace", "replace", "delete", "add", "copy"]))
        if what == "replace":
            parent[field] = draw(json_values)
        elif what == "delete":
            del parent[field]
        elif what == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(json_values)
        elif what == "copy":  # a value from elsewhere in the index, of the right shape
            other = data
            for part in draw(st.sampled_from(places)):
                other = other[part]
            parent[field] = json.loads(json.dumps(other))
    try:
        text = to_canonical_json(data)
    except CanonicalizationError:
        text = json.dumps(data, separators=(",", ":")).encode()
    if draw(st.integers(0, 5)) == 0:  # a key written twice
        text = text.replace(b'{"', b'{"kind":"Index","', 1)
    if draw(st.integers(0, 5)) == 0:  # not canonical
        text = json.dumps(json.loads(text), indent=draw(st.sampled_from([None, 1]))).encode()
    return text


# -- what must hold -------------------------------------------------------------------------


def judge(data: bytes, signer: Signer) -> None:
    """``verify_index`` refuses with :class:`IndexRefused` or gives an index that answers."""
    try:
        index = verify_index(data, signer.trust, now=NOW)
    except IndexRefused as exc:
        event(f"refused {exc.reason}")
        return
    event("accepted")
    ask(index)


def ask(index: VerifiedIndex) -> None:
    """Every question a runtime may ask of each target the index names."""
    tenants = index.payload["tenants"]
    for tenant, data in tenants.items():
        for environment, templates in data["deployments"].items():
            for template in templates:
                with contextlib.suppress(NotFound):
                    index.resolve(tenant, environment, template)
                for tool in ("zendesk_search", "refund_issue", "nope"):
                    index.evaluate(
                        tenant,
                        environment,
                        template=template,
                        tool=tool,
                        estimated_cost=0.5,
                        daily_tokens_used=10,
                        data_scope="tickets:read",
                    )
                    index.evaluate(tenant, environment, template=template, tool=tool)
        for name, instance in data["instances"].items():
            index.evaluate(tenant, str(instance.get("environment")), instance=name, tool="x")


def test_the_example_index_verifies_and_answers(signer: Signer) -> None:
    index = verify_index(signer.envelope, signer.trust, now=NOW)
    ask(index)


@FUZZ
@given(st.data())
def test_envelope_byte_mutants_are_refused_or_verified(signer: Signer, data: st.DataObject) -> None:
    judge(data.draw(byte_edits(signer.envelope)), signer)


@FUZZ
@given(st.data())
def test_payload_byte_mutants_signed_again(signer: Signer, data: st.DataObject) -> None:
    judge(signer.sign(data.draw(byte_edits(signer.payload_bytes))), signer)


@FUZZ
@given(st.data())
def test_payload_json_mutants_signed_again(signer: Signer, data: st.DataObject) -> None:
    judge(signer.sign(data.draw(json_edits(signer.payload))), signer)


@FUZZ
@given(st.data())
def test_root_mutants_signed_again_are_refused_or_trusted(
    signer: Signer, data: st.DataObject
) -> None:
    payload = data.draw(byte_edits(signer.root_bytes) | json_edits(signer.root))
    try:
        root = parse_root(signer.sign(payload, ROOT_PAYLOAD_TYPE))
    except IndexRefused as exc:
        event(f"refused {exc.reason}")
        return
    event("trusted")
    assert root.threshold >= 1
    assert len(root.keys) >= root.threshold
