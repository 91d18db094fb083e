"""What a compile reads of a registry tree to key its fragments: each tenant's tree id and
armgit.yaml's blob id, and a view of the tree holding only some tenants (to build their fragments
without reading the rest)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pygit2

from armgit.core.layout import REGISTRY_FILE, TENANTS_DIR
from armgit.store.tree import REGULAR_MODES, FileEntry, GitTree, RegistryTree, git_dir_for

TENANT_FILE = "tenant.yaml"


def tenant_trees(tree: RegistryTree, entries: list[FileEntry] | None = None) -> dict[str, str]:
    """Each tenant (a directory of ``tenants/`` holding a regular tenant.yaml) and an id that
    names every byte under it: its git tree id, or for a work tree a digest of its entries."""
    if isinstance(tree, GitTree):
        return _git_tenant_trees(tree)
    digests: dict[str, hashlib._Hash] = {}
    tenants: set[str] = set()
    for entry in entries if entries is not None else tree.entries():
        parts = entry.path.split("/")
        if len(parts) < 3 or parts[0] != TENANTS_DIR:
            continue
        digest = digests.setdefault(parts[1], hashlib.sha256())
        digest.update(f"{entry.mode:o} {entry.oid} {entry.path}\n".encode())
        if len(parts) == 3 and parts[2] == TENANT_FILE and entry.mode in REGULAR_MODES:
            tenants.add(parts[1])
    return {name: digests[name].hexdigest() for name in sorted(tenants)}


def _git_tenant_trees(tree: GitTree) -> dict[str, str]:
    root = tree.raw_tree
    if TENANTS_DIR not in root:
        return {}
    directory = root[TENANTS_DIR]
    if not isinstance(directory, pygit2.Tree):
        return {}
    found: dict[str, str] = {}
    for child in directory:
        if not isinstance(child, pygit2.Tree) or child.name is None or TENANT_FILE not in child:
            continue
        if child[TENANT_FILE].filemode in REGULAR_MODES:
            found[child.name] = str(child.id)
    return dict(sorted(found.items()))


def registry_blob(tree: RegistryTree) -> str:
    """The blob id of armgit.yaml ("" if there is none)."""
    entry = tree.entry(REGISTRY_FILE)
    return entry.oid if entry is not None else ""


def git_dir_of(tree: RegistryTree) -> Path | None:
    return tree.git_dir if isinstance(tree, GitTree) else git_dir_for(tree.source.repo)


class TenantsTree(GitTree):
    """A git registry tree that lists only armgit.yaml and the given tenants' files (what their
    fragments are built from), read like the whole tree, in parallel when there are many."""

    def __init__(self, base: GitTree, tenants: list[str]) -> None:
        super().__init__(pygit2.Repository(str(base.git_dir)), base.raw_tree, base.source)
        self._only = [REGISTRY_FILE, *(f"{TENANTS_DIR}/{t}" for t in tenants)]

    def entries(self) -> Iterator[FileEntry]:
        for path in self._only:
            try:
                obj = self.raw_tree[path]
            except KeyError:
                continue
            yield from self._walk(obj, path)
