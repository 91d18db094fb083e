"""Cold validation reads in parallel, warm validation is a lookup: same findings either way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.generate import Options, generate
from tests.conftest import GIT_ENV, REPO_ROOT

FLEET = Options(tenants=2, templates=25, versions_per_template=10, seed=3)


def validate(repo: Path, *extra: str, **env: str) -> tuple[int, dict[str, object]]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "armgit",
            "validate",
            "--repo",
            str(repo),
            "--format",
            "json",
            *extra,
        ],
        env={**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stderr == "", result.stderr
    return result.returncode, json.loads(result.stdout)


def break_some(work: Path) -> None:
    versions = sorted(work.glob("tenants/*/templates/*/versions/*.yaml"))
    versions[0].write_text(versions[0].read_text().replace("lifecycle:", "lifecycle: SHIPPED\\nx:"))
    versions[1].write_text(versions[1].read_text().replace("maxTokens:", "maxTokens: 7\\n  y:"))
    instance = sorted(work.glob("tenants/*/instances/*.yaml"))[0]
    instance.write_text(instance.read_text().replace("provider:", "provider: nowhere\\nz:"))


def test_parallel_serial_and_cached_validation_agree(tmp_path: Path) -> None:
    generated = generate(tmp_path / "fleet", FLEET)
    work = generated.path
    break_some(work)
    serial = validate(work, ARMGIT_NO_PARALLEL="1", ARMGIT_NO_CACHE="1")
    parallel = validate(work, ARMGIT_NO_CACHE="1")
    assert serial[0] == 1
    assert parallel == serial
    assert len(serial[1]["findings"]) >= 3  # type: ignore[arg-type]
    cold = validate(work)
    warm = validate(work)
    assert cold == warm == serial
    results = list((work / ".git" / "armgit" / "validate").glob("*.json"))
    assert results
    for path in results:  # now every file comes from the content cache the workers filled
        path.unlink()
    assert validate(work) == serial


def test_a_corrupt_result_cache_is_ignored(tmp_path: Path) -> None:
    generated = generate(
        tmp_path / "fleet", Options(tenants=1, templates=2, versions_per_template=2, seed=1)
    )
    repo = generated.path
    first = validate(repo, "--rev", "HEAD")
    assert first[0] == 0
    results = list((repo / ".git" / "armgit" / "validate").glob("*.json"))
    assert results
    for path in results:
        path.write_bytes(b"{not json")
    assert validate(repo, "--rev", "HEAD") == first


def test_a_corrupt_content_cache_is_rebuilt(tmp_path: Path) -> None:
    generated = generate(
        tmp_path / "fleet", Options(tenants=1, templates=2, versions_per_template=2, seed=1)
    )
    repo = generated.path
    first = validate(repo)
    database = repo / ".git" / "armgit" / "content.sqlite"
    assert database.exists()
    for path in (repo / ".git" / "armgit" / "validate").glob("*.json"):
        path.unlink()
    database.write_bytes(b"this is not a database" * 100)
    assert validate(repo) == first
    assert database.read_bytes().startswith(b"SQLite format 3")
