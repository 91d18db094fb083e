"""The runtime's I/O side: fetch an index from bytes, a path or an HTTP(S) URL, remember what
was accepted, and keep the last good index until it expires.

Verification itself is pure (:func:`armgit.runtime.verify.verify_index`); fetching is
:mod:`armgit.runtime.fetch`, the state directory :mod:`armgit.runtime.state`. This module feeds
the verifier bytes and the time, and swaps the verified, immutable result in atomically, so
readers on any thread see one whole index or the next, never a mix.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from armgit.core.index.decide import DENY, NEEDS_APPROVAL, Decision
from armgit.runtime.actions import ActionRequest
from armgit.runtime.agents import Agent
from armgit.runtime.envelope import parse_envelope, parse_json
from armgit.runtime.errors import IndexRefused, IndexUnavailable
from armgit.runtime.fetch import DefaultFetcher, Fetched, Fetcher
from armgit.runtime.loop import ActionLoop, Approvals, RequestLike, pending
from armgit.runtime.records import Call
from armgit.runtime.state import ANY_SCOPE, Record, StateDir
from armgit.runtime.timestamp import MAX_TIMESTAMP_BYTES, Timestamp, verify_timestamp
from armgit.runtime.trust import TrustRoot
from armgit.runtime.verify import (
    DEFAULT_MAX_BYTES,
    Accepted,
    Resolution,
    VerifiedIndex,
    check_floor,
    parse_scope,
    plain_call,
    scope_key,
    verify_index,
)

__all__ = ["DefaultFetcher", "Fetched", "Fetcher", "Runtime"]

_CALL = tuple.__new__  # a Call from its fields without NamedTuple's __new__
WARN_FRACTION = 0.25  # warn when a quarter of the index's lifetime is left
logger = logging.getLogger("armgit.runtime")


class Runtime:
    """An agent runtime's view of the signed index.

    ``trust`` pins the index keys; ``source`` (a path or an ``http(s)://`` URL) is where
    :meth:`refresh` looks; ``tenant`` binds the runtime to one tenant: an index whose scope
    does not cover it is refused (``wrong-scope``) and leaves the state untouched.
    ``state_dir`` remembers, across restarts and between processes sharing it, the last
    accepted version per registry and scope, the current index and the chain of rotated roots
    (:mod:`armgit.runtime.state`). Safe to share between threads: lookups read one immutable
    :class:`VerifiedIndex`, swapped in whole.
    """

    def __init__(
        self,
        trust: TrustRoot,
        source: str | Path | None = None,
        *,
        state_dir: str | Path | None = None,
        tenant: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
        fetcher: Fetcher | None = None,
        timestamp: str | Path | None = None,
        spool: str | Path | None = None,
        decision_log: str | Path | None = None,
    ) -> None:
        self.source = str(source) if source is not None else None
        self.timestamp_source = str(timestamp) if timestamp is not None else None
        self.tenant = tenant
        self.max_bytes = max_bytes
        self._clock = clock
        self._fetcher: Fetcher = fetcher if fetcher is not None else DefaultFetcher()
        self._state = StateDir(state_dir) if state_dir is not None else None
        self._lock = threading.Lock()
        self._index: VerifiedIndex | None = None
        self._stamp: Timestamp | None = None
        # the current index, when it stops being good and when that clock started (its own
        # expiry, or the earlier freshness record's: _set_index), swapped in as one tuple
        self._fresh: tuple[VerifiedIndex, float, float] | None = None
        self._last: Accepted | None = None
        self._record = Record()
        self._warned: str | None = None
        self.trust = trust
        self.loop = ActionLoop.open(state_dir, spool, decision_log)
        if self._state is not None:
            self._restore(self._state)

    # -- state ------------------------------------------------------------------------------

    def _restore(self, state: StateDir) -> None:
        with state.locked():
            self.trust = _follow_roots(self.trust, state)
            record = state.read()
            data = state.current_bytes(record)
            if ANY_SCOPE in record.floors and data is not None:
                key = _peek_scope_key(data)  # the old single floor was this index's
                if key is not None:
                    legacy = record.floors.pop(ANY_SCOPE)
                    record.raise_floor(key, legacy)
                    state.write(record, data, legacy.digest)
        self._record = record
        stamp = state.stamp_bytes(record)
        if stamp is not None:
            with contextlib.suppress(IndexRefused):  # expired: wait for a fresh one
                self._stamp = verify_timestamp(
                    stamp, self.trust, now=self._clock(), tenant=self.tenant
                )
        if data is not None:
            # refused (expired while we were down, another tenant's): wait for a fresh one
            with contextlib.suppress(IndexRefused):
                self._accept(data, record.etag, persist=False)

    @property
    def last_accepted(self) -> Accepted | None:
        """Version and digest of the current index (also across restarts)."""
        return self._last

    @property
    def floors(self) -> dict[str, Accepted]:
        """The last accepted version per registry and scope (``registry/tenants``)."""
        return dict(self._record.floors)

    # -- loading ----------------------------------------------------------------------------

    def _accept(
        self,
        data: bytes,
        etag: str | None,
        *,
        persist: bool = True,
        expect: Timestamp | None = None,
    ) -> VerifiedIndex:
        index = verify_index(
            data,
            self.trust,
            now=self._clock(),
            floors=self._record.floors,
            last=self._record.floors.get(ANY_SCOPE),
            tenant=self.tenant,
            max_bytes=self.max_bytes,
        )
        if expect is not None and (index.digest, index.version) != (
            expect.index_digest,
            expect.index_version,
        ):
            raise IndexRefused(
                "timestamp-mismatch",
                f"the index is version {index.version} ({index.digest}); the timestamp names "
                f"version {expect.index_version} ({expect.index_digest})",
            )
        accepted = Accepted(index.version, index.digest)
        key = index.scope_key
        if self._state is not None and persist:
            with self._state.locked():
                record = self._state.read()  # what every process sharing the directory saw
                check_floor(index.version, index.digest, record.floor(key))
                record.merge(self._record)
                record.raise_floor(key, accepted)
                if record.current != _file_of(index) or etag != record.etag:
                    record.etag = etag
                    self._state.write(record, data, index.digest)
                self._record = record
        else:
            self._record.raise_floor(key, accepted)
            self._record.etag = etag
        self._last = accepted
        self._set_index(index)
        return index

    def _set_index(self, index: VerifiedIndex) -> None:
        stamp = self._stamp
        if stamp is not None and stamp.index_digest == index.digest:
            self._fresh = (index, min(index.expires, stamp.expires), stamp.issued_at)
        else:
            self._fresh = (index, index.expires, index.issued_at)
        self._index = index

    def load_bytes(self, data: bytes, *, etag: str | None = None) -> VerifiedIndex:
        """Verify ``data`` and make it the current index; raises :class:`IndexRefused`."""
        with self._lock:
            return self._accept(data, etag)

    def load_path(self, path: str | Path) -> VerifiedIndex:
        """Read and load an index file (size-capped)."""
        fetched = DefaultFetcher().fetch(str(path), None, self.max_bytes)
        assert fetched is not None
        return self.load_bytes(fetched.data)

    def refresh(self) -> bool:
        """Fetch ``source`` again. Returns ``True`` when a new index was accepted, ``False``
        when nothing changed. On failure the last good index stays in use (until it expires)
        and the error is raised: :class:`IndexRefused` or :class:`IndexUnavailable`. Logs a
        warning (logger ``armgit.runtime``) once an index has a quarter of its lifetime left."""
        if self.source is None:
            raise IndexUnavailable("this runtime has no source to refresh from")
        with self._lock:
            try:
                if self.timestamp_source is not None:
                    return self._refresh_by_timestamp(self.source, self.timestamp_source)
                etag = self._record.etag if self._index is not None else None
                fetched = self._fetcher.fetch(self.source, etag, self.max_bytes)
                if fetched is None:
                    if self._index is None:
                        raise IndexUnavailable(
                            f"{self.source}: answered 'not modified' but no index is loaded"
                        )
                    return False
                before = self._index
                index = self._accept(fetched.data, fetched.etag)
                return before is None or index.digest != before.digest
            finally:
                self._warn_if_stale()

    def _refresh_by_timestamp(self, source: str, timestamp: str) -> bool:
        """Poll the freshness record; download the index only when it names another one."""
        fetched = self._fetcher.fetch(timestamp, None, MAX_TIMESTAMP_BYTES)
        if fetched is None:
            raise IndexUnavailable(f"{timestamp}: answered 'not modified' to a plain request")
        stamp = verify_timestamp(
            fetched.data,
            self.trust,
            now=self._clock(),
            floors=self._record.floors,
            tenant=self.tenant,
        )
        before = self._index
        if before is None or before.digest != stamp.index_digest:
            index = self._fetcher.fetch(source, None, min(self.max_bytes, stamp.index_size))
            if index is None:
                raise IndexUnavailable(f"{source}: answered 'not modified' to a plain request")
            self._accept(index.data, None, expect=stamp)
        self._keep_stamp(fetched.data, stamp)
        assert self._index is not None
        return before is None or self._index.digest != before.digest

    def _keep_stamp(self, data: bytes, stamp: Timestamp) -> None:
        accepted = Accepted(stamp.version, stamp.digest)
        if self._state is not None:
            with self._state.locked():
                record = self._state.read()
                check_floor(stamp.version, stamp.digest, record.floors.get(stamp.floor_key))
                record.merge(self._record)
                record.raise_floor(stamp.floor_key, accepted)
                self._state.write(record, None, None, data)
                self._record = record
        else:
            self._record.raise_floor(stamp.floor_key, accepted)
        self._stamp = stamp
        if self._index is not None:
            self._set_index(self._index)

    def rotate_root(self, data: bytes) -> TrustRoot:
        """Accept the next trust root (see :meth:`TrustRoot.rotate`: signed by the threshold of
        the current root's keys and of its own) and remember it in the chain."""
        with self._lock:
            root = self.trust.rotate(data)
            if self._state is not None:
                with self._state.locked():
                    self._state.save_root(root.version, data)
            self.trust = root
            return root

    # -- freshness --------------------------------------------------------------------------

    @property
    def time_left(self) -> float | None:
        """Seconds until the current index stops being accepted (its ``expires``, or the
        freshness record's when earlier), negative once it has; ``None`` with no index."""
        fresh = self._fresh
        return None if fresh is None else fresh[1] - self._clock()

    @property
    def stale(self) -> bool:
        """Whether the current index has less than a quarter of its lifetime left (or none is
        loaded): the publisher has stopped re-signing, or this runtime cannot reach it."""
        fresh = self._fresh
        if fresh is None:
            return True
        _, expires, issued = fresh
        return expires - self._clock() < (expires - issued) * WARN_FRACTION

    def _warn_if_stale(self) -> None:
        fresh = self._fresh
        if fresh is None or not self.stale or self._warned == fresh[0].digest:
            return
        index, expires, _ = fresh
        self._warned = index.digest
        left = expires - self._clock()
        if left <= 0:
            logger.warning(
                "armgit index version %d expired: every decision is DENY until a fresh one "
                "is accepted",
                index.version,
            )
        else:
            logger.warning(
                "armgit index version %d expires in %.0f s (less than a quarter of its "
                "lifetime): no fresh index was accepted; it fails closed when it expires",
                index.version,
                left,
            )

    # -- answers ----------------------------------------------------------------------------

    @property
    def index(self) -> VerifiedIndex:
        """The current index; :class:`IndexUnavailable` when there is none or it expired."""
        fresh = self._fresh
        if fresh is None:
            raise IndexUnavailable("no index has been loaded")
        if self._clock() >= fresh[1]:
            raise IndexUnavailable(
                f"the index (version {fresh[0].version}) expired and no fresh one was accepted"
            )
        return fresh[0]

    def resolve(self, tenant: str, environment: str, template: str) -> Resolution:
        """The deployed version of ``template`` in ``environment``: version, genome, genome hash
        and effective policy. Raises :class:`NotFound` or :class:`IndexUnavailable`."""
        return self.index.resolve(tenant, environment, template)

    def evaluate(
        self,
        tenant: str,
        environment: str,
        *,
        template: str | None = None,
        instance: str | None = None,
        tool: str,
        risk: str | None = None,
        estimated_cost: float = 0,
        daily_tokens_used: int = 0,
        monthly_cost_used: float = 0,
        data_scope: str | Iterable[str] | None = None,
        args_digest: str | None = None,
        request: RequestLike | None = None,
        approvals: Approvals | None = None,
    ) -> Decision:
        """ALLOW, DENY or NEEDS_APPROVAL for one tool call, with reasons and digests.

        Give ``template`` (the deployed version's policy) or ``instance`` (the instance's, by
        name or ``legacyAgentId``). A NEEDS_APPROVAL carries an action request
        (``decision.request``; ``args_digest``, ``sha256:<hex>`` of the call's arguments, binds
        it to them); give it back as ``request`` with signed ``approvals`` to have it decided:
        ALLOW at the policy's quorum (once: the request id is then spent), DENY on a valid
        REJECT (SPEC 12). Appends to the decision log when the runtime has one. Never raises:
        no index, an expired index or any error is a DENY (fail closed).
        """
        fresh = self._fresh
        now = self._clock()
        loop = self.loop
        if fresh is not None and now < fresh[1]:
            index: VerifiedIndex | None = fresh[0]
            if plain_call(
                instance, estimated_cost, daily_tokens_used, monthly_cost_used, data_scope
            ):
                decision = fresh[0].plain_decision(tenant, environment, template, tool, risk)
                if decision[0] != NEEDS_APPROVAL:  # .decision: a named tuple's getter is slower
                    if loop.log is None:
                        return decision
                elif request is None and args_digest is None and not approvals and loop.log is None:
                    plain = (tenant, environment, template, None, tool, None)
                    return pending(loop, fresh[0], decision, plain, now)
            else:
                if instance is not None:
                    instance = loop.instance_name(fresh[0], tenant, instance)
                decision = fresh[0].evaluate(
                    tenant,
                    environment,
                    template=template,
                    instance=instance,
                    tool=tool,
                    risk=risk,
                    estimated_cost=estimated_cost,
                    daily_tokens_used=daily_tokens_used,
                    monthly_cost_used=monthly_cost_used,
                    data_scope=data_scope,
                )
        else:
            index = fresh[0] if fresh is not None else None
            if instance is not None and index is not None:
                instance = loop.instance_name(index, tenant, instance)
            decision = _fail_closed(fresh)
        call = _CALL(Call, (tenant, environment, template, instance, tool, args_digest))
        if index is not None and decision[0] == NEEDS_APPROVAL:
            decision = loop.decide(index, decision, call, now, request, approvals)
        loop.record(index, decision, call, now)
        return decision

    def resolve_agent(self, tenant: str, ref: str) -> Agent:
        """The instance named ``ref`` or whose ``legacyAgentId`` is ``ref``: instance, version,
        template, environment and state. Raises :class:`NotFound` or :class:`IndexUnavailable`."""
        return self.loop.resolve_agent(self.index, tenant, ref)

    def wait_for_approval(
        self, request: RequestLike, timeout: float, *, poll: float = 0.5
    ) -> Decision:
        """Put ``request`` (a NEEDS_APPROVAL's ``decision.request``) in the spool and wait up to
        ``timeout`` seconds for approvals: the decision (ALLOW or DENY), or DENY on timeout."""
        return self.loop.wait(self._decide_request, request, timeout, poll, self._clock)

    def _decide_request(
        self, call: Call, risk: str, request: ActionRequest, approvals: Approvals
    ) -> tuple[VerifiedIndex | None, Decision]:
        fresh = self._fresh
        now = self._clock()
        if fresh is None or now >= fresh[1]:
            return (fresh[0] if fresh is not None else None), _fail_closed(fresh)
        index = fresh[0]
        decision = index.evaluate(
            call.tenant,
            call.environment,
            template=call.template,
            instance=call.instance,
            tool=call.tool,
            risk=risk,
        )
        if decision.decision == NEEDS_APPROVAL:
            decision = self.loop.decide(index, decision, call, now, request, approvals)
        return index, decision


def _fail_closed(fresh: tuple[VerifiedIndex, float, float] | None) -> Decision:
    why = "no index loaded" if fresh is None else "the index expired"
    return Decision(DENY, None, (f"{why}: failing closed",), None, None)


def _file_of(index: VerifiedIndex) -> str:
    from armgit.runtime.state import index_file_name

    return index_file_name(index.digest)


def _follow_roots(trust: TrustRoot, state: StateDir) -> TrustRoot:
    """The pinned root, advanced through each stored rotation that the root before it signed
    (a stored root signed only by its own keys is not taken)."""
    for data in state.roots(trust.version):
        try:
            trust = trust.rotate(data)
        except IndexRefused as exc:
            logger.warning("a stored trust root was not accepted: %s", exc)
            break
    return trust


def _peek_scope_key(data: bytes) -> str | None:
    """The registry and scope an index from the old state layout named (already verified when
    it was stored: only its floor's key is wanted)."""
    from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE

    try:
        payload = parse_json(parse_envelope(data, INDEX_PAYLOAD_TYPE).payload, "payload")
        return scope_key(payload["registry"], parse_scope(payload))
    except (IndexRefused, KeyError, TypeError, ValueError):
        return None
