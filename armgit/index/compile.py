"""``armgit compile``: a registry at one commit -> one signed index file.

The payload is a pure function of the tree, the options and the issue time, and each tenant's
part of it depends on that tenant's files (and armgit.yaml) alone. So a compile:

1. asks the validation verdict cache (:mod:`armgit.store.results`, by tree id) whether the tree
   is valid; without a verdict it loads and checks the whole registry, as ``armgit validate``
   does, and records one. A registry with findings is refused;
2. takes each tenant's RFC 8785 fragment from the compile cache (:mod:`armgit.store.compiled`,
   by the tenant's tree id) and builds only the missing ones with the pure
   :func:`armgit.core.index.build.build_tenant`, from a snapshot of just those tenants when
   the whole registry was not loaded;
3. assembles the canonical payload from the fragments and the top-level fields (the same bytes
   as canonicalizing the whole, :mod:`armgit.core.index.assemble`) and signs it in a DSSE
   envelope.

Nothing here imports the models (pydantic) until a fragment has to be built.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.core import timeutil
from armgit.core.canonical import to_canonical_json
from armgit.core.findings import Finding
from armgit.core.index.assemble import IndexOptions, Source, assemble_payload, payload_head
from armgit.core.jsondata import JsonObject
from armgit.core.timeutil import format_time
from armgit.errors import StoreError, UsageError
from armgit.index.dsse import INDEX_PAYLOAD_TYPE, sign_envelope
from armgit.store.compiled import (
    FragmentCache,
    TenantsTree,
    fragment_cache_path,
    git_dir_of,
    registry_blob,
    registry_name_key,
    tenant_key,
    tenant_trees,
)
from armgit.store.results import CachedResult, ResultCache, registry_key, result_cache_path
from armgit.store.tree import FileEntry, GitTree, RegistryTree, open_tree

if TYPE_CHECKING:
    from armgit.core.snapshot import Snapshot
    from armgit.loader import Loaded

DEFAULT_EXPIRES_IN = "7d"


def parse_duration(text: str) -> timedelta:
    """``30s``, ``15m``, ``12h``, ``7d``."""
    try:
        return timeutil.parse_duration(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def parse_issued_at(text: str | None, source_date_epoch: str | None) -> datetime:
    """``--issued-at`` (RFC 3339 with a zone), else ``SOURCE_DATE_EPOCH``, else now."""
    if text is not None:
        try:
            when = datetime.fromisoformat(text)
        except ValueError as exc:
            raise UsageError(f"--issued-at {text!r} is not an RFC 3339 time") from exc
        if when.tzinfo is None:
            raise UsageError(f"--issued-at {text!r} needs a time zone (Z or +01:00)")
        return when.astimezone(UTC)
    if source_date_epoch:
        if not source_date_epoch.isdigit():
            raise UsageError(f"SOURCE_DATE_EPOCH={source_date_epoch!r} is not a number of seconds")
        return datetime.fromtimestamp(int(source_date_epoch), UTC)
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PreviousIndex:
    version: int
    digest: str


def read_previous(data: bytes) -> PreviousIndex:
    """The version and payload digest of a previously published index (signatures not checked:
    it only numbers the next one)."""
    from armgit.runtime.envelope import parse_envelope, parse_json
    from armgit.runtime.errors import IndexRefused

    try:
        envelope = parse_envelope(data, INDEX_PAYLOAD_TYPE)
        payload = parse_json(envelope.payload, "payload")
    except IndexRefused as exc:
        raise UsageError(f"--previous is not an armgit index: {exc.detail}") from exc
    version = payload.get("version") if isinstance(payload, dict) else None
    if type(version) is not int or version < 1:
        raise UsageError("--previous is not an armgit index: it has no version")
    return PreviousIndex(version, "sha256:" + hashlib.sha256(envelope.payload).hexdigest())


@dataclass(frozen=True, slots=True)
class Compiled:
    """The result: the envelope and canonical payload bytes with what the payload holds, or
    the findings that refused the registry."""

    envelope: bytes | None
    payload_bytes: bytes | None
    findings: list[Finding]
    tenants: tuple[str, ...] = ()
    version: int = 0
    expires: str = ""

    @property
    def payload(self) -> JsonObject | None:
        """The payload as JSON data (parsed from its bytes on each call)."""
        if self.payload_bytes is None:
            return None
        data: JsonObject = json.loads(self.payload_bytes)
        return data


def compile_index(
    repo: str | Path | None,
    rev: str | None,
    keys: Sequence[Ed25519PrivateKey],
    *,
    issued_at: datetime,
    expires_in: timedelta,
    tenant: str | None = None,
    previous: PreviousIndex | None = None,
    source_repo: str | None = None,
) -> Compiled:
    """Compile the registry at ``repo``/``rev`` and sign it with every key of ``keys``."""
    return Compiler(open_tree(repo, rev)).compile(
        keys,
        issued_at=issued_at,
        expires_in=expires_in,
        tenant=tenant,
        previous=previous,
        source_repo=source_repo,
    )


class Compiler:
    """One registry tree, compiled once or several times (publishing writes the full index and
    one per tenant from the same fragments, checked once)."""

    def __init__(self, tree: RegistryTree) -> None:
        self.tree = tree
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
        *,
        issued_at: datetime,
        expires_in: timedelta,
        tenant: str | None = None,
        previous: PreviousIndex | None = None,
        source_repo: str | None = None,
    ) -> Compiled:
        """The signed index of every tenant, or of ``tenant`` only; refused with findings."""
        findings = self.findings()
        if findings:
            return Compiled(None, None, findings)
        tenants = self.tenants()
        if tenant is not None:
            if tenant not in tenants:
                raise UsageError(f"tenant {tenant!r} does not exist in this registry")
            tenants = [tenant]
        fragments, refused = self._fragments_of(tenants)
        if refused:
            return Compiled(None, None, refused)
        info = self.tree.source
        options = IndexOptions(
            issued_at=format_time(issued_at),
            expires=format_time(issued_at + expires_in),
            version=previous.version + 1 if previous is not None else 1,
            previous=previous.digest if previous is not None else None,
            tenant=tenant,
        )
        source = Source(source_repo or info.repo, info.commit, info.tree)
        head = payload_head(self._registry_name(), source, options)
        payload = assemble_payload(head, fragments)
        envelope = sign_envelope(payload, INDEX_PAYLOAD_TYPE, keys)
        self._fragments.save()
        return Compiled(envelope, payload, [], tuple(tenants), options.version, options.expires)

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
        if found is None:
            snapshot, _ = self._snapshot_of([])
            registry = snapshot.registry
            found = to_canonical_json(registry.name if registry is not None else "")
            self._fragments.put(key, found)
        name = json.loads(found)
        if not isinstance(name, str):
            raise StoreError("the compile cache holds a registry name that is not a string")
        return name

    def _snapshot_of(self, tenants: list[str]) -> tuple[Snapshot, list[Finding]]:
        """A snapshot holding at least armgit.yaml and ``tenants``: the whole registry if it was
        read, else just those files (the verdict says the registry is valid: no rules rerun)."""
        if self._snapshot is not None:
            return self._snapshot, []
        if not isinstance(self.tree, GitTree):
            loaded = self._load_all()
            return loaded.snapshot, loaded.findings
        from armgit.loader import load_registry
        from armgit.store.cache import ContentCache, cache_path

        cache = ContentCache(cache_path(self.tree.git_dir))
        loaded = load_registry(TenantsTree(self.tree, tenants), cache, check=False)
        cache.save()
        return loaded.snapshot, loaded.findings

    def _load_all(self) -> Loaded:
        from armgit.loader import load_registry
        from armgit.store.cache import ContentCache, cache_path

        cache = ContentCache(cache_path(git_dir_of(self.tree)))
        loaded = load_registry(self.tree, cache)
        cache.save()
        self._snapshot = loaded.snapshot
        self._findings = loaded.findings
        if self._tenants is not None and not loaded.findings:
            self._check_tenants(loaded.snapshot)
        return loaded
