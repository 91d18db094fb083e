"""Spent action request ids: an approval is used once (SPEC 12).

With a state directory, the ids live in ``spent.json`` there (``{requestId: expiresAt}``),
read and rewritten under an exclusive ``fcntl`` lock on ``spent.lock`` and written atomically,
so several processes sharing the directory never both spend one request; an id is forgotten
once its request expired (an expired request is refused anyway). Without one, in memory.
"""

from __future__ import annotations

import fcntl
import json
import threading
from pathlib import Path

from armgit.runtime.errors import IndexUnavailable
from armgit.store.atomic import write_atomic

SPENT_FILE = "spent.json"
LOCK_FILE = "spent.lock"


class SpentIds:
    """Request ids already decided with approvals, each kept until its request expires."""

    def __init__(self, state_dir: str | Path | None = None) -> None:
        self._dir = Path(state_dir) if state_dir is not None else None
        self._memory: dict[str, float] = {}
        self._prune_at = 0.0  # in memory: the earliest expiry, when a sweep is due
        self._lock = threading.Lock()

    def is_spent(self, request_id: str) -> bool:
        """Whether ``request_id`` was spent (a hint: :meth:`claim` decides, under the lock)."""
        if self._dir is None:
            return request_id in self._memory  # one dict lookup, atomic under the GIL
        with self._lock:
            return request_id in self._read()

    def claim(self, request_id: str, expires_at: float, now: float) -> bool:
        """Spend ``request_id`` (kept until ``expires_at``); ``False`` when it already was."""
        with self._lock:
            if self._dir is None:
                memory = self._memory
                if now >= self._prune_at:  # sweep only when something may have expired
                    _claim(memory, "", now + 1, now)
                    del memory[""]
                    self._prune_at = min(memory.values(), default=expires_at)
                if request_id in memory:
                    return False
                memory[request_id] = expires_at
                self._prune_at = min(self._prune_at, expires_at)
                return True
            self._dir.mkdir(parents=True, exist_ok=True)
            with open(self._dir / LOCK_FILE, "a+b") as lock:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
                try:
                    spent = self._read()
                    if not _claim(spent, request_id, expires_at, now):
                        return False
                    data = json.dumps(spent, sort_keys=True).encode()
                    write_atomic(self._dir / SPENT_FILE, data)
                    return True
                finally:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _read(self) -> dict[str, float]:
        assert self._dir is not None
        path = self._dir / SPENT_FILE
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise IndexUnavailable(f"{path} is damaged: {exc}") from exc
        if not isinstance(data, dict) or not all(isinstance(v, int | float) for v in data.values()):
            raise IndexUnavailable(f"{path} is damaged: not {{requestId: expiresAt}}")
        return {str(k): float(v) for k, v in data.items()}


def _claim(spent: dict[str, float], request_id: str, expires_at: float, now: float) -> bool:
    for old in [k for k, v in spent.items() if v <= now]:
        del spent[old]
    if request_id in spent:
        return False
    spent[request_id] = expires_at
    return True
