"""The hook server's wire format: what the hook sends is what the server reads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from armgit.hookclient import decode_request, encode_request

names = st.binary(min_size=1, max_size=20).filter(lambda b: b"=" not in b and b"\0" not in b)
values = st.binary(max_size=50).filter(lambda b: b"\0" not in b)


@given(cwd=st.binary(max_size=100), env=st.dictionaries(names, values), stdin=st.binary())
def test_a_request_reads_back_as_it_was_sent(
    cwd: bytes, env: dict[bytes, bytes], stdin: bytes
) -> None:
    request = decode_request(encode_request(cwd, env, stdin))
    assert request == (cwd, env, stdin)


@given(data=st.binary(max_size=200))
def test_any_bytes_are_a_request_or_a_clear_error(data: bytes) -> None:
    try:
        decode_request(data)
    except ValueError as exc:
        message = str(exc)
        assert message, "a refusal says why"


def test_a_cut_request_is_refused() -> None:
    whole = encode_request(b"/srv/git/agents.git", {b"GIT_DIR": b"."}, b"a b refs/heads/main\n")
    for end in range(len(whole)):
        with pytest.raises(ValueError, match=r"request|field"):
            decode_request(whole[:end])
