"""A registry held in memory: for tests, and for content that never touched a disk."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from armgit.store.tree import MODE_FILE, FileEntry, RegistryTree, SourceInfo, blob_id


class MemoryTree(RegistryTree):
    """Registry files given as ``path -> bytes``."""

    def __init__(self, files: Mapping[str, bytes], source: SourceInfo | None = None) -> None:
        self._files = dict(files)
        self.source = source or SourceInfo("<memory>")

    def entries(self) -> Iterator[FileEntry]:
        for path in sorted(self._files):
            if path == "armgit.yaml" or path.startswith("tenants/"):
                yield FileEntry(path, blob_id(self._files[path]), MODE_FILE)

    def read(self, path: str) -> bytes | None:
        return self._files.get(path)

    def read_entry(self, entry: FileEntry) -> bytes:
        return self._files[entry.path]

    def entry(self, path: str) -> FileEntry | None:
        data = self._files.get(path)
        return FileEntry(path, blob_id(data), MODE_FILE) if data is not None else None

    def names(self, directory: str) -> list[str]:
        prefix = directory.rstrip("/") + "/"
        return sorted({p[len(prefix) :].split("/")[0] for p in self._files if p.startswith(prefix)})
