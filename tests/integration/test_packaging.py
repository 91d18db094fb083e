"""What `pip install .` installs carries the example the demo plays (armgit/example/)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, REPO_ROOT


def test_the_wheel_ships_the_example(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy: building in the checkout would leave build/ behind
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    shutil.copytree(
        REPO_ROOT / "armgit", source / "armgit", ignore=shutil.ignore_patterns("__pycache__")
    )
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(source), "-w", str(wheels)],
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0 and "No matching distribution" in built.stderr:
        pytest.skip("pip cannot fetch the build backend (setuptools) here")
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("armgit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            name.removeprefix("armgit/example/"): archive.read(name)
            for name in archive.namelist()
            if name.startswith("armgit/example/")
        }
    expected = {
        p.relative_to(EXAMPLE).as_posix(): p.read_bytes() for p in EXAMPLE.rglob("*") if p.is_file()
    }
    assert shipped == expected
