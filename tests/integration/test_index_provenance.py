"""An index compiled from a work tree names its commit and tree, or says it was dirty."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

from tests.conftest import EXAMPLE, Git, run_armgit
from tests.index_helpers import ssh_keygen


def source_of(index: Path) -> dict[str, Any]:
    payload = json.loads(base64.b64decode(json.loads(index.read_bytes())["payload"]))
    source: dict[str, Any] = payload["source"]
    return source


def compile_here(where: Path, key: Path, out: Path, *extra: str) -> Any:
    return run_armgit(
        "compile", "--repo", str(where), "--key", str(key), "--out", str(out), "--first-publish",
        *extra,
    )  # fmt: skip


def test_a_clean_work_tree_names_its_commit_and_a_dirty_one_is_refused(
    example_repo: Git, tmp_path: Path
) -> None:
    key, _, _ = ssh_keygen(tmp_path, "index")
    out = tmp_path / "index.json"
    (example_repo.path / ".gitignore").write_text("*.log\n")
    example_repo.commit_all("ignore logs")
    (example_repo.path / "build.log").write_text("ignored files do not count\n")
    clean = compile_here(example_repo.path, key, out)
    assert clean.returncode == 0, clean.stderr
    assert source_of(out) == {
        "repo": str(example_repo.path),
        "commit": example_repo("rev-parse", "HEAD"),
        "tree": example_repo("rev-parse", "HEAD^{tree}"),
        "dirty": False,
    }

    version = example_repo.path / "tenants/arm-dev/templates/customer-support/template.yaml"
    version.write_text(version.read_text() + "# an edit not committed\n")
    (example_repo.path / "tenants/arm-dev/notes.txt").write_text("untracked\n")
    dirty = compile_here(example_repo.path, key, tmp_path / "dirty.json")
    assert dirty.returncode == 2
    assert "2 uncommitted change(s)" in dirty.stderr
    assert "tenants/arm-dev/templates/customer-support/template.yaml" in dirty.stderr
    assert "--allow-dirty" in dirty.stderr
    assert not (tmp_path / "dirty.json").exists()

    (example_repo.path / "tenants/arm-dev/notes.txt").unlink()
    allowed = compile_here(example_repo.path, key, tmp_path / "dirty.json", "--allow-dirty")
    assert allowed.returncode == 0, allowed.stderr
    assert source_of(tmp_path / "dirty.json") == {
        "repo": str(example_repo.path),
        "commit": example_repo("rev-parse", "HEAD"),
        "tree": "",
        "dirty": True,
    }
    pinned = compile_here(example_repo.path, key, tmp_path / "rev.json", "--rev", "HEAD")
    assert pinned.returncode == 0, pinned.stderr  # --rev reads the commit, not the work tree
    assert source_of(tmp_path / "rev.json")["dirty"] is False


def test_changes_outside_the_registry_directory_do_not_count(tmp_path: Path) -> None:
    key, _, _ = ssh_keygen(tmp_path, "index")
    repo = Git(tmp_path / "mono")
    repo.path.mkdir()
    shutil.copytree(EXAMPLE, repo.path / "agents")
    (repo.path / "README").write_text("the monorepo\n")
    repo("init", "-q", "-b", "main")
    repo.commit_all("a monorepo with a registry in agents/")
    (repo.path / "README").write_text("edited, not committed\n")
    out = tmp_path / "index.json"
    made = compile_here(repo.path / "agents", key, out)
    assert made.returncode == 0, made.stderr
    assert source_of(out)["commit"] == repo("rev-parse", "HEAD")
    assert source_of(out)["dirty"] is False

    plain = tmp_path / "plain"
    shutil.copytree(EXAMPLE, plain)
    outside = compile_here(plain, key, tmp_path / "plain.json")
    assert outside.returncode == 2
    assert "not in a git work tree" in outside.stderr
    assert compile_here(plain, key, tmp_path / "plain.json", "--allow-dirty").returncode == 0
