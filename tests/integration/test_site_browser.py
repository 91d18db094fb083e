"""The site in a real browser: Chromium (Debian's ``chromium``, as ``.ci/run`` installs it)
driven by Playwright, pages opened from ``file://``. Every test fails on any console error.

Screenshots for docs/site.md: ``ARMGIT_SITE_SCREENSHOTS=docs/site pytest -q
tests/integration/test_site_browser.py -k screenshots`` writes them there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, sync_playwright

from armgit.cli.main import cli
from armgit.site.semver import semver_key
from benchmarks.generate import Options, generate
from tests.conftest import EXAMPLE, Git

CHROMIUM = os.environ.get("ARMGIT_CHROMIUM", "/usr/lib/chromium/chromium")
FLEET = Options(tenants=2, templates=5, versions_per_template=20, seed=11, history=40)
V1_FILE = "tenants/arm-dev/templates/customer-support/versions/1.0.0.yaml"


@dataclass(frozen=True, slots=True)
class Site:
    root: Path
    data: dict[str, list[dict[str, object]]]

    def url(self, page: str = "index.html") -> str:
        path, _, state = page.partition("#")
        return (self.root / path).as_uri() + (f"#{state}" if state else "")


def build(repo: Path, out: Path, expect: int = 0) -> Site:
    result = CliRunner().invoke(
        cli, ["site", "--repo", str(repo), "--rev", "main", "--out", str(out)],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == expect, result.output
    text = (out / "data/directory.js").read_text()
    return Site(out, json.loads(text.removeprefix("window.ARMGIT_DIRECTORY = ").rstrip(";\n")))


def example_git(where: Path) -> Git:
    shutil.copytree(EXAMPLE, where)
    git = Git(where)
    git("init", "-q", "-b", "main")
    git.commit_all("the example registry")
    return git


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `apt-get install chromium` (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    where = tmp_path_factory.mktemp("example")
    return build(example_git(where / "registry").path, where / "site")


@pytest.fixture(scope="module")
def tampered_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    where = tmp_path_factory.mktemp("tampered")
    git = example_git(where / "registry")
    path = git.path / V1_FILE
    path.write_text(path.read_text().replace("temperature: 0.3", "temperature: 0.9"))
    git.commit_all("tamper with a released genome")
    return build(git.path, where / "site", expect=1)


@pytest.fixture(scope="module")
def fleet_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    where = tmp_path_factory.mktemp("fleet")
    generated = generate(where / "registry", FLEET)
    return build(generated.path, where / "site")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    context.close()
    assert errors == [], errors


def open_directory(page: Page, site: Site, state: str = "") -> None:
    page.goto(site.url("index.html" + (f"#{state}" if state else "")))
    page.wait_for_selector("body[data-ready]")


def refs(page: Page) -> list[str]:
    found = page.locator("#directory-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.ref)"
    )
    return [str(ref) for ref in found]


def test_directory_shows_latest_versions_by_default(page: Page, example_site: Site) -> None:
    open_directory(page, example_site)
    assert page.get_attribute("#tab-versions", "aria-selected") == "true"
    assert page.is_checked("#f-latest")
    assert refs(page) == ["arm-dev/customer-support@2.0.0"]
    assert page.text_content("#summary", timeout=1000) is not None
    assert "1 of 2 versions" in (page.text_content("#summary") or "")


def test_view_state_lives_in_the_url(page: Page, example_site: Site) -> None:
    open_directory(page, example_site)
    page.uncheck("#f-latest")
    assert refs(page) == ["arm-dev/customer-support@2.0.0", "arm-dev/customer-support@1.0.0"]
    page.select_option("#f-dir", "asc")
    assert "latest=0" in page.url
    assert "dir=asc" in page.url
    page.reload()
    page.wait_for_selector("body[data-ready]")
    assert not page.is_checked("#f-latest")
    assert refs(page) == ["arm-dev/customer-support@1.0.0", "arm-dev/customer-support@2.0.0"]


def test_filters_on_a_fleet(page: Page, fleet_site: Site) -> None:
    versions = fleet_site.data["versions"]
    assert len(versions) == 200
    open_directory(page, fleet_site, "latest=0")
    page.select_option("#f-state", "APPROVED")
    shown = refs(page)
    assert shown
    assert sorted(shown) == sorted(str(v["ref"]) for v in versions if v["state"] == "APPROVED")
    tenant = str(versions[0]["tenant"])
    page.select_option("#f-tenant", tenant)
    assert all(ref.startswith(tenant + "/") for ref in refs(page))
    page.select_option("#f-state", "")
    page.select_option("#f-tenant", "")
    page.select_option("#f-env", "prod")
    expected = sorted(str(v["ref"]) for v in versions if "prod" in v["envs"])  # type: ignore[operator]
    assert sorted(refs(page)) == expected
    tag = "finance"
    page.select_option("#f-env", "")
    page.select_option("#f-tag", tag)
    assert sorted(refs(page)) == sorted(
        str(v["ref"])
        for v in versions
        if tag in v["tags"]  # type: ignore[operator]
    )


def test_search_by_name_label_and_hash_prefix(page: Page, fleet_site: Site) -> None:
    target = fleet_site.data["versions"][17]
    open_directory(page, fleet_site, "latest=0")
    digest = str(target["hash"]).removeprefix("sha256:")
    page.fill("#f-q", digest[:12])
    assert refs(page) == [target["ref"]]
    page.fill("#f-q", "sha256:" + digest[:10])
    assert refs(page) == [target["ref"]]
    page.fill("#f-q", f"{target['template']}@{target['label']}")
    assert target["ref"] in refs(page)
    page.fill("#f-q", "no-such-agent-anywhere")
    assert page.locator("#results").inner_text() == "Nothing matches: clear a filter."


def test_sort_by_semver_and_by_time(page: Page, fleet_site: Site) -> None:
    template = str(fleet_site.data["templates"][0]["name"])
    open_directory(page, fleet_site, f"latest=0&q={template}@&sort=semver&dir=asc")
    labels = [ref.split("@")[1] for ref in refs(page)]
    assert len(labels) == 20
    assert labels == sorted(labels, key=semver_key)
    page.select_option("#f-sort", "created")
    page.select_option("#f-dir", "desc")
    created = {str(v["ref"]): str(v["created"]) for v in fleet_site.data["versions"]}
    times = [created[ref] for ref in refs(page)]
    assert times == sorted(times, reverse=True)


def test_tabs_answer_the_keyboard(page: Page, example_site: Site) -> None:
    open_directory(page, example_site)
    page.focus("#tab-versions")
    page.keyboard.press("ArrowRight")
    assert page.get_attribute("#tab-instances", "aria-selected") == "true"
    assert "tab=instances" in page.url
    assert refs(page) == ["arm-dev/instance/support-prod-1"]
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert page.get_attribute("#tab-templates", "aria-selected") == "true"
    assert refs(page) == ["arm-dev/customer-support"]
    # every control of the filters has a label
    unlabeled = page.eval_on_selector_all(
        "input, select", "els => els.filter(e => !e.labels || !e.labels.length).map(e => e.id)"
    )
    assert unlabeled == []


def wait_for_version(page: Page, label: str) -> None:
    page.wait_for_function(
        "label => document.body.dataset.ready && document.querySelector('h1') &&"
        " document.querySelector('h1').textContent.includes('@' + label)",
        arg=label,
    )


def test_open_a_version_and_follow_links(page: Page, example_site: Site) -> None:
    open_directory(page, example_site)
    page.click("text=customer-support@2.0.0")
    wait_for_version(page, "2.0.0")
    assert page.url.endswith("version.html#arm-dev/customer-support@2.0.0")
    assert page.locator("h1 [data-integrity]").inner_text().endswith("VERIFIED")
    assert page.text_content("#hash-written") == page.text_content("#hash-actual")
    chain = page.locator("#lineage li a").all_inner_texts()
    assert chain == ["customer-support@1.0.0", "customer-support@2.0.0"]
    page.click("#lineage >> text=customer-support@1.0.0")
    wait_for_version(page, "1.0.0")
    assert "DEPRECATED" in page.locator("h1").inner_text()
    page.go_back()
    wait_for_version(page, "2.0.0")
    page.click("nav.crumbs >> text=customer-support")
    wait_for_heading(page, "Customer Support Agent")
    assert page.url.endswith("template.html#arm-dev/customer-support")
    page.click("table >> text=2.0.0")
    wait_for_version(page, "2.0.0")
    page.click("text=support-prod-1")
    wait_for_heading(page, "support-prod-1")
    assert page.url.endswith("instance.html#arm-dev/support-prod-1")
    assert "ACTIVE" in page.locator("h1").inner_text()
    page.click("nav[aria-label=Sections] >> text=Deployments")
    page.wait_for_selector("body[data-ready]")
    assert "customer-support" in page.locator("#env-arm-dev-prod").inner_text()
    for link in page.locator("a[href*='.html']").evaluate_all("as => as.map(a => a.href)"):
        assert Path(re.sub(r"^file://", "", str(link).split("#")[0])).is_file(), link


def wait_for_heading(page: Page, text: str) -> None:
    page.wait_for_function(
        "text => document.body.dataset.ready && document.querySelector('main h1') &&"
        " document.querySelector('main h1').textContent.includes(text)",
        arg=text,
    )


def assert_accessible_panels(page: Page, *, live: bool = True) -> None:
    """Every panel is labelled by its heading, every column head has its scope; an entity
    page, redrawn when its address changes, announces it (``live``)."""
    labels = page.locator("main section.panel").evaluate_all(
        "ss => ss.map(s => document.getElementById(s.getAttribute('aria-labelledby')).tagName)"
    )
    assert labels
    assert set(labels) == {"H2"}
    assert page.locator("main th:not([scope=col])").count() == 0
    assert page.get_attribute("#page", "aria-live") == ("polite" if live else None)


def test_a_template_page_drawn_from_its_data(page: Page, example_site: Site) -> None:
    page.goto(example_site.url("template.html#arm-dev/customer-support"))
    wait_for_heading(page, "Customer Support Agent")
    assert page.title() == "Customer Support Agent · armgit"
    heading = page.locator("h1").inner_text().split()
    assert heading == ["Customer", "Support", "Agent", "APPROVED", "arm-dev/customer-support"]
    assert "alice, ops" in page.locator("section[aria-labelledby=about-h]").inner_text()
    assert page.locator("section[aria-labelledby=deps-h] a.env").all_inner_texts() == ["prod"]
    rows = page.locator("section[aria-labelledby=versions-h] tbody tr")
    assert rows.locator("td:first-child").all_inner_texts() == ["2.0.0", "1.0.0"]
    badges = rows.locator("[data-integrity]").all_inner_texts()
    assert [b.split()[-1] for b in badges] == ["VERIFIED", "VERIFIED"]
    history = page.locator("section[aria-labelledby=history-h] table")
    assert history.locator("caption").inner_text() == "Change records, newest first"
    assert "TEMPLATE_CREATED" in history.inner_text()
    assert_accessible_panels(page)
    rows.locator("a", has_text="1.0.0").focus()  # the keyboard follows the link
    page.keyboard.press("Enter")
    wait_for_version(page, "1.0.0")
    assert page.url.endswith("version.html#arm-dev/customer-support@1.0.0")


def test_an_instance_page_drawn_from_its_data(page: Page, example_site: Site) -> None:
    page.goto(example_site.url("instance.html#arm-dev/support-prod-1"))
    wait_for_heading(page, "support-prod-1")
    assert page.title() == "support-prod-1 · armgit"
    assert page.locator("h1 .chip").inner_text() == "ACTIVE"
    facts = page.locator("section[aria-labelledby=about-h] dl").inner_text()
    for text in (
        "customer-support@2.0.0",
        "spiffe://",
        "vault://",
        "support-prod",
        "agent_01HZX3K8",
    ):
        assert text in facts, text
    policy = page.locator("section[aria-labelledby=policy-h] tbody tr td").all_inner_texts()
    assert "prod-ceiling, tenant-ceiling" in policy
    assert page.locator("section[aria-labelledby=history-h] tbody tr").count() >= 1
    assert_accessible_panels(page)
    page.click("section[aria-labelledby=about-h] >> text=customer-support@2.0.0")
    wait_for_version(page, "2.0.0")
    page.go_back()
    wait_for_heading(page, "support-prod-1")
    page.click("section[aria-labelledby=about-h] >> a.env")
    assert page.url.endswith("deployments.html#env-arm-dev-prod")


def test_entity_pages_redraw_when_the_address_changes(page: Page, fleet_site: Site) -> None:
    first, second = fleet_site.data["templates"][0], fleet_site.data["templates"][-1]
    assert first["tenant"] != second["tenant"]  # two data scripts
    page.goto(fleet_site.url(str(first["url"])))
    wait_for_heading(page, str(first["title"]))
    page.evaluate("url => { window.location.hash = url.split('#')[1]; }", second["url"])
    wait_for_heading(page, str(second["title"]))
    assert page.locator("section[aria-labelledby=versions-h] tbody tr").count() == 20
    instance = fleet_site.data["instances"][-1]
    page.goto(fleet_site.url(str(instance["url"])))
    wait_for_heading(page, str(instance["name"]))
    other = fleet_site.data["instances"][0]
    page.evaluate("url => { window.location.hash = url.split('#')[1]; }", other["url"])
    wait_for_heading(page, str(other["name"]))
    page.click(f"text={other['version']}")
    wait_for_version(page, str(other["label"]))


def test_the_deployments_page_drawn_from_its_data(page: Page, example_site: Site) -> None:
    page.goto(example_site.url("deployments.html"))
    page.wait_for_selector("body[data-ready]")
    assert page.title() == "Deployments · armgit"
    assert page.locator("main h1").inner_text() == "Deployments"
    headings = page.locator("main section.panel > h2").all_inner_texts()
    assert [h.split("\n")[0].split("  ")[0] for h in headings] == [
        "arm-dev / dev dev · from DRAFT",
        "arm-dev / prod prod · protected, 1 approval · from APPROVED",
        "arm-dev / staging staging · from CANDIDATE",
    ]
    prod = page.locator("#env-arm-dev-prod")
    assert prod.get_attribute("aria-labelledby") == "h-arm-dev-prod"
    assert prod.locator("h3").inner_text() == "customer-support → 2.0.0 ACTIVE"
    assert prod.locator("h3 .chip").inner_text() == "ACTIVE"
    facts = prod.locator("article p.muted").inner_text()
    assert facts.startswith("previous 1.0.0 · canary · requested by alice · since ")
    steps = prod.locator("ol.timeline li").all_inner_texts()
    assert [s.split()[1] for s in steps] == ["ACTIVATED", "CREATED"]  # newest first
    assert "— → 2.0.0 by " in steps[0]
    assert "DEPLOYMENT_" not in page.locator("main").inner_text()
    assert page.locator("#env-arm-dev-dev").inner_text().endswith("Nothing deployed here.")
    assert_accessible_panels(page, live=False)
    prod.locator("h3 a", has_text="2.0.0").click()
    wait_for_version(page, "2.0.0")
    page.go_back()
    page.wait_for_selector("body[data-ready]")
    page.locator("#env-arm-dev-prod h3 a", has_text="customer-support").click()
    wait_for_heading(page, "Customer Support Agent")


def test_a_rollback_and_approvals_on_the_deployments_page(
    page: Page, fleet_site: Site, tmp_path: Path
) -> None:
    """The timeline names the approvals of an activation (each id cut as the page always cut it)
    and the reason of a rollback, escaped: a reason is text, never markup."""
    page.goto(fleet_site.url("deployments.html"))
    page.wait_for_selector("body[data-ready]")
    approved = page.locator("ol.timeline li", has_text="approval").first.inner_text()
    assert re.search(r" with 1 approval \(\d{8}-[a-z]+-\d{2}…\) ", approved), approved
    git = example_git(tmp_path / "registry")
    path = git.path / "tenants/arm-dev/deployments/prod/customer-support.yaml"
    reason = "latency <script>window.hacked = 1</script> & errors"
    path.write_text(
        path.read_text().replace(
            "version: 2.0.0\npreviousVersion: 1.0.0",
            f'version: 1.0.0\npreviousVersion: 2.0.0\nrollbackOf: 2.0.0\nreason: "{reason}"',
        )
    )
    git.commit_all("roll customer-support back in prod")
    rolled = build(git.path, tmp_path / "site", expect=1)  # its instance still runs 2.0.0
    page.goto(rolled.url("deployments.html#env-arm-dev-prod"))
    page.wait_for_selector("body[data-ready]")
    prod = page.locator("#env-arm-dev-prod")
    assert prod.locator("h3").inner_text() == "customer-support → 1.0.0 ACTIVE"
    facts = prod.locator("article p.muted").inner_text()
    assert "· rollback of 2.0.0 · reason: " + reason in facts
    newest = prod.locator("ol.timeline li").first.inner_text()
    assert " ROLLED BACK 2.0.0 → 1.0.0 by " in newest
    assert "— " + reason in newest
    assert page.evaluate("() => window.hacked") is None
    assert page.locator("main script").count() == 0


def test_the_policies_page_drawn_from_its_data(page: Page, example_site: Site) -> None:
    page.goto(example_site.url("policies.html"))
    page.wait_for_selector("body[data-ready]")
    assert page.title() == "Policies · armgit"
    heads = page.locator("main section.panel > h2").all_inner_texts()
    assert heads == [
        "Effective policy per deployment",
        "Effective policy per instance",
        "Policy envelopes",
        "Where policies attach",
    ]
    deployment = page.locator("section[aria-labelledby=eff-d] tbody tr td").all_inner_texts()
    assert deployment[:3] == ["arm-dev / prod", "customer-support", "2.0.0 ACTIVE"]
    assert deployment[7:9] == ["support-prod", "prod-ceiling, tenant-ceiling"]
    assert deployment[9].startswith("sha256:")
    instance = page.locator("section[aria-labelledby=eff-i] tbody tr td").all_inner_texts()
    assert instance[0] == "arm-dev/support-prod-1 ACTIVE"
    assert "prod-ceiling, tenant-ceiling" in instance
    envelope = page.locator("#policy-arm-dev-prod-ceiling")
    assert envelope.locator(".chip-ceiling").inner_text() == "ceiling"
    risk = page.locator("#policy-arm-dev-support-prod .chip-risk-critical")
    assert risk.inner_text() == "critical"
    attach = page.locator("section[aria-labelledby=attach] tbody tr").all_inner_texts()
    assert [row.split("\t") for row in attach if "prod" in row.split("\t")[0]] == [
        ["arm-dev / prod", "prod", "yes, 1 approvals", "prod-ceiling"]
    ]
    assert_accessible_panels(page, live=False)
    page.click("section[aria-labelledby=eff-i] >> text=arm-dev/support-prod-1")
    wait_for_heading(page, "support-prod-1")


def in_view(page: Page, anchor: str) -> bool:
    box = page.locator(f"#{anchor}").evaluate(
        "e => { const r = e.getBoundingClientRect(); return [r.top, window.innerHeight]; }"
    )
    return bool(-2 < box[0] < box[1])  # its top within the window (scrolled to a fraction)


def test_links_to_the_drawn_anchors_land_on_them(page: Page, fleet_site: Site) -> None:
    """From a version page far down the fleet's lists, the links to its environment and to its
    policy open the drawn page scrolled to that anchor."""
    [*_, row] = [v for v in fleet_site.data["versions"] if v["envs"] and v["latest"]]
    env = str(row["envs"][-1])  # type: ignore[index]
    for selector, address in (
        ("a.env", f"deployments.html#env-{row['tenant']}-{env}"),
        ("a[href^='policies.html#policy-']", f"policies.html#policy-{row['tenant']}-"),
    ):
        page.goto(fleet_site.url(str(row["url"])))
        wait_for_version(page, str(row["label"]))
        page.locator(selector).filter(has_text=env if selector == "a.env" else "").last.click()
        page.wait_for_selector("body[data-ready]")
        assert address in page.url
        anchor = page.url.split("#")[1]
        assert page.evaluate("() => window.scrollY") > 0  # far down: the page scrolled
        assert in_view(page, anchor), anchor


def test_an_unknown_version_says_so(page: Page, example_site: Site) -> None:
    page.goto(example_site.url("version.html#arm-dev/customer-support@9.9.9"))
    page.wait_for_selector("body[data-ready]")
    assert page.locator("h1").inner_text() == "No such version"


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("template.html#arm-dev/no-such-template", "No such template"),
        ("template.html#arm-dev", "No such template"),
        ("template.html#../../static/common", "No such template"),
        ("template.html#%E0%A4%A", "No such template"),
        ("template.html", "No such template"),
        ("instance.html#arm-dev/no-such-instance", "No such instance"),
        ("instance.html#no-such-tenant/x", "No such instance"),
        ("instance.html#..%2Fdata%2Fdirectory/x", "No such instance"),
        ("version.html#arm-dev/no-such-template@1.0.0", "No such version"),
    ],
)
def test_an_unknown_name_says_so(page: Page, example_site: Site, name: str, heading: str) -> None:
    page.goto(example_site.url(name))
    page.wait_for_selector("body[data-ready]")
    assert page.locator("main h1").inner_text() == heading
    assert page.title() == f"{heading} · armgit"
    # nothing loaded but what the site wrote for the names it knows
    loaded = page.locator("script[src^='data/']").evaluate_all("ss => ss.map(s => s.src)")
    assert all(str(src).endswith("/arm-dev.js") for src in loaded), loaded


def test_tampered_version_is_shown(page: Page, tampered_site: Site) -> None:
    open_directory(page, tampered_site, "latest=0")
    row = page.locator("tr[data-ref='arm-dev/customer-support@1.0.0']")
    assert row.locator("[data-integrity]").inner_text().endswith("TAMPERED")
    assert "fails validation" in page.locator(".banner").inner_text()
    row.locator("a").first.click()
    wait_for_version(page, "1.0.0")
    assert page.locator("h1 [data-integrity]").inner_text().endswith("TAMPERED")
    assert "genome-hash-mismatch" in page.locator(".findings").inner_text()
    assert page.text_content("#hash-written") != page.text_content("#hash-actual")
    page.click("nav.crumbs >> text=customer-support")
    wait_for_heading(page, "Customer Support Agent")
    row = page.locator("section[aria-labelledby=versions-h] tr", has_text="1.0.0")
    assert row.locator("[data-integrity]").inner_text().endswith("TAMPERED")


def test_audit_filters_and_downloads(page: Page, fleet_site: Site) -> None:
    page.goto(fleet_site.url("audit.html"))
    page.wait_for_selector("body[data-ready]")
    page.select_option("#a-type", "VERSION_TRANSITIONED")
    types = set(page.locator("#audit-table tbody tr td:nth-child(2)").all_inner_texts())
    assert types == {"VERSION_TRANSITIONED"}
    assert "type=VERSION_TRANSITIONED" in page.url
    for name in ("audit.jsonl", "audit.csv"):
        href = page.get_attribute(f"a[href$='{name}']", "href")
        assert href == name
        assert (fleet_site.root / name).stat().st_size > 0


@pytest.mark.parametrize(
    "name",
    ["index.html", "deployments.html", "policies.html", "approvals.html", "audit.html",
     "operators.html", "findings.html"],
)  # fmt: skip
def test_every_page_loads_cleanly(page: Page, fleet_site: Site, name: str) -> None:
    page.goto(fleet_site.url(name))
    assert page.locator("main h1").count() == 1


def test_screenshots(page: Page, example_site: Site, fleet_site: Site, tmp_path: Path) -> None:
    where = Path(os.environ.get("ARMGIT_SITE_SCREENSHOTS", tmp_path))
    where.mkdir(parents=True, exist_ok=True)
    shots = [
        (fleet_site, "index.html#tab=templates", "directory.png"),
        (example_site, "version.html#arm-dev/customer-support@2.0.0", "version.png"),
        (fleet_site, "deployments.html", "deployments.png"),
        (fleet_site, "audit.html", "audit.png"),
    ]
    for site, name, file in shots:
        page.goto(site.url(name))
        page.wait_for_selector("body[data-ready]")
        page.screenshot(path=str(where / file))
        assert (where / file).stat().st_size > 10_000
