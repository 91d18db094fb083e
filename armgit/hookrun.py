"""What the installed git hooks run: ``python -P -m armgit.hookrun NAME``.

The same checks as ``armgit hook NAME``, without the command line's start-up (click and the
command table): on a small push, start-up is most of what the server hook costs. ``-P`` keeps
the interpreter off the current directory, which in a bare repository holds armgit's caches in a
directory named ``armgit``. Any failure refuses the push (fail closed) with a one-line message.

This module stays at ``armgit.hookrun``: existing servers' hook scripts name it. What the lean
start-up pays (benchmarks/RESULTS.md, rows "pre-receive hook: start-up" and "hook start-up /
work"): on a 3-file push start-up is most of the hook's +179 ms (155 ms, against 37 ms of
work); it fell from 710 ms to 403 ms with lazy hook imports among other changes, and from 190
to 155 ms when multiprocessing and the models' validators were kept off this path.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["pre-receive"]:  # the other hooks are not on a push's critical path
        from armgit.cli.main import main as cli

        cli(["hook", *args])
        return 0
    # pydantic looks for plugins in every installed distribution's entry points when the
    # first model is built (tens of ms); the hook's validation uses none (set it to "" to scan)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from armgit.errors import ArmgitError

    try:
        from armgit.enforce.hooks import judge_push

        code, lines = judge_push(sys.stdin.buffer.read(), os.environ, datetime.now(UTC))
    except ArmgitError as exc:
        code, lines = 2, [f"armgit: {exc}; the push is refused"]
    except Exception as exc:  # fail closed, and say so without a traceback
        code, lines = 2, [f"armgit: internal error ({type(exc).__name__}: {exc}); refused"]
    for line in lines:
        print(line, file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
