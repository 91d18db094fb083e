"""Site scenarios (SPEC 13, docs/site.md): ``armgit site`` on the generated registry, cold and
rebuilt, and the Directory answering a filter in Chromium.

The goal: the site builds within twice a cold ``armgit validate`` of the same registry, and the
Directory of 10,000 versions answers a filter within a second, measured in the browser.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from benchmarks.suite import MEASURED, Bench, Outcome, Stats, Unavailable, run_checked

CHROMIUM = os.environ.get("ARMGIT_CHROMIUM", "/usr/lib/chromium/chromium")


def _site(bench: Bench) -> Path:
    return bench.out / "work" / "site"


def _build(bench: Bench, *, cold: bool) -> Outcome:
    repo = bench.fixture("repo")
    out = _site(bench)
    argv = bench.armgit("site", "--repo", str(repo), "--rev", "HEAD", "--out", str(out))
    env = bench.env()

    def action() -> None:
        run_checked(argv, env=env)

    def drop() -> None:  # as validate-cold: every armgit cache, and the site written before
        shutil.rmtree(repo / ".git" / "armgit", ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)

    if cold:
        stats = bench.measure(
            action, setup=drop, repeat=min(bench.repeat, 3), warmup=0, budget=120.0
        )
        note = "every armgit cache and the previous site deleted before each run"
    else:
        stats = bench.measure(action)
        note = "caches populated and the previous site in place (the post-receive hook's case)"
    files = sum(1 for p in out.rglob("*") if p.is_file())
    return Outcome(MEASURED, stats, f"{bench.versions} versions, {files} files written; {note}")


def site_cold(bench: Bench) -> Outcome:
    return _build(bench, cold=True)


def site_warm(bench: Bench) -> Outcome:
    return _build(bench, cold=False)


# a state filter (all versions of one lifecycle, "latest only" off), then a search, each timed
# inside the page from the control's change event to the table drawn (the render is synchronous)
_FILTER = """([id, value]) => {
  const control = document.getElementById(id);
  const start = performance.now();
  control.value = value;
  control.dispatchEvent(new Event(id === "f-q" ? "input" : "change"));
  document.getElementById("summary").textContent;
  return performance.now() - start;
}"""


def site_filter(bench: Bench) -> Outcome:
    """The Directory of the site ``site-warm`` wrote, opened from file:// in Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise Unavailable("playwright is not installed (pip install -e '.[dev]')") from exc
    if not Path(CHROMIUM).exists():
        raise Unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    index = _site(bench) / "index.html"
    if not index.exists():
        _build(bench, cold=False)
    samples: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": 1366, "height": 860})
        page.goto(index.as_uri() + "#latest=0")
        page.wait_for_selector("body[data-ready]")
        states = ["APPROVED", "DEPRECATED", "CANDIDATE", "RETIRED", "TESTING", "DRAFT"]
        for run in range(bench.warmup + bench.repeat):
            took = page.evaluate(_FILTER, ["f-state", states[run % len(states)]])
            took += page.evaluate(_FILTER, ["f-q", f"{run % 10}.0"])
            page.evaluate(_FILTER, ["f-q", ""])
            page.evaluate(_FILTER, ["f-state", ""])
            if run >= bench.warmup:
                samples.append(took / 1000.0)
        rows = page.locator("#directory-table tbody tr").count()
        browser.close()
    note = (
        f"Chromium, file://, {bench.versions} versions: a state filter then a search, from the "
        f"event to the table drawn ({rows} rows drawn at most); {len(samples)} pairs, "
        f"worst {max(samples) * 1000:.0f} ms"
    )
    return Outcome(MEASURED, Stats(tuple(samples)), note)
