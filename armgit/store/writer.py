"""Writing files and commits: atomic file writes, and new repositories through pygit2."""

from __future__ import annotations

from pathlib import Path

import pygit2

from armgit.errors import StoreError
from armgit.store.atomic import write_atomic


def init_repository(
    directory: Path, files: dict[str, str], message: str, fallback: tuple[str, str]
) -> str:
    """Create a repository in ``directory`` (absent or empty) holding ``files``, committed on
    ``main``. The author is the user's git identity, or ``fallback`` (name, email)."""
    if directory.exists() and any(directory.iterdir()):
        raise StoreError(f"{directory} is not empty: armgit init needs a new or empty directory")
    existing = next(p for p in (directory, *directory.parents) if p.exists())
    if not existing.is_dir():  # libgit2 would say "directory exists" of it
        raise StoreError(
            f"cannot create a repository in {directory}: {existing} is not a directory"
        )
    try:
        repo = pygit2.init_repository(str(directory), initial_head="main")
    except pygit2.GitError as exc:
        raise StoreError(f"cannot create a repository in {directory}: {exc}") from exc
    for path, text in files.items():
        write_atomic(directory / path, text.encode("utf-8"))
    repo.index.add_all()
    repo.index.write()
    tree = repo.index.write_tree()
    try:
        author = repo.default_signature
    except (KeyError, pygit2.GitError):
        author = pygit2.Signature(*fallback)
    commit = repo.create_commit("HEAD", author, author, message, tree, [])
    return str(commit)
