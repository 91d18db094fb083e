"""``armgit hooks serve``: a pre-forking server that judges pushes for one bare repository.

The server imports everything the pre-receive hook needs and builds its validators once, then
listens on ``<git dir>/armgit/hookd.sock`` (mode 0600, and only connections from its own user
are taken). For each push the hook connects (:mod:`armgit.hookclient`) and the server forks a
child that takes on the push's working directory and environment and runs the very function
the hook runs in-process (:func:`armgit.hookrun.judge_here`). A child is a fresh process per
push, as a hook is: nothing of one push is kept for the next, and concurrent pushes are judged
concurrently.

It declines (the hook then judges the push itself) a request for another repository, and every
request once armgit's installed code has changed under it, and then it stops: an upgrade's rules
take effect on the next push either way.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import importlib
import os
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from armgit.errors import StoreError
from armgit.hookclient import DECLINED, JUDGED, MAX_REQUEST, SOCKET_NAME, decode_request

Log = Callable[[str], None]
# what judging a push imports, beyond armgit.hookrun's top: the rules and models, the content
# cache's sqlite3, and the approvals' signature checks (imported where they are first needed)
_JUDGING_IMPORTS = (
    "sqlite3",
    "armgit.hooks",
    "armgit.core.approval_file",
    "armgit.crypto.sshkeys",
    "armgit.crypto.sshsig",
)
_REQUEST_TIMEOUT = 60.0  # seconds a client has to send its request


def warm_up() -> None:
    """Import what judging a push imports, and build every model's validator, so that no
    child does either."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    for name in _JUDGING_IMPORTS:
        importlib.import_module(name)
    from armgit.core.models.base import Model

    pending: list[type[Model]] = [Model]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if not cls.__pydantic_complete__:
            cls.model_rebuild()


def code_fingerprint() -> tuple[tuple[str, int, int, int], ...]:
    """Where armgit's loaded modules are and what their files look like now: an upgrade
    replaces them (new inode, time or size)."""
    found = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and (name == "armgit" or name.startswith("armgit.")):
            try:
                info = os.stat(path)
            except OSError:
                info = None
            found.append(
                (path, *((info.st_ino, info.st_mtime_ns, info.st_size) if info else (0, 0, 0)))
            )
    return tuple(sorted(found))


def serve(git_dir: Path, *, idle_timeout: float | None, log: Log) -> str:
    """Serve pushes to the repository at ``git_dir`` until stopped (SIGTERM, SIGINT), idle for
    ``idle_timeout`` seconds, or armgit's code changes; returns why it stopped."""
    home = os.path.realpath(git_dir)
    os.chdir(home)  # the socket's path is relative: an absolute one may be too long to bind
    warm_up()
    fingerprint = code_fingerprint()
    with _listening(SOCKET_NAME) as listener:
        log(f"armgit: serving pre-receive for {home} on {os.path.join(home, SOCKET_NAME)}")
        # the warm objects go to the permanent generation: no collection, here or in a child,
        # walks them, so children keep sharing their pages with this process
        gc.freeze()
        listener.settimeout(idle_timeout)
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                _reap()
                if _children:
                    continue
                return f"idle for {idle_timeout:g} s"
            except OSError as exc:  # out of file descriptors, a connection gone: go on
                log(f"armgit: accept failed ({os.strerror(exc.errno or errno.EIO)})")
                time.sleep(0.1)
                continue
            with conn:
                _reap()
                if not _same_user(conn):
                    log("armgit: refused a connection from another user")
                    continue
                if code_fingerprint() != fingerprint:
                    _decline(conn, "armgit's installed code changed; the server stops")
                    return "armgit's installed code changed"
                try:
                    pid = os.fork()
                except OSError as exc:  # the hook judges this push itself
                    _decline(conn, f"cannot fork: {os.strerror(exc.errno or errno.EIO)}")
                    continue
                if pid == 0:
                    _child(conn, listener, home, log)  # never returns
                _children.add(pid)


_children: set[int] = set()


def _reap() -> None:
    for pid in list(_children):
        with contextlib.suppress(ChildProcessError):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if not done:
                continue
        _children.discard(pid)


def _child(conn: socket.socket, listener: socket.socket, home: str, log: Log) -> None:
    """Judge one push and exit; any failure leaves the hook to judge it itself."""
    code = 1
    try:
        listener.close()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        started = time.monotonic()
        conn.settimeout(_REQUEST_TIMEOUT)
        try:
            request = decode_request(_receive(conn))
        except ValueError as exc:
            log(f"armgit: a bad request: {exc}")
            _decline(conn, f"bad request: {exc}")
            os._exit(0)
        cwd = os.fsdecode(request.cwd)
        git_dir = os.fsdecode(request.env.get(b"GIT_DIR", b"."))
        if os.path.realpath(os.path.join(cwd, git_dir)) != home:
            _decline(conn, "the push is for another repository")
            os._exit(0)
        os.chdir(cwd)
        os.environb.clear()
        os.environb.update(request.env)
        conn.settimeout(None)
        from armgit.hookrun import judge_here

        status, lines = judge_here(request.stdin)
        told = "".join(line + "\n" for line in lines)
        conn.sendall(JUDGED + bytes([status]) + told.encode("utf-8", "replace"))
        ms = (time.monotonic() - started) * 1000
        log(f"armgit: pre-receive judged in {ms:.0f} ms: exit {status}")
        code = 0
    except BaseException as exc:  # the hook falls back to judging the push itself
        with contextlib.suppress(BaseException):
            log(f"armgit: a child failed ({type(exc).__name__}: {exc}); the hook judges itself")
    finally:
        os._exit(code)


def _receive(conn: socket.socket) -> bytes:
    chunks, size = [], 0
    while chunk := conn.recv(1 << 16):
        size += len(chunk)
        if size > MAX_REQUEST:
            raise ValueError(f"over {MAX_REQUEST} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _decline(conn: socket.socket, why: str) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(DECLINED + why.encode())


def _same_user(conn: socket.socket) -> bool:
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:  # not Linux: the socket's mode 0600 is the guard
        return True
    _, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, option, 12))
    return bool(uid == os.getuid())


@contextlib.contextmanager
def _listening(path: str) -> Iterator[socket.socket]:
    """A listening socket at ``path``, made 0600; refuses to start when a server answers
    there, and removes the socket on the way out if it is still this one."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with probe:
            try:
                probe.connect(path)
            except ConnectionRefusedError:  # a socket left by a server that died
                os.unlink(path)
            else:
                raise StoreError(f"a hook server is already serving {os.getcwd()}")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)
    try:
        listener.bind(path)
    except OSError as exc:
        listener.close()
        raise StoreError(f"cannot listen on {path}: {os.strerror(exc.errno or errno.EIO)}") from exc
    finally:
        os.umask(old_mask)
    ours = os.stat(path).st_ino
    stop = _stop_on_signals()
    try:
        listener.listen(64)
        yield listener
    finally:
        stop()
        listener.close()
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == ours:
                os.unlink(path)


def _stop_on_signals() -> Callable[[], None]:
    """SIGTERM stops the server as Ctrl-C does; returns what restores the handlers."""

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, stop)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore
