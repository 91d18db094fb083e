"""Reading many registry files at once: YAML parsing spread over worker processes.

Parsing dominates a cold validation (libyaml is fast, building Python objects from it is not),
and every file parses on its own, so with many files missing from the cache the work is split
over forked workers, each reading the blobs itself from the object database (or the files from
the work tree). With few files, or no ``fork``, it stays in this process.

Each worker also prints the JSON text of every file it read (``ReadFile.data_json``), so the
content cache stores it as it is instead of the parent encoding every file again.
"""

from __future__ import annotations

import gc
import json
import marshal
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from pathlib import Path

import pygit2

from armgit.core.content import Problem, ReadFile, read_document
from armgit.core.yamldata import YamlDoc
from armgit.store.tree import FileEntry, GitTree, RegistryTree, WorkTree

PARALLEL_MIN_FILES = 400
_CHUNK = 250

Source = tuple[str, str]  # ("git", git_dir) or ("dir", root)
_repos: dict[str, pygit2.Repository] = {}


def read_documents(
    tree: RegistryTree, entries: list[FileEntry]
) -> Iterator[tuple[FileEntry, ReadFile | Problem]]:
    """Each entry with what :func:`read_document` makes of its bytes, in order."""
    workers = fork_workers(len(entries), PARALLEL_MIN_FILES)
    source = _source(tree)
    if workers < 2 or source is None:
        for entry in entries:
            yield entry, read_document(tree.read_entry(entry))
        return
    chunks = [entries[i : i + _CHUNK] for i in range(0, len(entries), _CHUNK)]
    with fork_pool(workers, initializer=_start_worker) as pool:
        jobs = [(source, [(e.path, e.oid) for e in chunk]) for chunk in chunks]
        for chunk, packed in zip(chunks, pool.map(_read_chunk, jobs), strict=True):
            yield from zip(chunk, _unpack(packed), strict=True)


def fork_workers(items: int, minimum: int) -> int:
    """How many forked worker processes to spread ``items`` pieces of work over: 1 (stay in
    this process) below ``minimum`` items, with ``ARMGIT_NO_PARALLEL`` set or without ``fork``;
    else the CPUs this process may use, at most four and at most ``items``."""
    if items < minimum or os.environ.get("ARMGIT_NO_PARALLEL"):
        return 1
    import multiprocessing  # here, not at the top: a small command never starts workers

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(len(os.sched_getaffinity(0)), 4, items)


def fork_pool(workers: int, initializer: Callable[[], None] | None = None) -> Executor:
    """A pool of ``workers`` forked processes (see :func:`fork_workers` for how many)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    return ProcessPoolExecutor(workers, mp_context=context, initializer=initializer)


def _start_worker() -> None:
    # What a worker builds is acyclic and freed by reference counting; the collector would only
    # walk the heap inherited from the parent again and again (and copy its pages).
    gc.disable()


def _source(tree: RegistryTree) -> Source | None:
    if isinstance(tree, GitTree):
        return ("git", str(tree.git_dir))
    if isinstance(tree, WorkTree):
        return ("dir", tree.source.repo)
    return None


def _read_chunk(job: tuple[Source, list[tuple[str, str]]]) -> tuple[bytes, list[Problem]]:
    (kind, where), items = job
    if kind == "git":
        repo = _repos.get(where)
        if repo is None:
            repo = _repos[where] = pygit2.Repository(where)
        odb = repo.odb
        reads = [read_document(odb.read(oid)[1]) for _, oid in items]
    else:
        root = Path(where)
        reads = [read_document((root / path).read_bytes()) for path, _ in items]
    return _pack(reads)


# Results travel back as one marshal blob of plain data (with problems beside it): between
# processes of the same interpreter, marshal rebuilds lists and dicts several times faster
# than json.loads, and never runs code.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _pack(reads: list[ReadFile | Problem]) -> tuple[bytes, list[Problem]]:
    rows: list[object] = []
    problems: list[Problem] = []
    for read in reads:
        if isinstance(read, Problem):
            rows.append(len(problems))
            problems.append(read)
        else:
            data = read.doc.data
            rows.append((data, read.doc.plain_timestamps, read.genome_hash, _encode(data)))
    return marshal.dumps(rows), problems


def _unpack(packed: tuple[bytes, list[Problem]]) -> Iterator[ReadFile | Problem]:
    blob, problems = packed
    for row in marshal.loads(blob):
        if isinstance(row, int):
            yield problems[row]
        else:
            data, timestamps, genome, text = row
            yield ReadFile(YamlDoc(data, timestamps), genome, text)
