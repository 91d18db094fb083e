"""Which entities a change can affect: instances narrowed to the changed template."""

from __future__ import annotations

import pytest

from armgit.core.layout import EntityId, deployment_id, named_id, version_id
from armgit.core.rules.scope import affected
from armgit.core.rules.state import check_state
from armgit.registry.lazyview import LazyView
from armgit.store.memory import MemoryTree
from tests.unit.helpers import INSTANCE, T, example_files

OTHER = f"{T}/instances/other-1.yaml"
LEGACY = "agent_01HZX3K8"  # the example instance's legacyAgentId
ODD = f"{T}/instances/odd-1.yaml"


def _view() -> LazyView:
    files = example_files()
    base = files[INSTANCE].decode()
    files[OTHER] = (
        base.replace("support-prod-1", "other-1")
        .replace("customer-support@2.0.0", "billing@1.0.0")
        .encode()
    )
    files[ODD] = (
        base.replace("support-prod-1", "odd-1")
        .replace("version: customer-support@2.0.0", "version: 42")
        .encode()
    )
    return LazyView(MemoryTree(files))


def _instances(scope: set[EntityId]) -> list[str]:
    return sorted(i.name for i in scope if i.kind == "Instance")


@pytest.mark.parametrize(
    "changed",
    [
        version_id("arm-dev", "customer-support", "2.0.0"),
        deployment_id("arm-dev", "prod", "customer-support"),
    ],
    ids=["version", "deployment"],
)
def test_naming_narrows_instances_to_the_template(changed: EntityId) -> None:
    view = _view()
    assert _instances(affected(view, [changed])) == ["odd-1", "other-1", "support-prod-1"]
    # other-1 runs another template; odd-1 cannot be read that far, so it stays in
    assert _instances(affected(view, [changed], naming=view.instances_naming)) == [
        "odd-1",
        "support-prod-1",
    ]


def test_other_kinds_still_reach_every_instance() -> None:
    view = _view()
    scope = affected(
        view, [named_id("Environment", "arm-dev", "prod")], naming=view.instances_naming
    )
    assert _instances(scope) == ["odd-1", "other-1", "support-prod-1"]


def test_a_deleted_version_reaches_the_instances_naming_its_template() -> None:
    view = _view()
    gone = version_id("arm-dev", "billing", "1.0.0")
    assert _instances(affected(view, [], [gone], naming=view.instances_naming)) == [
        "odd-1",
        "other-1",
    ]


def test_a_lazy_view_finds_a_duplicate_legacy_id_through_its_table() -> None:
    """The hook's view lists candidates from its instances table; each is checked by its
    model, so a file carrying the id that is not a valid instance of its name is not counted."""
    files = example_files()
    files[f"{T}/instances/support-prod-2.yaml"] = files[INSTANCE].replace(
        b"support-prod-1", b"support-prod-2"
    )
    files[f"{T}/instances/support-prod-3.yaml"] = files[INSTANCE]  # names itself -1: broken
    view = LazyView(MemoryTree(files))
    assert sorted(view.legacy_ids("arm-dev")[LEGACY]) == [
        "support-prod-1",
        "support-prod-2",
        "support-prod-3",
    ]
    found = check_state(view, {named_id("Instance", "arm-dev", "support-prod-1")})
    assert [f.rule for f in found] == ["duplicate-legacy-id"]
    assert "also the id of instance support-prod-2:" in found[0].message


_REFS = [
    "arm-dev/customer-support@2.0.0",
    "customer-support@2.0.0",
    "other/customer-support@1.0.0",
    "arm-dev/billing@1.0.0",
    "billing",  # no label: may run anything
    42,
    None,
    "a/b/c@1",
    "@1",
]


@pytest.mark.parametrize("template", ["customer-support", "billing", "c", "b/c", "", "nothing"])
def test_the_instances_index_answers_as_may_run(template: str) -> None:
    """The table indexed by template (built once per instances directory) names the instances
    :func:`may_run` accepts, in the table's order."""
    from armgit.core.layout import may_run, runnable
    from armgit.registry.lazyview import _Instances

    table: dict[str, tuple[object, object]] = {f"i-{n}": (ref, None) for n, ref in enumerate(_REFS)}
    expected = [name for name, (ref, _) in table.items() if may_run(ref, template)]
    instances = _Instances(table)
    assert instances.naming(template) == expected
    assert instances.naming(template) == expected  # the index, once built
    assert all(
        (runnable(ref) is None) == (not isinstance(ref, str) or "@" not in ref) for ref in _REFS
    )
