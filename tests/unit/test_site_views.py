"""The site's page data, from a registry in memory: the Directory's rows, lineage, integrity of
a file that did not load, effective policies with their sources and ceilings; and how the pages
are cut into the workers' shares."""

from __future__ import annotations

import pytest

from armgit.core.layout import version_id
from armgit.registry.loader import load_registry
from armgit.site.fleet import effective_policies
from armgit.site.spread import share_bounds
from armgit.site.views import Facts, directory, lineage
from armgit.store.memory import MemoryTree
from tests.unit.helpers import T, example_files

V1 = f"{T}/templates/customer-support/versions/1.0.0.yaml"
V2 = f"{T}/templates/customer-support/versions/2.0.0.yaml"


def facts_of(files: dict[str, bytes]) -> Facts:
    loaded = load_registry(MemoryTree(files))
    return Facts.of(loaded.snapshot, loaded.findings, [])


def test_directory_rows_of_the_example() -> None:
    data = directory(facts_of(example_files()))
    versions = {r["label"]: r for r in data["versions"]}
    assert versions["2.0.0"]["latest"] is True
    assert versions["1.0.0"]["latest"] is False
    assert versions["1.0.0"]["rank"] < versions["2.0.0"]["rank"]
    assert versions["2.0.0"]["envs"] == ["prod"]
    assert versions["2.0.0"]["integrity"] == "VERIFIED"
    assert versions["2.0.0"]["url"] == "version.html#arm-dev/customer-support@2.0.0"
    [template] = data["templates"]
    assert (template["latestLabel"], template["versions"]) == ("2.0.0", 2)
    [instance] = data["instances"]
    assert instance["rank"] == versions["2.0.0"]["rank"]


def test_a_version_that_does_not_hash_to_its_hash_is_tampered() -> None:
    files = example_files()
    files[V1] = files[V1].replace(b"temperature: 0.3", b"temperature: 0.4")
    facts = facts_of(files)
    rows = {r["label"]: r for r in directory(facts)["versions"]}
    assert rows["1.0.0"]["integrity"] == "TAMPERED"
    steps = lineage(
        facts.snapshot, version_id("arm-dev", "customer-support", "2.0.0"), facts.tampered
    )
    assert [(s["label"], s["integrity"]) for s in steps["steps"]] == [
        ("1.0.0", "TAMPERED"),
        ("2.0.0", "VERIFIED"),
    ]


def test_lineage_says_where_it_stops() -> None:
    files = example_files()
    del files[V1]
    facts = facts_of(files)
    found = lineage(facts.snapshot, version_id("arm-dev", "customer-support", "2.0.0"))
    assert [s["label"] for s in found["steps"]] == ["2.0.0"]
    assert found["problem"] == "arm-dev/customer-support@1.0.0 does not exist"


def test_effective_policies_name_their_source_and_ceilings() -> None:
    data = effective_policies(facts_of(example_files()))
    [deployment] = data["deployments"]
    assert (deployment["environment"], deployment["source"]) == ("prod", "support-prod")
    assert deployment["ceilings"] == ["prod-ceiling", "tenant-ceiling"]
    [instance] = data["instances"]
    # the instance attaches no policy of its own: it runs under its deployment's
    assert (instance["name"], instance["source"]) == ("support-prod-1", "support-prod")
    assert instance["digest"] == deployment["digest"]


@pytest.mark.parametrize(
    ("count", "alone", "runs"), [(0, 0, 16), (5, 6, 16), (6, 6, 16), (7, 6, 16), (1006, 6, 16)]
)
def test_shares_cover_every_task_once(count: int, alone: int, runs: int) -> None:
    bounds = share_bounds(count, alone, runs)
    covered = [i for start, end in bounds for i in range(start, end)]
    assert covered == list(range(count))
    assert all(end - start == 1 for start, end in bounds[: min(alone, count)])
    assert len(bounds) <= min(alone, count) + runs
