"""Render the site and write it: the pages (Jinja2), the data scripts the entity pages are
drawn from, and the static files.

Each file is replaced atomically and only when its bytes change (a reader sees the old page or
the new one); a directory that is not empty and was not written by armgit is refused rather
than replaced.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from armgit.core.findings import Finding
from armgit.core.layout import EntityId, identify, template_id
from armgit.errors import UsageError
from armgit.site.collect import SiteSource
from armgit.site.fleet import deployments, effective_policies, environments, operators, tenants
from armgit.site.pages import instance_page, template_page, version_page
from armgit.site.records import records_csv
from armgit.site.spread import spread
from armgit.site.views import (
    Facts,
    Row,
    directory,
    finding_row,
    instance_data_path,
    record_row,
    template_data_path,
)

if TYPE_CHECKING:
    import jinja2
    from markupsafe import Markup

MARKER = ".armgit-site"
SHOWN_APPROVALS = 500  # the newest on the page; all of them in approvals.jsonl
STATIC = (
    "site.css",
    "common.js",
    "directory.js",
    "audit.js",
    "version.js",
    "template.js",
    "instance.js",
    "deployments.js",
    "policies.js",
)
# the pages drawn in the browser from a data script of the same name, with their lead paragraph
_LISTINGS = {
    "deployments": "What runs in each environment, and how it got there: activations and"
    " rollbacks, newest first. A deployment's time is the commit that activated it, not when"
    " its version was created.",
    "policies": "The effective policy of every deployment and instance: the most specific"
    " attached policy (instance, version, template, environment, tenant), narrowed by every"
    " ceiling above it. Ceilings bound; they never grant.",
}


@dataclass(frozen=True, slots=True)
class Built:
    """What was written."""

    out: Path
    pages: int  # HTML pages (a version, template or instance is drawn by one of them)
    files: int  # every file, data scripts and downloads included
    versions: int
    findings: list[Finding]


def build_site(site: SiteSource, out: Path) -> Built:
    """Write the site of ``site`` into ``out``, a new or empty directory or a site written
    before: each file is replaced atomically and only if its bytes change, and files the new
    site no longer has are removed, so a rebuild after a small change writes little."""
    out = out.absolute()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise UsageError(
            f"{out} exists and is not a site armgit wrote: give an empty or new directory"
        )
    before = {p for p in out.rglob("*") if p.is_file()} if out.exists() else set()
    out.mkdir(parents=True, exist_ok=True)
    writer = _Writer(out, _environment(), before)
    _write(site, writer)
    writer.text(MARKER, "written by `armgit site`; replaced on each build\n")
    for stale in sorted(before - writer.written):
        stale.unlink()
    for folder in sorted({p.parent for p in before - writer.written}, reverse=True):
        if folder != out and not any(folder.iterdir()):
            folder.rmdir()
    versions = len(site.snapshot.of_kind("Version"))
    return Built(out, writer.pages, len(writer.written), versions, site.findings)


class _Writer:
    def __init__(self, root: Path, env: jinja2.Environment, existing: set[Path]) -> None:
        self.root = root
        self.env = env
        self.common: Row = {}
        self.existing = existing
        self.written: set[Path] = set()
        self.pages = 0
        self.made: set[Path] = set()

    def text(self, path: str, text: str) -> None:
        self.data(path, text.encode("utf-8"))

    def data(self, path: str, data: bytes) -> None:
        target = self.root / path
        self.written.add(target)
        if target in self.existing:
            if target.read_bytes() == data:
                return
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)  # readers see the old page or the new one
            return
        if target.parent not in self.made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.made.add(target.parent)
        target.write_bytes(data)

    def page(self, path: str, template: str, **context: Any) -> None:
        depth = path.count("/")
        root = "../" * depth
        self.text(path, self.env.get_template(template).render(root=root, **self.common, **context))
        self.pages += 1


def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("armgit.site", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["short"] = lambda digest: (
        str(digest)[:19] + "…" if len(str(digest)) > 20 else digest
    )
    env.filters["chip"] = chip
    return env


def chip(state: object) -> Markup:
    """A status chip (``chip-approved``, ``chip-quarantined``, ...); nothing for no state."""
    from markupsafe import Markup, escape

    if not state:
        return Markup("")
    text = escape(str(state))
    return Markup(f'<span class="chip chip-{text.lower().replace("_", "-")}">{text}</span>')


def _script(name: str, value: object) -> str:
    return f"window.{name} = {_json(value)};\n"


def _json(value: object) -> str:
    """Compact JSON text for the data scripts and downloads: orjson (several times faster than
    the standard library on a fleet's page data), the standard library where orjson refuses
    a value (an integer beyond 64 bits, a non-string key)."""
    try:
        option = orjson.OPT_PASSTHROUGH_DATACLASS  # a Finding goes through _default
        return orjson.dumps(value, default=_default, option=option).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default)


def _default(value: object) -> object:
    if isinstance(value, Finding):
        return finding_row(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _write(site: SiteSource, writer: _Writer) -> None:
    facts = Facts.of(site.snapshot, site.findings, site.records)
    dir_data = directory(facts)
    writer.common = {
        "commit": site.source.commit or "",
        "findingCount": len(site.findings),
        "filesWithFindings": len({f.path for f in site.findings}),
    }
    static = resources.files("armgit.site") / "static"
    for name in STATIC:
        writer.text(f"static/{name}", (static / name).read_text(encoding="utf-8"))
    writer.page("index.html", "directory.html", page="directory", tenants=tenants(site.snapshot))
    snapshot = site.snapshot
    by_template = _templates(site, dir_data["versions"])
    snapshot_ids = {e.id.ref: e.id for e in snapshot.of_kind("Version")}
    snapshot_ids.update({ident.ref: ident for ident in facts.tampered})
    instances_of: dict[str, list[EntityId]] = {}
    for ident in sorted(e.id for e in snapshot.of_kind("Instance")):
        instances_of.setdefault(ident.tenant, []).append(ident)

    def template_script(tenant: str, name: str, own: list[Row]) -> None:
        # the template's page and its versions' pages: one script, loaded by both
        ident = template_id(tenant, name)
        page = template_page(facts, ident, own)
        versions = {r["label"]: version_page(facts, snapshot_ids[r["ref"]], r) for r in own}
        call = f"armgitTemplate({_json(ident.ref)}, {_json(page)}, {_json(versions)});\n"
        writer.text(template_data_path(tenant, name), call)

    def instance_script(tenant: str, idents: list[EntityId]) -> None:
        pages = {ident.name: instance_page(facts, ident) for ident in idents}
        call = f"armgitInstances({_json(tenant)}, {_json(pages)});\n"
        writer.text(instance_data_path(tenant), call)

    def deployments_script() -> None:
        writer.text("data/deployments.js", _script("ARMGIT_DEPLOYMENTS", deployments(facts)))

    def policies_script() -> None:
        rows = {
            **effective_policies(facts),
            "tenants": tenants(snapshot),
            "environments": environments(snapshot),
        }
        writer.text("data/policies.js", _script("ARMGIT_POLICIES", rows))

    def audit_script() -> None:
        rows = [_audit_row(r) for r in site.records]
        writer.text("data/audit.js", _script("ARMGIT_AUDIT", rows))

    def audit_downloads() -> None:
        # both from the lines `armgit audit` wrote: the records are not encoded again
        writer.data("audit.jsonl", site.record_lines)
        writer.text("audit.csv", records_csv(site.records, site.record_lines.decode("utf-8")))

    def directory_script() -> None:
        writer.text("data/directory.js", _script("ARMGIT_DIRECTORY", dir_data))

    def approvals_download() -> None:
        writer.text("approvals.jsonl", "".join(_json(row) + "\n" for row in decided))

    decided = sorted(
        (row for rows_ in facts.approvals_of.values() for row in rows_),
        key=lambda r: (r["createdAt"], r["id"]),
        reverse=True,
    )
    # the few big files: each a share of its own, so that they start at once on different workers
    big: list[Callable[[], None]] = [
        audit_downloads,
        audit_script,
        policies_script,
        deployments_script,
        directory_script,
        approvals_download,
    ]
    tasks = list(big)
    tasks += [partial(template_script, *key, own) for key, own in sorted(by_template.items())]
    tasks += [partial(instance_script, *item) for item in sorted(instances_of.items())]
    spread(tasks, writer, alone=len(big))
    for page, lead in _LISTINGS.items():  # drawn from data/PAGE.js by static/PAGE.js
        writer.page(f"{page}.html", "listing.html", page=page, title=page.capitalize(), lead=lead)
    # the entity pages: one page each, drawn from the data scripts the address names
    template_keys = " ".join(f"{tenant}/{name}" for tenant, name in sorted(by_template))
    for what, keys in (
        ("version", template_keys),
        ("template", template_keys),
        ("instance", " ".join(sorted(instances_of))),
    ):
        writer.page(f"{what}.html", "drawn.html", page="directory", what=what, keys=keys)
    writer.page(
        "approvals.html",
        "approvals.html",
        page="approvals",
        approvals=decided[:SHOWN_APPROVALS],
        total=len(decided),
        proposals=site.proposals,
        branch=site.branch,
        history=site.history,
    )
    count = len(site.records)
    writer.page("audit.html", "audit.html", page="audit", history=site.history, count=count)
    writer.page("operators.html", "operators.html", page="operators", o=operators(site.snapshot))
    by_path: dict[str, list[Finding]] = {}
    for finding in site.findings:
        by_path.setdefault(finding.path, []).append(finding)
    writer.page("findings.html", "findings.html", page="findings", by_path=by_path)


def _templates(site: SiteSource, versions: list[Row]) -> dict[tuple[str, str], list[Row]]:
    """Each template's rows of the Directory's versions, by (tenant, name): every template
    that loaded, that has a version, or whose file has a finding (a page for each)."""
    by_template: dict[tuple[str, str], list[Row]] = {
        (e.id.tenant, e.id.name): [] for e in site.snapshot.of_kind("Template")
    }
    for finding in site.findings:
        ident = identify(finding.path)
        if isinstance(ident, EntityId) and ident.kind == "Template":
            by_template.setdefault((ident.tenant, ident.name), [])
    for row in versions:
        by_template.setdefault((row["tenant"], row["template"]), []).append(row)
    return by_template


def _audit_row(record: Any) -> Row:
    row = record_row(record)
    return {
        "type": record.type,
        "tenant": record.tenant,
        "target": record.target,
        "time": record.time,
        "who": row["who"],
        "commit": row["commit"],
        "change": row["change"],
        "approvals": len(record.approvals),
    }
