"""The compile of a registry tree: its verdict, its tenants' fragments, built where missing.

See :mod:`armgit.index.compile` for the steps; it calls this module only on a cache miss. This
is the part that reads git and, for a fragment not in the cache, the registry's files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pygit2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.core.canonical import to_canonical_json
from armgit.core.findings import Finding
from armgit.core.index.assemble import IndexOptions, Source
from armgit.errors import StoreError
from armgit.index.signed import (
    Compiled,
    Signers,
    parse_name,
    parse_signers,
    select_tenants,
    sign_index,
)
from armgit.store.compiled import (
    FragmentCache,
    Manifest,
    fragment_cache_path,
    manifest_key,
    registry_name_key,
    registry_signers_key,
    tenant_key,
)
from armgit.store.refs import QuickRef
from armgit.store.results import CachedResult, ResultCache, registry_key, result_cache_path
from armgit.store.tenants import TenantsTree, git_dir_of, registry_blob, tenant_trees
from armgit.store.tree import FileEntry, GitTree, RegistryTree

if TYPE_CHECKING:
    from armgit.core.snapshot import Snapshot
    from armgit.registry.loader import Loaded


class Compiler:
    """One registry tree, compiled once or several times (publishing writes the full index and
    one per tenant from the same fragments, checked once). With ``ref`` (what the revision was
    read as, :mod:`armgit.store.refs`), a successful compile leaves a manifest for that ref."""

    def __init__(self, tree: RegistryTree, ref: QuickRef | None = None) -> None:
        self.tree = tree
        self._ref = ref
        git_dir = git_dir_of(tree)
        self._results = ResultCache(result_cache_path(git_dir))
        self._fragments = FragmentCache(fragment_cache_path(git_dir))
        self._entries: list[FileEntry] | None = (
            None if isinstance(tree, GitTree) else list(tree.entries())
        )
        self._findings: list[Finding] | None = None
        self._snapshot: Snapshot | None = None  # the whole registry, once it had to be read
        self._tenants: dict[str, str] | None = None

    def findings(self) -> list[Finding]:
        """What is wrong with the registry: the cached verdict on its tree, or a full check."""
        if self._findings is None:
            key = registry_key(self.tree, self._entries)
            cached = self._results.get(key)
            if cached is not None:
                self._findings = cached.findings
            else:
                loaded = self._load_all()
                verdict = CachedResult(loaded.findings, loaded.files, len(loaded.snapshot))
                self._results.put(key, verdict)
        assert self._findings is not None
        return self._findings

    def tenants(self) -> list[str]:
        """The registry's tenants, sorted."""
        return list(self._tenant_trees())

    def compile(
        self,
        keys: Sequence[Ed25519PrivateKey],
        options: IndexOptions,
        *,
        source_repo: str | None = None,
        dirty: str | None = None,
    ) -> Compiled:
        """The signed index of every tenant, or of ``options.tenant`` only; refused with the
        registry's findings. ``dirty``: the tree is a work tree with uncommitted changes on
        top of this commit (``""`` for none), said so in ``source``."""
        findings = self.findings()
        if findings:
            return Compiled(None, None, findings)
        tenants = select_tenants(self.tenants(), options.tenant)
        fragments, refused = self._fragments_of(tenants)
        if refused:
            return Compiled(None, None, refused)
        info = self.tree.source
        source = Source(source_repo or info.repo, info.commit, info.tree)
        if dirty is not None:
            source = Source(source_repo or info.repo, dirty, "", dirty=True)
        result = sign_index(keys, self._registry_name(), source, options, fragments, self.signers())
        self._record()
        self._fragments.save()
        return result

    def _record(self) -> None:
        """Leave the manifest of this tree under the ref it was asked for (if that ref is one
        :mod:`armgit.store.refs` reads, and names this very commit in this repository)."""
        ref, tree = self._ref, self.tree
        if ref is None or not isinstance(tree, GitTree) or self._fragments.has_no_file():
            return
        if ref.git_dir.resolve() != tree.git_dir.resolve():
            return
        try:
            target = pygit2.Repository(str(tree.git_dir)).get(ref.oid)
            commit = target.peel(pygit2.Commit) if target is not None else None
        except (ValueError, pygit2.GitError):
            return
        if commit is None or str(commit.id) != tree.source.commit:
            return
        info = tree.source
        blob = registry_blob(tree)
        manifest = Manifest(info.commit, info.tree, info.repo, blob, self._tenant_trees())
        self._fragments.put(manifest_key(ref.root, ref.oid), manifest.to_bytes())

    def _tenant_trees(self) -> dict[str, str]:
        if self._tenants is None:
            self._tenants = tenant_trees(self.tree, self._entries)
            if self._snapshot is not None:
                self._check_tenants(self._snapshot)
        return self._tenants

    def _check_tenants(self, snapshot: Snapshot) -> None:
        from armgit.core.index.build import tenant_names

        if self._tenants is not None and list(self._tenants) != tenant_names(snapshot):
            raise StoreError("the tenants of the tree and of its entities differ")

    def _fragments_of(self, tenants: list[str]) -> tuple[dict[str, bytes], list[Finding]]:
        """Each tenant's canonical fragment, built where the cache has none (or the findings of
        the files they would be built from, which the verdict should have reported)."""
        trees = self._tenant_trees()
        blob = registry_blob(self.tree)
        keys = {t: tenant_key(t, trees[t], blob) for t in tenants}
        fragments: dict[str, bytes] = {}
        missing: list[str] = []
        for name, key in keys.items():
            found = self._fragments.get(key)
            if found is None:
                missing.append(name)
            else:
                fragments[name] = found
        if missing:
            from armgit.core.index.build import build_tenant

            snapshot, findings = self._snapshot_of(missing)
            if findings:
                return {}, findings
            for name in missing:
                fragments[name] = to_canonical_json(build_tenant(snapshot, name))
                self._fragments.put(keys[name], fragments[name])
        return fragments, []

    def _registry_name(self) -> str:
        key = registry_name_key(registry_blob(self.tree))
        found = self._fragments.get(key)
        name = parse_name(found) if found is not None else None
        if name is None:
            snapshot, _ = self._snapshot_of([])
            registry = snapshot.registry
            name = registry.name if registry is not None else ""
            self._fragments.put(key, to_canonical_json(name))
        return name

    def signers(self) -> Signers:
        """armgit.yaml's ``indexSigners`` (from the compile cache, by its blob id)."""
        key = registry_signers_key(registry_blob(self.tree))
        found = self._fragments.get(key)
        signers = parse_signers(found) if found is not None else None
        if signers is None:
            snapshot, _ = self._snapshot_of([])
            registry = snapshot.registry
            signers = Signers()
            if registry is not None:
                listed = registry.index_signers
                signers = Signers(
                    listed.threshold, tuple((k.name, k.public_key) for k in listed.keys)
                )
            self._fragments.put(key, signers.to_bytes())
        return signers

    def _snapshot_of(self, tenants: list[str]) -> tuple[Snapshot, list[Finding]]:
        """A snapshot holding at least armgit.yaml and ``tenants``: the whole registry if it was
        read, else just those files (the verdict says the registry is valid: no rules rerun)."""
        if self._snapshot is not None:
            return self._snapshot, []
        if not isinstance(self.tree, GitTree):
            loaded = self._load_all()
            return loaded.snapshot, loaded.findings
        from armgit.registry.loader import load_registry
        from armgit.store.cache import ContentCache, cache_path

        cache = ContentCache(cache_path(self.tree.git_dir))
        loaded = load_registry(TenantsTree(self.tree, tenants), cache, check=False)
        cache.save()
        return loaded.snapshot, loaded.findings

    def _load_all(self) -> Loaded:
        from armgit.registry.loader import load_registry
        from armgit.store.cache import ContentCache, cache_path

        cache = ContentCache(cache_path(git_dir_of(self.tree)))
        loaded = load_registry(self.tree, cache)
        cache.save()
        self._snapshot = loaded.snapshot
        self._findings = loaded.findings
        if self._tenants is not None and not loaded.findings:
            self._check_tenants(loaded.snapshot)
        return loaded
