"""``armgit audit`` writes cached records with ``writev``: every byte once, in order."""

from __future__ import annotations

import os
import threading

from armgit.audit.fast import write_all


def test_write_all_through_a_pipe_keeps_every_byte_in_order() -> None:
    data = bytes(range(256)) * 4000  # 1 MB: more than a pipe holds, so writes are partial
    chunks: list[bytes | memoryview] = []
    view = memoryview(data)
    pos = 0
    for size in [0, 1, 7, 4096, 0, 65537, *([1000] * 1500)]:
        chunks.append(view[pos : pos + size])
        pos += size
    chunks.append(data[pos:])
    read, write = os.pipe()
    received: list[bytes] = []

    def drain() -> None:
        while block := os.read(read, 70_000):
            received.append(block)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        write_all(write, chunks)
    finally:
        os.close(write)
        reader.join()
        os.close(read)
    assert b"".join(received) == data
