"""A corpus of broken registries: each gives its rule id and exit code 1, never a traceback.

Each case breaks a fresh copy of the example on disk, then `armgit validate` runs through the
real entry point twice: on the work tree, and at a commit read from the object database.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Git, run_armgit

T = "tenants/arm-dev"
V2 = f"{T}/templates/customer-support/versions/2.0.0.yaml"
INSTANCE = f"{T}/instances/support-prod-1.yaml"


def replace(path: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        file = root / path
        text = file.read_text()
        assert old in text
        file.write_text(text.replace(old, new, 1))

    return apply


def write(path: str, data: bytes) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)

    return apply


def remove(path: str) -> Callable[[Path], None]:
    return lambda root: (root / path).unlink()


def symlink(path: str, target: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / path).unlink()
        os.symlink(target, root / path)

    return apply


CORPUS: list[tuple[str, Callable[[Path], None], str]] = [
    ("malformed yaml", write(f"{T}/roles/broken.yaml", b"name: [unclosed\n"), "yaml"),
    ("tab indentation", write(f"{T}/roles/tabs.yaml", b"kind: Role\n\tname: x\n"), "yaml"),
    ("not utf-8", write(f"{T}/roles/latin.yaml", "name: caf\u00e9".encode("latin-1")), "yaml"),
    ("binary blob", write(f"{T}/roles/blob.yaml", bytes(range(256))), "yaml"),
    ("empty file", write(f"{T}/roles/empty.yaml", b""), "schema"),
    ("a list, not a mapping", write(f"{T}/roles/list.yaml", b"- a\n- b\n"), "schema"),
    (
        "alias bomb",
        write(f"{T}/roles/bomb.yaml", b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"),
        "yaml",
    ),
    ("deep nesting", write(f"{T}/roles/deep.yaml", b"a: " + b"[" * 50_000 + b"]" * 50_000), "yaml"),
    (
        "huge file",
        write(f"{T}/roles/huge.yaml", b"# " + b"x" * (2 * 1024 * 1024)),
        "file-too-large",
    ),
    (
        "python tag",
        write(f"{T}/roles/evil.yaml", b"a: !!python/object/apply:os.system [id]\n"),
        "yaml",
    ),
    ("duplicate key", replace(INSTANCE, "state: ACTIVE", "state: ACTIVE\nstate: PAUSED"), "yaml"),
    (
        "wrong type",
        replace(f"{T}/environments/prod.yaml", "protected: true", "protected: 'yes'"),
        "schema",
    ),
    ("unknown lifecycle", replace(V2, "lifecycle: APPROVED", "lifecycle: SHIPPED"), "schema"),
    ("tampered genome", replace(V2, "maxTokens: 8192", "maxTokens: 9000"), "genome-hash-mismatch"),
    (
        "timestamp in genome",
        replace(V2, 'createdAt: "2026-02-01T10:00:00Z"', "createdAt: 2026-02-01T10:00:00Z"),
        "yaml",
    ),
    (
        "dangling policy",
        replace(INSTANCE, "policy: support-prod", "policy: missing"),
        "dangling-reference",
    ),
    (
        "cross tenant",
        replace(
            INSTANCE, "version: customer-support@2.0.0", "version: evil/customer-support@2.0.0"
        ),
        "cross-tenant-reference",
    ),
    ("missing tenant file", remove(f"{T}/tenant.yaml"), "missing-file"),
    (
        "missing prompt bundle",
        remove(f"{T}/templates/customer-support/prompts/v2.md"),
        "dangling-reference",
    ),
    (
        "name in path contradicts content",
        replace(f"{T}/providers/local.yaml", "name: local", "name: remote"),
        "path-mismatch",
    ),
    (
        "uppercase directory",
        write("tenants/ARM-dev/tenant.yaml", b"kind: Tenant\n"),
        "invalid-name",
    ),
    (
        "confusable name",
        write(f"{T}/instances/supp\u043ert.yaml", b"kind: Instance\n"),
        "invalid-name",
    ),
    ("stray file", write(f"{T}/notes.txt", b"hello\n"), "unexpected-file"),
    ("wrong extension", write(f"{T}/roles/x.yml", b"kind: Role\n"), "unexpected-file"),
    ("symlinked entity", symlink(f"{T}/roles/admin.yaml", "/etc/passwd"), "unsafe-file"),
    ("not deployable", replace(V2, "lifecycle: APPROVED", "lifecycle: TESTING"), "not-deployable"),
    (
        "ceiling exceeded",
        replace(f"{T}/policies/support-prod.yaml", "autonomyTier: 2", "autonomyTier: 4"),
        "ceiling-exceeded",
    ),
    # found by fuzzing (issue 16): each was an internal error, or passed
    ("key like pydantic's own", replace(f"{T}/tenant.yaml", "slug:", "a[: 1\nslug:"), "schema"),
    (
        "scalar alias",
        replace(f"{T}/tenant.yaml", "slug: arm-dev", "slug: &s arm-dev\nb: *s"),
        "yaml",
    ),
    (
        "cost of 1e400",
        replace(f"{T}/policies/support-prod.yaml", "monthlyCost: 1500", "monthlyCost: 1e400"),
        "non-finite-number",
    ),
    (
        "4,301-digit integer",
        replace(
            f"{T}/policies/support-prod.yaml", "dailyTokens: 1000000", "dailyTokens: " + "9" * 4301
        ),
        "non-finite-number",
    ),
    ("NaN temperature", replace(V2, "temperature: 0.5", "temperature: .nan"), "non-finite-number"),
    (
        "approval rule of count 0",
        replace("armgit.yaml", "VERSION_PROMOTION, count: 1", "VERSION_PROMOTION, count: 0"),
        "schema",
    ),
]


@pytest.mark.parametrize(("mutate", "rule"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_broken_registry(example_repo: Git, mutate: Callable[[Path], None], rule: str) -> None:
    root = example_repo.path
    mutate(root)
    example_repo.commit_all("break it")
    for extra in ([], ["--rev", "HEAD"]):
        result = run_armgit("validate", "--repo", str(root), "--format", "json", *extra)
        assert result.returncode == 1, (extra, result.stdout, result.stderr)
        assert result.stderr == "", result.stderr
        report = json.loads(result.stdout)
        assert report["ok"] is False
        assert rule in {f["rule"] for f in report["findings"]}, (extra, report)


def test_bare_repository_is_read_at_head(example_repo: Git, tmp_path: Path) -> None:
    bare = tmp_path / "server.git"
    example_repo("clone", "-q", "--bare", str(example_repo.path), str(bare))
    result = run_armgit("validate", "--repo", str(bare))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "at" not in result.stdout.split("in ")[-1] or "server.git" in result.stdout


def test_registry_in_a_subdirectory_at_a_revision(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    (outer / "reg").mkdir(parents=True)
    git = Git(outer)
    git("init", "-q", "-b", "main")
    example = Path(__file__).resolve().parents[2] / "registry-example"
    git("-C", str(outer / "reg"), "init", "-q")  # ensure the nested .git is not used
    (outer / "reg" / ".git").rename(tmp_path / "unused")
    for file in example.rglob("*"):
        if file.is_file():
            target = outer / "reg" / file.relative_to(example)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.read_bytes())
    git.commit_all("registry in a subdirectory")
    result = run_armgit("validate", "--repo", str(outer / "reg"), "--rev", "HEAD")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate", "--repo", "/nonexistent/dir"], "is not a directory"),
        (["validate", "--rev", "HEAD"], "not inside a git repository"),
        (["validate", "--rev", "no-such-rev"], "unknown revision"),
        (["validate", "--format", "yaml"], "Invalid value for '--format'"),
        (["frobnicate"], "No such command"),
    ],
)
def test_usage_and_environment_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    cwd = tmp_path
    if "no-such-rev" in args:
        Git(tmp_path)("init", "-q")
    result = run_armgit(*args, cwd=cwd)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
