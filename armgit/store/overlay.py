"""A registry tree with some files replaced or added in memory: a change before it is written."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from armgit.store.tree import MODE_FILE, FileEntry, RegistryTree, blob_id


class OverlayTree(RegistryTree):
    """``base`` with ``files`` (path -> bytes) laid over it."""

    def __init__(self, base: RegistryTree, files: Mapping[str, bytes]) -> None:
        self._base = base
        self._files = dict(files)
        self.source = base.source

    def entries(self) -> Iterator[FileEntry]:
        seen = set()
        for entry in self._base.entries():
            seen.add(entry.path)
            yield self.entry(entry.path) or entry
        for path in sorted(set(self._files) - seen):
            if path == "armgit.yaml" or path.startswith("tenants/"):
                yield FileEntry(path, blob_id(self._files[path]), MODE_FILE)

    def read(self, path: str) -> bytes | None:
        if path in self._files:
            return self._files[path]
        return self._base.read(path)

    def read_entry(self, entry: FileEntry) -> bytes:
        if entry.path in self._files:
            return self._files[entry.path]
        return self._base.read_entry(entry)

    def entry(self, path: str) -> FileEntry | None:
        if path in self._files:
            return FileEntry(path, blob_id(self._files[path]), MODE_FILE)
        return self._base.entry(path)

    def names(self, directory: str) -> list[str]:
        prefix = directory.rstrip("/") + "/"
        added = {p[len(prefix) :].split("/")[0] for p in self._files if p.startswith(prefix)}
        return sorted(set(self._base.names(directory)) | added)
