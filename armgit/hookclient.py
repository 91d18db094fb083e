"""The pre-receive hook's side of the hook server (``armgit hooks serve``), and the wire format.

A push's hook is a new Python process, and most of what it costs is importing pygit2, pydantic
and armgit's rules before any work starts. A hook server has imported them once; for each push
it forks a child that judges the push exactly as the hook would, in a fresh process that sees
the push's working directory and environment (the quarantined objects, who is pushing). The
hook then only has to pass the push along: this module imports nothing but the interpreter's
built-in modules, so the hook's start-up stays near the interpreter's own.

When there is no server, or it cannot answer, or it declines (another repository, armgit
upgraded under it), :func:`ask_server` returns ``None`` and the hook judges the push itself:
the server only ever makes a push faster, never decides it differently.

Both ends of the wire format live here, so they cannot drift. One request per connection, the
line ``armgit-hook/1`` then three fields, each its length in decimal, a newline and its bytes:
the working directory, the environment (``NAME=VALUE`` entries joined by NUL) and stdin. The
reply is ``J`` + one byte (the exit code) + the lines for the pusher, or ``D`` + why
the server declined.
"""

from __future__ import annotations

import _socket
import os
from collections.abc import Mapping
from typing import NamedTuple

MAGIC = b"armgit-hook/1\n"
SOCKET_NAME = "armgit/hookd.sock"  # in the git directory, next to the content cache
MAX_REQUEST = 64 * 1024 * 1024
JUDGED, DECLINED = b"J", b"D"


class Request(NamedTuple):
    cwd: bytes
    env: dict[bytes, bytes]
    stdin: bytes


def socket_path(git_dir: str) -> str:
    return os.path.join(git_dir, SOCKET_NAME)


def encode_request(cwd: bytes, env: Mapping[bytes, bytes], stdin: bytes) -> bytes:
    block = b"\0".join(name + b"=" + value for name, value in env.items())
    return MAGIC + b"".join(b"%d\n" % len(field) + field for field in (cwd, block, stdin))


def decode_request(data: bytes) -> Request:
    """The request's fields; raises ``ValueError`` saying what is wrong with it."""
    if not data.startswith(MAGIC):
        raise ValueError("not an armgit-hook/1 request")
    fields: list[bytes] = []
    pos = len(MAGIC)
    for _ in range(3):
        newline = data.find(b"\n", pos, pos + 21)
        size = data[pos:newline]
        if newline < 0 or not size.isdigit():
            raise ValueError(f"a field's length is missing at byte {pos}")
        start, end = newline + 1, newline + 1 + int(size)
        if end > len(data):
            raise ValueError("the request is cut short")
        fields.append(data[start:end])
        pos = end
    if pos != len(data):
        raise ValueError("the request has trailing bytes")
    cwd, block, stdin = fields
    env: dict[bytes, bytes] = {}
    for entry in block.split(b"\0") if block else ():
        name, equals, value = entry.partition(b"=")
        if not equals or not name:
            raise ValueError(f"environment entry {entry[:40]!r} is not NAME=VALUE")
        env[name] = value
    return Request(cwd, env, stdin)


def ask_server(stdin: bytes) -> tuple[int, bytes] | None:
    """Have the repository's hook server judge this push: (exit code, what the pusher is
    told), or ``None`` when no server judged it."""
    path = socket_path(os.environ.get("GIT_DIR", "."))
    unix = getattr(_socket, "AF_UNIX", None)
    if unix is None:  # no Unix sockets here: no server either
        return None
    try:
        sock = _socket.socket(unix, _socket.SOCK_STREAM)
    except OSError:
        return None
    try:
        sock.connect(path)
        sock.sendall(encode_request(os.getcwdb(), os.environb, stdin))
        sock.shutdown(_socket.SHUT_WR)
        reply = b"".join(iter(lambda: sock.recv(65536), b""))
    except OSError:  # no server, a stale socket, or the server went away: judge here
        return None
    finally:
        sock.close()
    if len(reply) < 2 or reply[:1] != JUDGED:
        return None
    return reply[1], reply[2:]
