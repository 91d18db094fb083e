"""Copy registry-example/ (the browsable example) into armgit/example/ (the copy installed with
armgit, which `armgit demo` plays), byte for byte, removing files the source no longer has.

Run it after any change to registry-example/ (for instance re-signed approvals):

    python tools/sync_example.py

tests/unit/test_example_copy.py fails, naming this command, while the two differ.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "registry-example"
TARGET = ROOT / "armgit" / "example"


def files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by its relative POSIX path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def sync() -> list[str]:
    """Make TARGET equal to SOURCE; return what changed."""
    source, target = files(SOURCE), files(TARGET) if TARGET.exists() else {}
    changed = []
    for path in sorted(target.keys() - source.keys()):
        (TARGET / path).unlink()
        changed.append(f"removed {path}")
    for path, data in source.items():
        if target.get(path) != data:
            (TARGET / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(SOURCE / path, TARGET / path)
            changed.append(f"copied {path}")
    for directory in sorted(TARGET.rglob("*"), reverse=True):  # empty directories left behind
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    return changed


if __name__ == "__main__":
    done = sync()
    print("\n".join(done) if done else "armgit/example/ already equals registry-example/")
    sys.exit(0)
