"""The pre-receive hook's work follows the change, not the registry (SPEC 9, last bullet).

Counted, not timed: on a generated registry, a push of one new draft (its version, prompt and
dev deployment) is judged in process, as the installed hook judges it, after a first push has
filled the server's caches. It must not read the tenant's other instances (the instances a
version can affect are found by one cache entry per instances directory, keyed by its tree
id) nor list the tenant's environments' deployment directories (a template's deployments are
looked up by name).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pygit2
import pytest

from armgit.core.layout import EntityId, may_run
from armgit.enforce.hooks import judge_push
from armgit.registry.lazyview import LazyView
from armgit.store.cache import ContentCache
from armgit.store.tree import GitTree, SourceInfo
from benchmarks.generate import Options, commit_change, final_fleet, generate

FLEET = Options(tenants=2, templates=6, versions_per_template=3, seed=1)
# the templates that get a new draft; the second's names a policy, so the widening rule scans
DRAFTS = (0, 3, 5)


def _counting(monkeypatch: pytest.MonkeyPatch, counts: Counter[str], cls: type, name: str) -> None:
    original: Callable[..., Any] = getattr(cls, name)

    def counted(self: object, *args: Any) -> Any:
        result = original(self, *args)
        counts[name] += 1
        if name == "names":
            counts[f"names {args[0]}"] += len(result)
        return result

    monkeypatch.setattr(cls, name, counted)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, list[str]]:
    """A bare registry and three one-draft changes on top of its head, each on its own ref."""
    path = tmp_path_factory.mktemp("hook-reads") / "server.git"
    generate(path, FLEET, bare=True)
    repo = pygit2.Repository(str(path))
    base = repo.revparse_single("refs/heads/main").peel(pygit2.Commit)
    fleet = final_fleet(FLEET, approvals=False)
    changes = []
    for i in DRAFTS:
        files = {p: fleet.files[p] for p in fleet.new_draft(i)}
        ref = f"refs/bench/change-{i}"
        repo.references.create(ref, base.id, force=True)
        changes.append(str(commit_change(repo, ref, files, "a new draft\n", base.commit_time + 60)))
    return path, str(base.id), changes


def _judge(server: tuple[Path, str, list[str]], change: int) -> tuple[int, list[str]]:
    _, base, changes = server
    stdin = f"{base} {changes[change]} refs/heads/main\n".encode()
    return judge_push(stdin, {"ARMGIT_PUSHER": "dave"}, datetime.now(UTC))


def test_a_push_reads_what_it_touches_not_the_tenant(
    server: tuple[Path, str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_DIR", str(server[0]))
    assert _judge(server, 0) == (0, [])  # fills the caches, as earlier pushes on a server do
    counts: Counter[str] = Counter()
    _counting(monkeypatch, counts, ContentCache, "peek")
    _counting(monkeypatch, counts, ContentCache, "get")
    _counting(monkeypatch, counts, GitTree, "names")
    loaded: list[EntityId] = []
    entity = LazyView.entity

    def loading(view: LazyView, entity_id: EntityId) -> Any:
        loaded.append(entity_id)
        return entity(view, entity_id)

    monkeypatch.setattr(LazyView, "entity", loading)
    assert _judge(server, 1) == (0, [])
    # the new version attaches a policy: the widening rule looks at its template's instances
    # (named TEMPLATE-ENV-N by the generator), not at every instance of the tenant
    template = final_fleet(FLEET, approvals=False).templates[DRAFTS[1]].name
    instances = [i.name for i in loaded if i.kind == "Instance"]
    assert instances
    assert [n for n in instances if not n.startswith(f"{template}-")] == []
    assert counts["get"] > 0  # the push's own files and those they name were read
    assert counts["peek"] == 0  # no other instance of the tenant
    listed = {k.removeprefix("names ") for k in counts if k.startswith("names ") and counts[k]}
    assert not [d for d in listed if d.endswith("/instances")]
    assert not [d for d in listed if "/deployments/" in d]  # a deployment is found by name


def test_the_instances_table_follows_the_directory(
    server: tuple[Path, str, list[str]], tmp_path: Path
) -> None:
    """A view of another commit with the same instances directory reuses the table; the
    table says what reading every instance says."""
    path, _, changes = server
    repo = pygit2.Repository(str(path))
    cache_file = tmp_path / "content.sqlite"
    trees: list[GitTree] = []
    for change in changes[:2]:
        commit = repo.get(change)
        assert isinstance(commit, pygit2.Commit)
        trees.append(GitTree(repo, commit.tree, SourceInfo(str(path), change)))
    tenant = sorted(trees[0].names("tenants"))[0]
    first = ContentCache(cache_file)
    view = LazyView(trees[0], first)
    template = trees[0].names(f"tenants/{tenant}/templates")[0]
    naming = view.instances_naming(tenant, template)
    first.save()
    assert naming  # the generated templates run in prod
    plain = LazyView(trees[0])  # every instance read
    assert naming == [
        i
        for i in plain.ids("Instance", tenant)
        if may_run((plain.peek(i) or {}).get("version"), template)
    ]
    counts: Counter[str] = Counter()
    again = ContentCache(cache_file)
    with pytest.MonkeyPatch.context() as patch:
        _counting(patch, counts, ContentCache, "peek")
        assert LazyView(trees[1], again).instances_naming(tenant, template) == naming
    assert counts["peek"] == 0
