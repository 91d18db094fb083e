"""``armgit site``: what it writes for the example, deterministically; a registry with findings
still built and shown (exit 1); the Approval Center's gates; a directory it must not replace."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from armgit.cli.main import cli
from tests.conftest import EXAMPLE, Git, run_armgit

DATA = "data/templates/arm-dev/customer-support.js"
INSTANCES = "data/instances/arm-dev.js"
TEMPLATE_FILE = "tenants/arm-dev/templates/customer-support/template.yaml"
V1_FILE = "tenants/arm-dev/templates/customer-support/versions/1.0.0.yaml"


def site(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["site", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def call(out: Path, path: str, function: str) -> list[Any]:
    """The arguments of the one call a data script makes."""
    text = (out / path).read_text()
    assert text.startswith(f"{function}("), text[:80]
    assert text.endswith(");\n"), text[-80:]
    arguments: list[Any] = json.loads("[" + text.removeprefix(f"{function}(")[: -len(");\n")] + "]")
    return arguments


def template_data(out: Path, path: str = DATA) -> tuple[dict[str, Any], dict[str, Any]]:
    """A template's data script: its page, and its versions' pages by label."""
    key, page, pages = call(out, path, "armgitTemplate")
    assert path == f"data/templates/{key}.js"
    return page, pages


def versions(out: Path) -> dict[str, dict[str, Any]]:
    """The version pages' data of customer-support, by label."""
    return template_data(out)[1]


def window_data(out: Path, path: str, name: str) -> Any:
    """The value a page's data script gives ``window.NAME``."""
    text = (out / path).read_text()
    assert text.startswith(f"window.{name} = "), text[:80]
    assert text.endswith(";\n"), text[-80:]
    return json.loads(text.removeprefix(f"window.{name} = ")[: -len(";\n")])


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_example_site(example_repo: Git, tmp_path: Path) -> None:
    out = tmp_path / "site"
    code, stdout, _ = site("--repo", str(example_repo.path), "--rev", "main", "--out", str(out))
    assert code == 0
    files = sum(1 for p in out.rglob("*") if p.is_file())
    assert f"wrote {files} files (10 pages, 2 versions)" in stdout
    for page in ("index.html", "deployments.html", "policies.html", "approvals.html",
                 "audit.html", "operators.html", "findings.html", "version.html", DATA,
                 "template.html", "instance.html", INSTANCES):  # fmt: skip
        assert (out / page).is_file(), page
    version = versions(out)["2.0.0"]
    assert version["integrity"] == "VERIFIED"
    assert version["actual"] == version["written"]
    # the lineage is the chain from the root, in order
    assert [s["label"] for s in version["lineage"]["steps"]] == ["1.0.0", "2.0.0"]
    assert version["instances"][0]["name"] == "support-prod-1"  # the instance that runs it
    assert version["deployed"] == ["prod"]
    assert version["history"][0]["type"] == "VERSION_CREATED"
    # one page per kind, each drawn from the data scripts: no file per template or instance
    assert not (out / "templates").exists()
    assert not (out / "instances").exists()
    template, _ = template_data(out)
    assert template["title"] == "Customer Support Agent"
    assert template["owners"] == ["alice", "ops"]
    assert [v["label"] for v in template["versions"]] == ["2.0.0", "1.0.0"]  # newest first
    assert template["versions"][0]["url"] == "version.html#arm-dev/customer-support@2.0.0"
    assert template["deployments"][0]["url"] == "version.html#arm-dev/customer-support@2.0.0"
    assert template["history"][0]["type"] == "TEMPLATE_CREATED"
    tenant, instances = call(out, INSTANCES, "armgitInstances")
    instance = instances["support-prod-1"]
    assert (tenant, list(instances)) == ("arm-dev", ["support-prod-1"])
    assert instance["versionUrl"] == "version.html#arm-dev/customer-support@2.0.0"
    assert instance["secretRef"].startswith("vault://")
    assert instance["effective"]["ceilings"] == ["prod-ceiling", "tenant-ceiling"]
    assert version["templateUrl"] == "template.html#arm-dev/customer-support"
    assert version["instances"][0]["url"] == "instance.html#arm-dev/support-prod-1"
    # the shells name the scripts they may load, and load nothing else
    assert 'data-keys="arm-dev/customer-support"' in (out / "template.html").read_text()
    assert 'data-keys="arm-dev"' in (out / "instance.html").read_text()
    # Deployments and Policies: shells drawn from their data scripts by static/PAGE.js
    for name in ("deployments", "policies"):
        shell = (out / f"{name}.html").read_text()
        assert f'<script src="data/{name}.js"></script>' in shell
        assert f'<script src="static/{name}.js"></script>' in shell
        assert '<div id="page">' in shell
        assert "<noscript>" in shell
    groups = window_data(out, "data/deployments.js", "ARMGIT_DEPLOYMENTS")
    assert [(g["tenant"], g["environment"]) for g in groups] == [
        ("arm-dev", "dev"),
        ("arm-dev", "prod"),
        ("arm-dev", "staging"),
    ]  # deployments.html#env-arm-dev-prod: the anchor the other pages link to
    prod = groups[1]
    assert prod["settings"]["protected"] is True
    assert prod["settings"]["requiredApprovals"] == 1
    [deployment] = prod["deployments"]
    assert (deployment["template"], deployment["version"]) == ("customer-support", "2.0.0")
    assert deployment["url"] == "version.html#arm-dev/customer-support@2.0.0"
    assert [r["type"] for r in deployment["timeline"]] == [
        "DEPLOYMENT_ACTIVATED",
        "DEPLOYMENT_CREATED",
    ]  # newest first
    assert deployment["activeSince"] == deployment["timeline"][0]["time"]
    # effective policy with its source and ceilings
    policies = window_data(out, "data/policies.js", "ARMGIT_POLICIES")
    [effective] = policies["deployments"]
    assert (effective["source"], effective["ceilings"]) == (
        "support-prod",
        ["prod-ceiling", "tenant-ceiling"],
    )
    assert policies["instances"][0]["url"] == "instance.html#arm-dev/support-prod-1"
    # policies.html#policy-arm-dev-support-prod: each envelope's tenant and name
    assert ("arm-dev", "support-prod") in {(q["tenant"], q["name"]) for q in policies["policies"]}
    assert [t["tenant"] for t in policies["tenants"]] == ["arm-dev"]
    assert [e["name"] for e in policies["environments"]] == ["dev", "prod", "staging"]
    # the data scripts and the downloads
    rows = window_data(out, "data/directory.js", "ARMGIT_DIRECTORY")
    assert [r["label"] for r in rows["versions"] if r["latest"]] == ["2.0.0"]
    records = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]
    assert {"VERSION_CREATED", "DEPLOYMENT_CREATED"} <= {r["type"] for r in records}
    assert (out / "audit.csv").read_text().splitlines()[0].startswith("time,type,tenant,target")
    # nothing loaded from elsewhere: every src and href is relative
    for name, data_bytes in read_tree(out).items():
        if name.endswith((".html", ".css")):
            assert not re.search(rb'(src|href)="(https?:)?//|url\((https?:)?//', data_bytes), name


def test_same_commit_same_bytes(example_repo: Git, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert site("--repo", str(example_repo.path), "--rev", "main", "--out", str(first))[0] == 0
    assert site("--repo", str(example_repo.path), "--rev", "main", "--out", str(second))[0] == 0
    assert read_tree(first) == read_tree(second)
    # building again over a site replaces it
    assert site("--repo", str(example_repo.path), "--rev", "main", "--out", str(first))[0] == 0
    assert read_tree(first) == read_tree(second)


def test_pages_rendered_by_workers_are_the_same_bytes(
    example_repo: Git, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fleet's pages are dealt to forked workers (site/spread.py): the example's few pages,
    dealt as a fleet's would be, give the site one process writes."""
    from armgit.site import spread
    from armgit.store.parallel import fork_workers

    if fork_workers(10, 2) < 2:
        pytest.skip("no fork, or one CPU: the pages are never dealt to workers here")
    alone, dealt = tmp_path / "alone", tmp_path / "dealt"
    assert site("--repo", str(example_repo.path), "--rev", "main", "--out", str(alone))[0] == 0
    monkeypatch.setattr(spread, "SPREAD_MIN_TASKS", 1)
    assert site("--repo", str(example_repo.path), "--rev", "main", "--out", str(dealt))[0] == 0
    assert read_tree(dealt) == read_tree(alone)
    assert site("--repo", str(example_repo.path), "--rev", "main", "--out", str(dealt))[0] == 0
    assert read_tree(dealt) == read_tree(alone)  # a rebuild by workers keeps every file


def test_tampered_registry_still_builds(example_repo: Git, tmp_path: Path) -> None:
    path = example_repo.path / V1_FILE
    path.write_text(path.read_text().replace("temperature: 0.3", "temperature: 0.9"))
    assert "temperature: 0.9" in path.read_text()
    example_repo.commit_all("tamper with a released genome")
    out = tmp_path / "site"
    code, _, stderr = site("--repo", str(example_repo.path), "--rev", "main", "--out", str(out))
    assert code == 1
    assert "finding" in stderr
    pages = versions(out)
    assert pages["1.0.0"]["integrity"] == "TAMPERED"
    assert pages["1.0.0"]["actual"] != pages["1.0.0"]["written"]
    # the findings panel on the page it concerns
    assert [f["rule"] for f in pages["1.0.0"]["findings"]] == ["genome-hash-mismatch"]
    # the child's lineage shows the tampered parent
    assert pages["2.0.0"]["lineage"]["steps"][0]["integrity"] == "TAMPERED"
    assert "genome-hash-mismatch" in (out / "findings.html").read_text()
    assert "fails validation" in (out / "index.html").read_text()


def test_approval_center_lists_missing_gates(example_repo: Git, tmp_path: Path) -> None:
    example_repo("checkout", "-q", "-b", "raise-tier")
    policy = example_repo.path / "tenants/arm-dev/policies/support-prod.yaml"
    policy.write_text(policy.read_text().replace("autonomyTier: 2", "autonomyTier: 3"))
    example_repo.commit_all("support-prod: tier 3")
    example_repo("checkout", "-q", "main")
    out = tmp_path / "site"
    assert site("--repo", str(example_repo.path), "--out", str(out))[0] == 0
    page = (out / "approvals.html").read_text()
    section = page.split('id="proposal-raise-tier"')[1].split("</article>")[0]
    assert "POLICY_AUTONOMY_INCREASE" in section
    assert "1 missing" in section
    # who may give it: operators holding the permission, never the author
    assert re.search(r"<td>[a-z-]+(, [a-z-]+)*</td></tr>", section), section


def test_refuses_a_directory_it_did_not_write(example_repo: Git, tmp_path: Path) -> None:
    out = tmp_path / "docs"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run_armgit("site", "--repo", str(example_repo.path), "--out", str(out))
    assert result.returncode == 2
    assert "not a site armgit wrote" in result.stderr
    assert (out / "notes.txt").read_text() == "mine"


def test_not_a_registry_is_a_usage_error(tmp_path: Path) -> None:
    """As `armgit validate`: exit 2 and its message, and no site written."""
    somewhere = tmp_path / "somewhere"
    somewhere.mkdir()
    (somewhere / "notes.txt").write_text("not a registry")
    out = tmp_path / "site"
    result = run_armgit("site", "--repo", str(somewhere), "--out", str(out))
    validated = run_armgit("validate", "--repo", str(somewhere))
    assert (result.returncode, validated.returncode) == (2, 2)
    assert "is not a registry (no armgit.yaml, no entities)" in result.stderr
    assert result.stderr == validated.stderr
    assert result.stdout == ""
    assert not out.exists()


def test_plain_directory_without_history(tmp_path: Path) -> None:
    out = tmp_path / "site"
    shutil.copytree(EXAMPLE, tmp_path / "plain")
    code, _, _ = site("--repo", str(tmp_path / "plain"), "--out", str(out))
    assert code == 0
    assert "No git history" in (out / "approvals.html").read_text()


def test_post_receive_writes_the_site(tmp_path: Path) -> None:
    from tests.integration.test_push_rules import V1, Server

    server = Server(tmp_path)
    site_dir = tmp_path / "www" / "site"
    installed = run_armgit(
        "hooks", "install", "--server", str(server.bare), "--site-dir", str(site_dir), "--force"
    )
    assert installed.returncode == 0, installed.stderr
    server.edit(V1, "lifecycle: DEPRECATED", "lifecycle: RETIRED")
    commit = server.work.commit_all("retire 1.0.0")
    result = server.push("github:alice-chen")
    assert result.returncode == 0, result.stderr
    assert "wrote the site" in result.stderr
    assert commit in (site_dir / "index.html").read_text()
    assert versions(site_dir)["1.0.0"]["state"] == "RETIRED"
    assert not (tmp_path / "www" / "index.json").exists()  # no index asked for


def test_every_template_has_its_data_script(example_repo: Git, tmp_path: Path) -> None:
    """A template with no version has its page; versions whose template file is gone have
    theirs, and the template's page shows them with the findings."""
    triage = example_repo.path / "tenants/arm-dev/templates/triage/template.yaml"
    triage.parent.mkdir()
    triage.write_text("apiVersion: armgit/v1\nkind: Template\nname: triage\nowners: [ops]\n")
    (example_repo.path / TEMPLATE_FILE).unlink()
    example_repo.commit_all("a template without versions; versions without their template")
    out = tmp_path / "site"
    code, _, _ = site("--repo", str(example_repo.path), "--rev", "main", "--out", str(out))
    assert code == 1
    page, pages = template_data(out, "data/templates/arm-dev/triage.js")
    assert (page["loaded"], page["owners"], page["versions"], pages) == (True, ["ops"], [], {})
    page, pages = template_data(out)
    assert not page["loaded"]
    assert sorted(pages) == ["1.0.0", "2.0.0"]
    assert [v["label"] for v in page["versions"]] == ["2.0.0", "1.0.0"]
    keys = 'data-keys="arm-dev/customer-support arm-dev/triage"'
    assert keys in (out / "template.html").read_text()
    assert keys in (out / "version.html").read_text()
