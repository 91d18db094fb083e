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

A compile of a commit compiled before reads a few cache files and the ref, and signs: neither
libgit2 nor the models (pydantic) are imported (:func:`compile_index`); anything else goes
through :class:`armgit.index.compiler.Compiler`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from armgit.core import timeutil
from armgit.core.index.assemble import IndexOptions, Source
from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE
from armgit.errors import UsageError
from armgit.index.signed import (
    Compiled,
    PreviousIndex,
    make_options,
    parse_name,
    parse_signers,
    read_head,
    select_tenants,
    sign_index,
)
from armgit.store.compiled import (
    FragmentCache,
    fragment_cache_path,
    manifest_key,
    parse_manifest,
    registry_name_key,
    registry_signers_key,
    tenant_key,
)
from armgit.store.refs import QuickRef, resolve_quick

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


def read_previous(data: bytes, what: str = "--previous") -> PreviousIndex:
    """The version, payload digest, registry and scope of a previously published index
    (signatures not checked: it only numbers the next one)."""
    from armgit.runtime.envelope import parse_envelope, parse_json
    from armgit.runtime.errors import IndexRefused
    from armgit.runtime.verify import parse_scope

    try:
        envelope = parse_envelope(data, INDEX_PAYLOAD_TYPE)
        payload = read_head(envelope.payload)
        if payload is None:
            payload = parse_json(envelope.payload, "payload")
    except IndexRefused as exc:
        raise UsageError(f"{what} is not an armgit index: {exc.detail}") from exc
    version = payload.get("version") if isinstance(payload, dict) else None
    if type(version) is not int or version < 1:
        raise UsageError(f"{what} is not an armgit index: it has no version")
    try:
        scope: tuple[str, ...] | None = parse_scope(payload) if "scope" in payload else None
    except (KeyError, TypeError, ValueError):
        scope = None
    registry = payload.get("registry")
    return PreviousIndex(
        version,
        "sha256:" + hashlib.sha256(envelope.payload).hexdigest(),
        registry if isinstance(registry, str) else None,
        scope,
    )


def fetch_previous(source: str) -> PreviousIndex:
    """The index published now, from a file or an ``http(s)://`` URL; :class:`UsageError`
    when it cannot be read (a publish must not start again at version 1)."""
    from armgit.runtime.errors import IndexRefused, IndexUnavailable
    from armgit.runtime.fetch import DefaultFetcher
    from armgit.runtime.verify import DEFAULT_MAX_BYTES

    try:
        fetched = DefaultFetcher().fetch(source, None, DEFAULT_MAX_BYTES)
    except (IndexUnavailable, IndexRefused) as exc:
        raise UsageError(
            f"cannot establish the last published version: {exc} (for the very first publish "
            "of this index, give --first-publish instead)"
        ) from exc
    assert fetched is not None  # no ETag was offered: a 304 is an error
    return read_previous(fetched.data, source)


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
    allow_dirty: bool = False,
) -> Compiled:
    """Compile the registry at ``repo``/``rev`` and sign it with every key of ``keys``.

    Without ``rev``, a clean git work tree is compiled at ``HEAD`` (its commit and tree
    named); a dirty one, or a directory outside git, only with ``allow_dirty``, and the payload
    then says ``source.dirty`` (:mod:`armgit.index.provenance`)."""
    options = make_options(issued_at, expires_in, tenant, previous)
    dirty: str | None = None
    if rev is None:
        from armgit.index.provenance import work_tree_revision

        rev, dirty = work_tree_revision(Path(repo if repo is not None else "."), allow_dirty)
    ref = resolve_quick(repo, rev) if dirty is None else None
    if ref is not None:
        quick = _compile_cached(ref, keys, options, source_repo)
        if quick is not None:
            return quick
    from armgit.index.compiler import Compiler
    from armgit.store.tree import open_tree

    compiler = Compiler(open_tree(repo, rev), ref)
    return compiler.compile(keys, options, source_repo=source_repo, dirty=dirty)


def _compile_cached(
    ref: QuickRef, keys: Sequence[Ed25519PrivateKey], options: IndexOptions, source_repo: str | None
) -> Compiled | None:
    """The index made from cache entries alone (no git, no models), or ``None`` if one is
    missing: the manifest of this commit, a fragment, the registry's name."""
    cache = FragmentCache(fragment_cache_path(ref.git_dir))
    body = cache.get(manifest_key(ref.root, ref.oid))
    manifest = parse_manifest(body) if body is not None else None
    if manifest is None:
        return None
    tenants = select_tenants(list(manifest.tenants), options.tenant)
    fragments: dict[str, bytes] = {}
    for name in tenants:
        found = cache.get(tenant_key(name, manifest.tenants[name], manifest.registry_blob))
        if found is None:
            return None
        fragments[name] = found
    entry = cache.get(registry_name_key(manifest.registry_blob))
    registry = parse_name(entry) if entry is not None else None
    entry = cache.get(registry_signers_key(manifest.registry_blob))
    signers = parse_signers(entry) if entry is not None else None
    if registry is None or signers is None:
        return None
    source = Source(source_repo or manifest.location, manifest.commit, manifest.tree)
    return sign_index(keys, registry, source, options, fragments, signers)
