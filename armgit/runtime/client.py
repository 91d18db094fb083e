"""The runtime's I/O side: fetch an index from bytes, a path or an HTTP(S) URL, remember what
was accepted, and keep the last good index until it expires.

Verification itself is pure (:func:`armgit.runtime.verify.verify_index`); this module only feeds
it bytes and the time, and swaps the verified, immutable result in atomically, so readers on any
thread see one whole index or the next, never a mix.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from armgit.core.index.decide import DENY, NEEDS_APPROVAL, Decision, refuse_tool
from armgit.runtime.actions import ActionRequest
from armgit.runtime.agents import Agent
from armgit.runtime.errors import IndexRefused, IndexUnavailable
from armgit.runtime.loop import ActionLoop, Approvals, RequestLike, pending
from armgit.runtime.records import Call
from armgit.runtime.trust import TrustRoot, parse_root
from armgit.runtime.verify import (
    DEFAULT_MAX_BYTES,
    Accepted,
    Resolution,
    VerifiedIndex,
    verify_index,
)
from armgit.store.atomic import write_atomic

_ZERO = 0  # the default usage: ``x is _ZERO`` is how evaluate() spots a call that gives none
STATE_FILE = "state.json"
INDEX_FILE = "index.json"
ROOT_FILE = "root.json"


@dataclass(frozen=True, slots=True)
class Fetched:
    """Bytes fetched from a source, with the ETag that names them (if the source gave one)."""

    data: bytes
    etag: str | None = None


class Fetcher(Protocol):
    """Fetches an index; returns ``None`` when the source says it has not changed (HTTP 304)."""

    def fetch(self, source: str, etag: str | None, max_bytes: int) -> Fetched | None: ...


class DefaultFetcher:
    """Reads local paths, and ``http(s)://`` URLs with urllib (``If-None-Match``, size cap)."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout

    def fetch(self, source: str, etag: str | None, max_bytes: int) -> Fetched | None:
        if source.startswith(("http://", "https://")):
            return self._http(source, etag, max_bytes)
        try:
            with open(source, "rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise IndexUnavailable(f"cannot read {source}: {exc.strerror or exc}") from exc
        return Fetched(_capped(data, max_bytes))

    def _http(self, url: str, etag: str | None, max_bytes: int) -> Fetched | None:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        if etag is not None:
            request.add_header("If-None-Match", etag)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                length = response.headers.get("Content-Length")
                if length is not None and length.isdigit() and int(length) > max_bytes:
                    _capped(b"", max_bytes, int(length))
                data = response.read(max_bytes + 1)
                return Fetched(_capped(data, max_bytes), response.headers.get("ETag"))
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return None
            raise IndexUnavailable(f"{url}: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise IndexUnavailable(f"{url}: {exc}") from exc


def _capped(data: bytes, max_bytes: int, length: int | None = None) -> bytes:
    size = length if length is not None else len(data)
    if size > max_bytes:
        raise IndexRefused("too-large", f"the index is over the cap of {max_bytes} bytes")
    return data


class Runtime:
    """An agent runtime's view of the signed index.

    ``trust`` pins the index keys; ``source`` (a path or an ``http(s)://`` URL) is where
    :meth:`refresh` looks; ``state_dir`` remembers the last accepted version and digest, the
    index bytes and any rotated root across restarts (written atomically). Safe to share
    between threads: lookups read one immutable :class:`VerifiedIndex`, swapped in whole.
    """

    def __init__(
        self,
        trust: TrustRoot,
        source: str | Path | None = None,
        *,
        state_dir: str | Path | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
        fetcher: Fetcher | None = None,
        spool: str | Path | None = None,
        decision_log: str | Path | None = None,
    ) -> None:
        self.source = str(source) if source is not None else None
        self.max_bytes = max_bytes
        self._clock = clock
        self._fetcher: Fetcher = fetcher if fetcher is not None else DefaultFetcher()
        self._state_dir = Path(state_dir) if state_dir is not None else None
        self._lock = threading.Lock()
        self._index: VerifiedIndex | None = None
        self._last: Accepted | None = None
        self._etag: str | None = None
        self.trust = trust
        self.loop = ActionLoop.open(state_dir, spool, decision_log)
        if self._state_dir is not None:
            self._state_dir.mkdir(parents=True, exist_ok=True)
            self._restore()

    # -- state ------------------------------------------------------------------------------

    def _restore(self) -> None:
        assert self._state_dir is not None
        root_path = self._state_dir / ROOT_FILE
        if root_path.is_file():
            root = parse_root(root_path.read_bytes())
            if root.version > self.trust.version:
                self.trust = root
        state_path = self._state_dir / STATE_FILE
        if state_path.is_file():
            try:
                state = json.loads(state_path.read_text("utf-8"))
                self._last = Accepted(int(state["version"]), str(state["digest"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise IndexUnavailable(f"{state_path} is damaged: {exc}") from exc
        index_path = self._state_dir / INDEX_FILE
        if index_path.is_file():
            # refused (e.g. expired while we were down): wait for a fresh one
            with contextlib.suppress(IndexRefused):
                self._accept(index_path.read_bytes(), None)

    def _persist(self, data: bytes, accepted: Accepted) -> None:
        if self._state_dir is None:
            return
        write_atomic(self._state_dir / INDEX_FILE, data)
        state = {"version": accepted.version, "digest": accepted.digest, "etag": self._etag}
        write_atomic(self._state_dir / STATE_FILE, json.dumps(state).encode())

    @property
    def last_accepted(self) -> Accepted | None:
        """Version and digest of the newest index accepted (also across restarts)."""
        return self._last

    # -- loading ----------------------------------------------------------------------------

    def _accept(self, data: bytes, etag: str | None) -> VerifiedIndex:
        index = verify_index(
            data, self.trust, now=self._clock(), last=self._last, max_bytes=self.max_bytes
        )
        accepted = Accepted(index.version, index.digest)
        if accepted != self._last or self._index is None:
            self._etag = etag
            self._persist(data, accepted)
        self._last = accepted
        self._index = index
        return index

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
        and the error is raised: :class:`IndexRefused` or :class:`IndexUnavailable`."""
        if self.source is None:
            raise IndexUnavailable("this runtime has no source to refresh from")
        with self._lock:
            etag = self._etag if self._index is not None else None
            fetched = self._fetcher.fetch(self.source, etag, self.max_bytes)
            if fetched is None:
                return False
            before = self._index
            index = self._accept(fetched.data, fetched.etag)
            return before is None or index.digest != before.digest

    def rotate_root(self, data: bytes) -> TrustRoot:
        """Accept the next trust root (see :meth:`TrustRoot.rotate`) and remember it."""
        with self._lock:
            root = self.trust.rotate(data)
            if self._state_dir is not None:
                write_atomic(self._state_dir / ROOT_FILE, data)
            self.trust = root
            return root

    # -- answers ----------------------------------------------------------------------------

    @property
    def index(self) -> VerifiedIndex:
        """The current index; :class:`IndexUnavailable` when there is none or it expired."""
        index = self._index
        if index is None:
            raise IndexUnavailable("no index has been loaded")
        if self._clock() >= index.expires:
            raise IndexUnavailable(
                f"the index (version {index.version}) expired and no fresh one was accepted"
            )
        return index

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
        index = self._index
        loop = self.loop
        if (
            instance is None
            and estimated_cost is _ZERO
            and daily_tokens_used is _ZERO
            and monthly_cost_used is _ZERO
            and data_scope is None
            and loop.log is None
            and index is not None
        ):
            try:  # precomputed: a compiled target, a tool its policy names, a known risk
                known = index.plain_decisions.get((tenant, environment, template))  # type: ignore[arg-type]
                now = self._clock()
                if known is not None and now < index.expires:
                    risks = known[1].get(tool)
                    if risks is not None:
                        decision = risks.get(risk)
                        if decision is not None:
                            if decision.decision != NEEDS_APPROVAL:
                                return decision
                            if request is None and args_digest is None and not approvals:
                                plain = (tenant, environment, template, None, tool, None)
                                return pending(loop, index, decision, plain, now)
                    elif type(tool) is str and known[0].blocked is None:
                        return refuse_tool(known[0], tool)
            except TypeError:  # an unhashable argument: the long way says what is wrong
                pass
        if instance is not None and index is not None:
            instance = loop.instance_name(index, tenant, instance)
        decision = self._policy_decision(
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
        if decision.decision != NEEDS_APPROVAL and loop.log is None:
            return decision
        call = Call(tenant, environment, template, instance, tool, args_digest)
        if decision.decision == NEEDS_APPROVAL and index is not None:
            decision = loop.decide(index, decision, call, self._clock(), request, approvals)
        loop.record(index, decision, call, self._clock())
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
        index = self._index
        decision = self._policy_decision(
            call.tenant,
            call.environment,
            template=call.template,
            instance=call.instance,
            tool=call.tool,
            risk=risk,
        )
        if decision.decision == NEEDS_APPROVAL and index is not None:
            decision = self.loop.decide(index, decision, call, self._clock(), request, approvals)
        return index, decision

    def _policy_decision(
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
    ) -> Decision:
        """The policy's answer alone (SPEC 7), before the loop around it (SPEC 12)."""
        index = self._index
        if index is None or self._clock() >= index.expires:
            why = "no index loaded" if index is None else "the index expired"
            return Decision(DENY, None, (f"{why}: failing closed",), None, None)
        if (
            instance is None
            and estimated_cost is _ZERO
            and daily_tokens_used is _ZERO
            and monthly_cost_used is _ZERO
            and data_scope is None
        ):
            try:  # precomputed: a compiled target, a tool its policy names, a known risk
                known = index.plain_decisions.get((tenant, environment, template))  # type: ignore[arg-type]
                if known is not None:
                    risks = known[1].get(tool)
                    if risks is not None:
                        decision = risks.get(risk)
                        if decision is not None:
                            return decision
                    elif type(tool) is str and known[0].blocked is None:
                        return refuse_tool(known[0], tool)
            except TypeError:  # an unhashable argument: the long way says what is wrong
                pass
        return index.evaluate(
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
