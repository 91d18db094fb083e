"""Fetching an index: a local path, or an ``http(s)://`` URL under one overall deadline.

The HTTP side is :mod:`http.client` driven by hand rather than ``urllib``, because three things
the runtime needs are not ``urllib``'s defaults:

- one deadline for the whole exchange (connect, headers, body). A socket timeout bounds each
  read, so a server that dribbles a byte every two seconds would hold a fetch, and the refresh
  lock with it, for ever; a watchdog shuts the socket down when the deadline passes;
- redirects followed only to ``http`` or ``https``, never from ``https`` to ``http`` (a
  downgrade would let anyone on the path serve a stale, still-signed index), at most
  :data:`MAX_REDIRECTS`;
- a ``304 Not Modified`` is an answer only to a request that offered an ETag: with nothing
  cached it is an error, not a quiet "no change".

Proxies from the environment (``https_proxy``) are not used: the index is a static file a
runtime fetches directly or through its own CDN.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Protocol

from armgit.runtime.errors import IndexRefused, IndexUnavailable

MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Fetched:
    """Bytes fetched from a source, with the ETag that names them (if the source gave one)."""

    data: bytes
    etag: str | None = None


class Fetcher(Protocol):
    """Fetches an index; returns ``None`` when the source says it has not changed (HTTP 304 to
    a request that offered ``etag``)."""

    def fetch(self, source: str, etag: str | None, max_bytes: int) -> Fetched | None: ...


def capped(data: bytes, max_bytes: int, length: int | None = None) -> bytes:
    """``data``, or :class:`IndexRefused` (``too-large``) when it (or ``length``) is over."""
    size = length if length is not None else len(data)
    if size > max_bytes:
        raise IndexRefused("too-large", f"the index is over the cap of {max_bytes} bytes")
    return data


class DefaultFetcher:
    """Reads local paths, and ``http(s)://`` URLs (``If-None-Match``, a size cap, a socket
    ``timeout`` per read and one ``deadline`` in seconds for the whole fetch)."""

    def __init__(self, timeout: float = 10.0, deadline: float = 60.0) -> None:
        self.timeout = timeout
        self.deadline = deadline

    def fetch(self, source: str, etag: str | None, max_bytes: int) -> Fetched | None:
        if source.startswith(("http://", "https://")):
            return self._http(source, etag, max_bytes)
        try:
            with open(source, "rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise IndexUnavailable(f"cannot read {source}: {exc.strerror or exc}") from exc
        return Fetched(capped(data, max_bytes))

    def _http(self, url: str, etag: str | None, max_bytes: int) -> Fetched | None:
        deadline = time.monotonic() + self.deadline
        for _ in range(MAX_REDIRECTS + 1):
            answer = _Exchange(url, self.timeout, deadline, self.deadline).run(etag, max_bytes)
            if not isinstance(answer, str):
                return answer
            url = _redirect(url, answer)
        raise IndexUnavailable(f"{url}: more than {MAX_REDIRECTS} redirects")


def _redirect(url: str, location: str) -> str:
    target = urllib.parse.urljoin(url, location)
    scheme = urllib.parse.urlsplit(target).scheme
    if scheme not in ("http", "https"):
        raise IndexUnavailable(f"{url}: redirected to {target!r}: only http(s) is followed")
    if url.startswith("https://") and scheme != "https":
        raise IndexUnavailable(f"{url}: redirected from https to {target!r}: refused")
    return target


class _Exchange:
    """One request and its answer: a :class:`Fetched`, ``None`` (304) or a redirect's
    ``Location``. A watchdog shuts the socket down at the deadline."""

    def __init__(self, url: str, timeout: float, deadline: float, budget: float) -> None:
        self.url = url
        self.deadline = deadline
        self.budget = budget
        parts = urllib.parse.urlsplit(url)
        left = max(deadline - time.monotonic(), 0.001)
        per_read = min(timeout, left)
        host, port = parts.hostname or "", parts.port
        self.conn: http.client.HTTPConnection = (
            http.client.HTTPSConnection(
                host, port, timeout=per_read, context=ssl.create_default_context()
            )
            if parts.scheme == "https"
            else http.client.HTTPConnection(host, port, timeout=per_read)
        )
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.aborted = threading.Event()
        self.response: http.client.HTTPResponse | None = None
        # the connection hands its socket to a response that closes the connection, so the
        # watchdog keeps its own reference
        self.sock: socket.socket | None = None

    def _abort(self) -> None:
        self.aborted.set()
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _late(self) -> IndexUnavailable:
        return IndexUnavailable(f"{self.url}: no complete answer within {self.budget:g} s")

    def run(self, etag: str | None, max_bytes: int) -> Fetched | str | None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self._late()
        watchdog = threading.Timer(left, self._abort)
        watchdog.daemon = True
        watchdog.start()
        try:
            return self._exchange(etag, max_bytes)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if self.aborted.is_set() or time.monotonic() >= self.deadline:
                raise self._late() from exc
            raise IndexUnavailable(f"{self.url}: {exc}") from exc
        finally:
            watchdog.cancel()
            if self.response is not None:
                self.response.close()
            self.conn.close()

    def _exchange(self, etag: str | None, max_bytes: int) -> Fetched | str | None:
        headers = {"Accept": "application/json"}
        if etag is not None:
            headers["If-None-Match"] = etag
        self.conn.connect()
        self.sock = self.conn.sock
        if self.aborted.is_set():
            raise self._late()
        self.conn.request("GET", self.path, headers=headers)
        response = self.response = self.conn.getresponse()
        status = response.status
        if status in _REDIRECTS:
            location = response.getheader("Location")
            if not location:
                raise IndexUnavailable(f"{self.url}: HTTP {status} without a Location")
            return location
        if status == 304:
            if etag is None:
                raise IndexUnavailable(
                    f"{self.url}: HTTP 304 Not Modified to a request that offered no ETag"
                )
            return None
        if status != 200:
            raise IndexUnavailable(f"{self.url}: HTTP {status} {response.reason}")
        length = response.getheader("Content-Length")
        if length is not None and length.isdigit():
            capped(b"", max_bytes, int(length))
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = response.read1(_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if self.aborted.is_set():
            raise self._late()
        return Fetched(capped(b"".join(chunks), max_bytes), response.getheader("ETag"))
