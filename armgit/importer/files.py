"""Reading an export's entries from a ZIP (``npx convex export --path x.zip``) or its unpacked
folder, as bytes for :func:`armgit.importer.export.parse_export`. The only I/O of reading."""

from __future__ import annotations

import zipfile
from pathlib import Path

from armgit.importer.export import Export, ExportError, parse_export

# an export larger than this is refused rather than read into memory
MAX_BYTES = 4 * 1024**3


def read_export(path: Path) -> Export:
    """The export at ``path`` (a ZIP file or a folder), parsed."""
    return parse_export(read_entries(path))


def read_entries(path: Path) -> dict[str, bytes]:
    """Every file of the export at ``path``, by its ``/``-separated path inside it."""
    if path.is_dir():
        return _folder(path)
    if not path.exists():
        raise ExportError(str(path), "no such file or folder")
    try:
        with zipfile.ZipFile(path) as archive:
            return _zip(path, archive)
    except zipfile.BadZipFile as exc:
        raise ExportError(str(path), f"neither a folder nor a ZIP file ({exc})") from exc
    except OSError as exc:
        raise ExportError(str(path), f"cannot be read ({exc.strerror or exc})") from exc


def _zip(path: Path, archive: zipfile.ZipFile) -> dict[str, bytes]:
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if sum(info.file_size for info in infos) > MAX_BYTES:
        raise ExportError(str(path), f"larger than {MAX_BYTES} bytes unpacked")
    entries: dict[str, bytes] = {}
    for info in infos:
        name = info.filename
        if name.startswith("/") or ".." in name.split("/"):
            raise ExportError(f"{path}: {name}", "an entry outside the export")
        try:
            entries[name] = archive.read(info)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ExportError(f"{path}: {name}", f"cannot be unpacked ({exc})") from exc
    return entries


def _folder(path: Path) -> dict[str, bytes]:
    entries: dict[str, bytes] = {}
    total = 0
    for file in sorted(path.rglob("*")):
        if file.is_symlink():
            raise ExportError(str(file), "a symbolic link inside the export")
        if not file.is_file():
            continue
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise ExportError(str(file), f"cannot be read ({exc.strerror or exc})") from exc
        total += len(data)
        if total > MAX_BYTES:
            raise ExportError(str(path), f"larger than {MAX_BYTES} bytes")
        entries[file.relative_to(path).as_posix()] = data
    return entries
