"""The store's tree diff says what ``git diff-tree -r --no-renames`` says, on any two trees."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pygit2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from armgit.store.tree import MODE_EXECUTABLE, MODE_FILE, MODE_SYMLINK, GitTree, SourceInfo

Files = dict[str, tuple[bytes, int]]

_SEGMENTS = st.sampled_from(["a", "b", "a.b", "a-b", "c"])
_PATHS = st.lists(_SEGMENTS, min_size=1, max_size=3).map("/".join)
_FILES = st.dictionaries(
    _PATHS,
    st.tuples(
        st.sampled_from([b"x", b"y"]), st.sampled_from([MODE_FILE, MODE_EXECUTABLE, MODE_SYMLINK])
    ),
    max_size=12,
)


def _tree(repo: pygit2.Repository, files: Files) -> GitTree:
    index = pygit2.Index()
    for path, (data, mode) in files.items():
        if any(other.startswith(f"{path}/") for other in files):
            continue  # a path cannot be both a file and a directory in one tree
        index.add(pygit2.IndexEntry(path, repo.create_blob(data), pygit2.enums.FileMode(mode)))
    tree = repo.get(index.write_tree(repo))
    assert isinstance(tree, pygit2.Tree)
    return GitTree(repo, tree, SourceInfo(repo.path, "", str(tree.id)))


def _git_diff(repo: pygit2.Repository, old: GitTree, new: GitTree) -> tuple[list[str], list[str]]:
    argv = ["git", "--git-dir", repo.path, "diff-tree", "-r", "-z", "--no-renames"]
    out = subprocess.run(
        [*argv, "--name-status", old.source.tree, new.source.tree],
        capture_output=True,
        check=True,
    ).stdout.decode()
    fields = out.split("\0")[:-1]
    pairs = list(zip(fields[::2], fields[1::2], strict=True))
    changed = sorted(path for status, path in pairs if status != "D")
    deleted = sorted(path for status, path in pairs if status == "D")
    return changed, deleted


@settings(
    deadline=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=_FILES, after=_FILES)
def test_changes_match_git(tmp_path: Path, before: Files, after: Files) -> None:
    repo = pygit2.init_repository(str(tmp_path / "repo.git"), bare=True)
    old, new = _tree(repo, before), _tree(repo, after)
    assert new.changes_from(old) == _git_diff(repo, old, new)


def test_file_replaced_by_directory(tmp_path: Path) -> None:
    repo = pygit2.init_repository(str(tmp_path / "repo.git"), bare=True)
    old = _tree(repo, {"tenants/a": (b"x", MODE_FILE), "tenants/b/c": (b"x", MODE_FILE)})
    new = _tree(repo, {"tenants/a/x.yaml": (b"x", MODE_FILE), "tenants/b": (b"y", MODE_FILE)})
    assert new.changes_from(old) == (
        ["tenants/a/x.yaml", "tenants/b"],
        ["tenants/a", "tenants/b/c"],
    )


def test_a_large_directory_changed_in_a_few_places(tmp_path: Path) -> None:
    """A directory of one entry per template (thousands): the entries compared as raw bytes
    past a common head and tail give what git gives, wherever the changes fall."""
    repo = pygit2.init_repository(str(tmp_path / "repo.git"), bare=True)
    names = [f"t/{i:04d}.yaml" for i in range(600)]
    before: Files = {name: (b"x", MODE_FILE) for name in names}
    for edits in (
        {names[0]: (b"y", MODE_FILE)},  # the first entry
        {names[-1]: (b"x", MODE_EXECUTABLE)},  # the last, its mode only
        {names[300]: (b"y", MODE_FILE), "t/0300a.yaml": (b"x", MODE_FILE)},  # one in, one after
        {names[10]: (b"y", MODE_SYMLINK), names[590]: (b"y", MODE_FILE)},  # far apart
    ):
        after = {**before, **edits}
        for gone in ([], [names[299]], [names[0], names[-1]]):
            shrunk = {k: v for k, v in after.items() if k not in gone}
            old, new = _tree(repo, before), _tree(repo, shrunk)
            assert new.changes_from(old) == _git_diff(repo, old, new)
            assert old.changes_from(new) == _git_diff(repo, new, old)
