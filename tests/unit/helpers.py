"""Unit-test helpers: the example registry as an in-memory tree that tests edit."""

from __future__ import annotations

from pathlib import Path

from armgit.core.findings import Finding
from armgit.registry.loader import load_registry
from armgit.store.memory import MemoryTree

EXAMPLE = Path(__file__).resolve().parents[2] / "registry-example"
T = "tenants/arm-dev"
V1 = f"{T}/templates/customer-support/versions/1.0.0.yaml"
V2 = f"{T}/templates/customer-support/versions/2.0.0.yaml"
INSTANCE = f"{T}/instances/support-prod-1.yaml"
DEPLOYMENT = f"{T}/deployments/prod/customer-support.yaml"


def example_files() -> dict[str, bytes]:
    return {
        p.relative_to(EXAMPLE).as_posix(): p.read_bytes()
        for p in sorted(EXAMPLE.rglob("*"))
        if p.is_file()
    }


def edit(files: dict[str, bytes], path: str, old: str, new: str) -> dict[str, bytes]:
    """A copy of ``files`` with ``old`` replaced by ``new`` (exactly once) in ``path``."""
    text = files[path].decode()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    return {**files, path: text.replace(old, new).encode()}


def findings_of(files: dict[str, bytes]) -> list[Finding]:
    return load_registry(MemoryTree(files)).findings


def rules_of(files: dict[str, bytes]) -> list[str]:
    return sorted({f.rule for f in findings_of(files)})


def node_paths(value: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of every node below the root of JSON-like data (for fuzzing edits)."""
    found: list[tuple[str | int, ...]] = [path] if path else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += node_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += node_paths(v, (*path, i))
    return found
