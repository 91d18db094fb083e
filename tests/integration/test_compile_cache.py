"""``armgit compile`` with its caches: the same bytes as compiling from scratch, work only for
what changed, damaged entries rebuilt, invalid registries still refused, no models when warm."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

import armgit.core.index.build
import armgit.registry.loader
from armgit import api
from armgit.core.canonical import to_canonical_json
from armgit.core.index.assemble import IndexOptions, Source
from armgit.core.index.build import build_index, build_tenant, tenant_names
from armgit.core.snapshot import Snapshot
from armgit.crypto.dsse import INDEX_PAYLOAD_TYPE, sign_envelope
from armgit.index.compile import compile_index
from armgit.index.signed import Compiled
from armgit.registry.loader import load_registry
from armgit.store.refs import resolve_quick
from armgit.store.tree import open_repository, open_tree
from benchmarks.generate import Options, generate
from tests.conftest import GIT_ENV, REPO_ROOT, Git

FLEET = Options(tenants=3, templates=3, versions_per_template=3, seed=5)
ISSUED = datetime(2027, 1, 15, tzinfo=UTC)
LIFETIME = timedelta(days=7)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.fixture
def fleet(tmp_path: Path) -> Git:
    return Git(generate(tmp_path / "fleet", FLEET).path)


def compiled(repo: Path, tenant: str | None = None) -> Compiled:
    return compile_index(repo, "HEAD", [KEY], issued_at=ISSUED, expires_in=LIFETIME, tenant=tenant)


def envelope(repo: Path, tenant: str | None = None) -> bytes:
    result = compiled(repo, tenant)
    assert result.envelope is not None, result.findings
    return result.envelope


def from_scratch(repo: Path, tenant: str | None = None) -> bytes:
    """The index as compile made it before it had caches: load, check, build, encode, sign."""
    tree = open_tree(repo, "HEAD")
    loaded = load_registry(tree)
    assert not loaded.findings
    info = tree.source
    options = IndexOptions(
        issued_at="2027-01-15T00:00:00Z", expires="2027-01-22T00:00:00Z", tenant=tenant
    )
    payload = build_index(loaded.snapshot, Source(info.repo, info.commit, info.tree), options)
    return sign_envelope(to_canonical_json(payload), INDEX_PAYLOAD_TYPE, [KEY])


def fragments(repo: Path) -> set[str]:
    return {p.name for p in (repo / ".git" / "armgit" / "compile").iterdir()}


def count_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []

    def counting(snapshot: Snapshot, tenant: str) -> object:
        built.append(tenant)
        return build_tenant(snapshot, tenant)

    monkeypatch.setattr(armgit.core.index.build, "build_tenant", counting)
    return built


def test_cold_warm_and_uncached_compiles_give_the_same_bytes(
    fleet: Git, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = from_scratch(fleet.path)
    assert envelope(fleet.path) == expected  # cold: validates, builds, fills the caches
    built = count_builds(monkeypatch)
    assert envelope(fleet.path) == expected  # warm: fragments only
    assert built == []
    monkeypatch.setenv("ARMGIT_NO_CACHE", "1")
    assert envelope(fleet.path) == expected
    assert len(built) == FLEET.tenants
    tenant = "globex-01"
    monkeypatch.delenv("ARMGIT_NO_CACHE")
    assert envelope(fleet.path, tenant) == from_scratch(fleet.path, tenant)


def test_a_change_in_one_tenant_rebuilds_that_tenant_only(
    fleet: Git, monkeypatch: pytest.MonkeyPatch
) -> None:
    envelope(fleet.path)
    before = fragments(fleet.path)
    provider = fleet.path / "tenants/globex-01/providers/local.yaml"
    provider.write_text(provider.read_text().replace("own runtime", "own runtime, on site"))
    fleet.commit_all("describe the local provider")
    built = count_builds(monkeypatch)
    result = envelope(fleet.path)
    assert built == ["globex-01"]
    assert result == from_scratch(fleet.path)
    assert len(fragments(fleet.path) - before) == 2  # its fragment, the new commit's manifest


def test_a_validated_tree_is_compiled_from_its_tenants_without_rerunning_rules(
    fleet: Git, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, whole = from_scratch(fleet.path, "acme-00"), from_scratch(fleet.path)
    assert api.validate(fleet.path, "HEAD").ok  # the verdict is cached by tree id

    def no_rules(snapshot: Snapshot) -> list[object]:
        raise AssertionError("the state rules ran again for a validated tree")

    monkeypatch.setattr(armgit.registry.loader, "check_state", no_rules)
    assert envelope(fleet.path, "acme-00") == one  # read: armgit.yaml and acme-00 only
    assert envelope(fleet.path) == whole


def test_damaged_cache_entries_are_rebuilt(fleet: Git, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = envelope(fleet.path)
    cache = fleet.path / ".git" / "armgit" / "compile"
    # the three tenants' fragments: the largest entries (the registry's name and signers and
    # the manifest are a few hundred bytes). Not the first three by name: the names hash the
    # builder's code and the commit's time, so those were the fragments only on some runs.
    entries = sorted(cache.iterdir(), key=lambda p: (-p.stat().st_size, p.name))[:3]
    entries[0].write_bytes(entries[0].read_bytes().replace(b'"', b"'", 1))  # a changed byte
    entries[1].write_bytes(entries[1].read_bytes()[:-3])  # truncated
    entries[2].write_bytes(b"")
    built = count_builds(monkeypatch)
    assert envelope(fleet.path) == expected
    assert sorted(built) == ["acme-00", "globex-01", "initech-02"]  # the damaged ones, rebuilt
    assert envelope(fleet.path) == expected
    assert len(built) == 3  # and kept: nothing is built again


def test_an_invalid_registry_is_refused_with_its_fragments_cached(fleet: Git) -> None:
    envelope(fleet.path)
    version = sorted(fleet.path.glob("tenants/acme-00/templates/*/versions/*.yaml"))[0]
    version.write_text(version.read_text().replace("lifecycle:", "lifecycle: SHIPPED\nx:"))
    fleet.commit_all("break a version")
    result = compiled(fleet.path)
    assert result.envelope is None
    assert result.findings
    assert compiled(fleet.path).findings == result.findings  # the verdict, now cached


def test_fragments_hold_only_their_tenant(fleet: Git) -> None:
    # the compile cache keys a fragment by the tenant's tree and armgit.yaml: a snapshot of
    # just those files gives the same fragment
    loaded = load_registry(open_tree(fleet.path, "HEAD"))
    whole = loaded.snapshot
    assert len(tenant_names(whole)) == FLEET.tenants
    for tenant in tenant_names(whole):
        own = [
            e for e in whole.entities.values() if e.id.tenant == tenant or e.id.kind == "Registry"
        ]
        assert build_tenant(Snapshot(own, whole.files), tenant) == build_tenant(whole, tenant)


def test_a_warm_compile_imports_no_model(fleet: Git, tmp_path: Path) -> None:
    key = tmp_path / "index_ed25519"
    key.write_bytes(KEY.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()))
    argv = [sys.executable, "-X", "importtime", "-m", "armgit", "compile"]
    argv += ["--repo", str(fleet.path), "--rev", "HEAD", "--key", str(key)]
    argv += ["--out", str(tmp_path / "index.json"), "--first-publish"]
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT)}
    runs = [
        subprocess.run(argv, env=env, capture_output=True, text=True, check=False) for _ in range(2)
    ]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr[-2000:]
    assert "armgit.core.models" in runs[0].stderr  # cold: the models built the fragments
    warm = runs[1].stderr
    assert "pydantic" not in warm
    assert "armgit.core.models" not in warm
    assert "yaml" not in warm


def test_refs_read_from_files_name_what_libgit2_resolves(fleet: Git) -> None:
    fleet("tag", "light")
    fleet("tag", "-a", "-m", "annotated", "v1")
    provider = fleet.path / "tenants/acme-00/providers/local.yaml"
    provider.write_text(provider.read_text().replace("own runtime", "own runtime, on site"))
    fleet.commit_all("a second commit")
    fleet("branch", "side", "HEAD~1")
    repo = open_repository(fleet.path)
    revs = ["HEAD", "main", "refs/heads/main", "side", "light", "v1", "refs/tags/v1"]
    revs.append(str(repo.revparse_single("HEAD").id))
    for packed in (False, True):
        if packed:
            fleet("pack-refs", "--all")
        for rev in revs:
            quick = resolve_quick(fleet.path, rev)
            assert quick is not None, rev
            assert quick.oid == str(repo.revparse_single(rev).id), rev
            assert quick.git_dir == fleet.path / ".git"
        sub = resolve_quick(fleet.path / "tenants", "main")
        assert sub is not None
        assert sub.root == str(fleet.path / "tenants")
    for rev in ("HEAD~1", "main^{tree}", "nowhere", "ORIG_HEAD", "@", "v1..main"):
        quick = resolve_quick(fleet.path, rev)
        assert quick is None or quick.oid == str(repo.revparse_single(rev).id), rev
    assert resolve_quick(fleet.path, None) is None  # a work tree is read from disk


def test_a_compile_by_branch_tag_and_id_is_the_same_index(fleet: Git) -> None:
    fleet("tag", "-a", "-m", "annotated", "v1")
    commit = fleet("rev-parse", "HEAD").strip()
    first = [
        compile_index(fleet.path, rev, [KEY], issued_at=ISSUED, expires_in=LIFETIME).envelope
        for rev in ("main", "v1", commit, "HEAD~0")
    ]
    again = [
        compile_index(fleet.path, rev, [KEY], issued_at=ISSUED, expires_in=LIFETIME).envelope
        for rev in ("main", "v1", commit, "HEAD~0")
    ]
    assert first == again
    assert len(set(first)) == 1
