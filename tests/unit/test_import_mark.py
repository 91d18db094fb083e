"""The import mark's place trailer: a marked commit follows the one below it only as the
importer writes them (the next of the same import, or the first above an unmarked commit)."""

from __future__ import annotations

from armgit.core.importmark import follows, import_mark, import_position, mark_lines

DIGEST = "sha256:" + "a" * 64


def _message(n: int, total: int, source: str = "arm", digest: str = DIGEST) -> str:
    return "ARM: X\n\n" + "\n".join(mark_lines(source, digest, n, total)) + "\n"


def test_the_mark_needs_a_well_formed_place() -> None:
    assert import_mark(_message(2, 3)) == ("arm", DIGEST)
    assert import_position(_message(2, 3)) == (2, 3)
    for bad in ("0/3", "4/3", "x/3", "3", "-1/3", "1/", "²/3"):
        text = _message(1, 3).replace("1/3", bad)
        assert import_position(text) is None, bad
        assert import_mark(text) is None, bad
    two_trailers = "\n".join(_message(1, 1).splitlines()[:-1])
    assert import_mark(two_trailers) is None


def test_a_marked_commit_follows_only_as_the_importer_writes_them() -> None:
    plain = "an ordinary commit"
    assert follows(_message(1, 3), plain)
    assert follows(_message(2, 3), _message(1, 3))
    assert follows(_message(3, 3), _message(2, 3))
    assert not follows(_message(1, 3), None)  # a root
    assert not follows(_message(2, 3), plain)  # not the first, yet right above an unmarked one
    assert not follows(_message(1, 1), _message(3, 3))  # a new "import" on top of an import
    assert not follows(_message(3, 3), _message(3, 3))  # a copy of the last on top of it
    assert not follows(_message(4, 4), _message(3, 3))  # one more, with the total moved
    assert not follows(_message(3, 3), _message(2, 3, digest="sha256:" + "b" * 64))
    assert not follows(_message(3, 3), _message(2, 3, source="other"))
    assert not follows(plain, plain)
