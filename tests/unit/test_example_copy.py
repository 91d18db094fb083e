"""The example installed with armgit (armgit/example/, what `armgit demo` plays after
`pip install`) is registry-example/, byte for byte."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_the_shipped_example_equals_registry_example() -> None:
    shipped, browsable = files(ROOT / "armgit/example"), files(ROOT / "registry-example")
    differ = sorted(
        p for p in shipped.keys() | browsable.keys() if shipped.get(p) != browsable.get(p)
    )
    assert differ == [], (
        f"armgit/example/ differs from registry-example/ in {differ}: "
        "run `python tools/sync_example.py`"
    )
    assert "armgit.yaml" in shipped


def test_the_demo_plays_the_shipped_copy() -> None:
    from armgit.cli.demo import shipped_example

    assert shipped_example() == ROOT / "armgit/example"
