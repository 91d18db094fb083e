/* A version's page: version.html#TENANT/TEMPLATE@LABEL, drawn from its template's data script
   (data/versions/TENANT/TEMPLATE.js), loaded with a script element so that file:// works. */
"use strict";
var ARMGIT_VERSIONS = {};
function armgitVersions(key, pages) { ARMGIT_VERSIONS[key] = pages; }
(function () {
  var e = armgit.esc, chip = armgit.chip;
  var box = document.getElementById("version");

  function integrity(value) {
    return '<span class="badge badge-' + e(value.toLowerCase()) + '" data-integrity="' + e(value) + '">' + (value === "VERIFIED" ? "✔ " : "✖ ") + e(value) + "</span>";
  }
  function panel(id, title, body) {
    return '<section class="panel" aria-labelledby="' + id + '"><h2 id="' + id + '">' + title + "</h2>" + body + "</section>";
  }
  function table(head, rows) {
    return "<table><thead><tr>" + head.map(function (h) { return '<th scope="col">' + h + "</th>"; }).join("") +
      "</tr></thead><tbody>" + rows.map(function (r) { return "<tr>" + r.map(function (c) { return "<td>" + c + "</td>"; }).join("") + "</tr>"; }).join("") + "</tbody></table>";
  }
  function dl(pairs) {
    return "<dl>" + pairs.map(function (p) { return "<dt>" + e(p[0]) + "</dt><dd>" + p[1] + "</dd>"; }).join("") + "</dl>";
  }
  function policyCells(p) {
    var limits = (p.dailyTokens != null ? p.dailyTokens + " tokens/day " : "") + (p.monthlyCost != null ? p.monthlyCost + "/month" : "");
    return [String(p.tier), e(p.tools.join(", ")) || "—", e(limits) || "—", e(p.scopes.join(", ")) || "—",
      e(p.source) || "none (nothing allowed)", e(p.ceilings.join(", ")) || "—", '<code title="' + e(p.digest) + '">' + e(p.digest.slice(0, 19)) + "…</code>"];
  }

  function render(v) {
    var g = v.genome || {}, config = g.modelConfig || {}, prov = g.provenance || {}, ev = v.evaluation || {};
    document.title = v.template + "@" + v.label + " · armgit";
    var html = [];
    html.push('<nav class="crumbs" aria-label="Breadcrumb"><a href="index.html#tab=versions">Directory</a> › ' + e(v.tenant) +
      ' › <a href="' + e(v.templateUrl) + '">' + e(v.template) + "</a> › " + e(v.label) + "</nav>");
    html.push("<h1>" + e(v.template + "@" + v.label) + " " + chip(v.state) + " " + integrity(v.integrity) + "</h1>");
    html.push('<p class="lead">' + e(v.description) + "</p>");
    if (v.findings.length) {
      html.push('<section class="panel findings" aria-labelledby="findings-h"><h2 id="findings-h">Findings <span class="count bad">' + v.findings.length + "</span></h2><ul>" +
        v.findings.map(function (f) { return '<li><span class="rule">' + e(f.rule) + "</span> <code>" + e(f.path) + (f.line ? ":" + f.line : "") + "</code> — " + e(f.message) + "</li>"; }).join("") + "</ul></section>");
    }
    html.push('<div class="grid">');
    var evaluation = chip(ev.status || "NOT_RUN") + (ev.suite ? " suite " + e(ev.suite) : "") + (ev.evaluatedAt ? ", " + e(ev.evaluatedAt) : "");
    var facts = [["genomeHash as written", '<code id="hash-written">' + e(v.written) + "</code>"],
      ["recomputed at build", '<code id="hash-actual">' + (e(v.actual) || "cannot be computed (see the findings)") + "</code>"],
      ["verdict", integrity(v.integrity)], ["evaluation", evaluation]];
    if (v.policy) facts.push(["policy attached", '<a href="policies.html#policy-' + e(v.tenant) + "-" + e(v.policy) + '">' + e(v.policy) + "</a>"]);
    html.push(panel("integrity-h", "Integrity", dl(facts)));
    var steps = v.lineage.steps.map(function (s) {
      var here = s.ref === v.ref;
      return "<li" + (here ? ' aria-current="true" class="here"' : "") + '><a href="' + e(s.url) + '">' + e(s.template + "@" + s.label) + "</a> " + chip(s.state) +
        (s.integrity === "TAMPERED" ? " " + integrity("TAMPERED") : "") + "</li>";
    });
    html.push(panel("lineage-h", "Lineage", '<ol class="lineage" id="lineage">' + steps.join("") + "</ol>" +
      (v.lineage.problem ? '<p class="warn">' + e(v.lineage.problem) + "</p>" : "")));
    var runs = v.deployed.length || v.instances.length
      ? "<p>Active deployments: " + (v.deployed.map(function (env) { return '<a class="env" href="deployments.html#env-' + e(v.tenant) + "-" + e(env) + '">' + e(env) + "</a>"; }).join(" ") || "none") + "</p>" +
        "<p>Instances: " + (v.instances.map(function (i) { return '<a href="' + e(i.url) + '">' + e(i.name) + "</a>"; }).join(" ") || "none") + "</p>"
      : '<p class="muted">Not deployed, and no instance runs it.</p>';
    html.push(panel("deployed-h", "Where it runs", runs));
    html.push("</div>");
    var genome = [];
    Object.keys(config).sort().forEach(function (k) { genome.push(["modelConfig." + k, e(config[k])]); });
    genome.push(["promptBundleHash", "<code>" + e(g.promptBundleHash) + "</code>"]);
    if (g.toolManifestHash) genome.push(["toolManifestHash", "<code>" + e(g.toolManifestHash) + "</code>"]);
    Object.keys(prov).sort().forEach(function (k) { genome.push(["provenance." + k, e(prov[k])]); });
    var tools = (g.toolManifest || []).map(function (t) {
      return ["<code>" + e(t.toolId) + "</code>", e(t.schemaVersion), e((t.requiredPermissions || []).join(", ")), '<span class="chip chip-risk-' + e(t.risk) + '">' + e(t.risk) + "</span>"];
    });
    html.push(panel("genome-h", "Genome", dl(genome).replace("<dl>", '<dl class="cols">') +
      (tools.length ? "<h3>Tool manifest</h3>" + table(["Tool", "Schema", "Permissions", "Risk"], tools) : "")));
    if (v.policies.length) {
      html.push(panel("policy-h", "Effective policy where deployed", table(
        ["Environment", "Tier", "Tools", "Cost limits", "Data scopes", "Source", "Ceilings", "Digest"],
        v.policies.map(function (p) { return [e(p.environment)].concat(policyCells(p)); }))));
    }
    html.push(panel("approvals-h", "Approvals", v.approvals.length ? table(
      ["Change", "Decision", "Approver", "Created", "Justification"],
      v.approvals.map(function (a) {
        return [e(a.change + " " + a.from + " → " + a.to), chip(a.decision), e(a.approver) + (a.review ? " (via " + e(a.review) + ")" : ""), e(a.createdAt), e(a.justification)];
      })) : '<p class="muted">No approval names this version.</p>'));
    html.push(panel("history-h", "Change history", v.history.length ? table(
      ["When", "Record", "Change", "Who", "Approvals", "Commit"],
      v.history.map(function (r) {
        return ["<time>" + e(r.time) + "</time>", '<span class="rec">' + e(r.type) + "</span>", e(r.change) + (r.reason ? " <em>(" + e(r.reason) + ")</em>" : ""),
          e(r.who), String(r.approvals.length), "<code>" + e(r.commit) + "</code>"];
      })) : '<p class="muted">No change records (the registry has no git history here).</p>'));
    box.innerHTML = html.join("");
  }

  function missing(ref) {
    document.title = "No such version · armgit";
    box.innerHTML = "<h1>No such version</h1><p>" + e(ref || "(no version named)") + ' is not in this registry at this commit. <a href="index.html">Back to the Directory</a>.</p>';
  }

  function show() {
    var ref = decodeURIComponent(window.location.hash.replace(/^#/, ""));
    var at = ref.lastIndexOf("@");
    var key = at > 0 ? ref.slice(0, at) : "";
    var label = at > 0 ? ref.slice(at + 1) : "";
    var done = function () {
      var pages = ARMGIT_VERSIONS[key];
      if (pages && Object.prototype.hasOwnProperty.call(pages, label)) render(pages[label]); else missing(ref);
      document.body.setAttribute("data-ready", "1");
    };
    document.body.removeAttribute("data-ready");
    if (ARMGIT_VERSIONS[key] || !/^[a-z0-9-]+\/[a-z0-9-]+$/.test(key)) { done(); return; }
    var script = document.createElement("script");
    script.src = "data/versions/" + key + ".js";
    script.onload = done;
    script.onerror = function () { missing(ref); document.body.setAttribute("data-ready", "1"); };
    document.head.appendChild(script);
  }
  window.addEventListener("hashchange", show);
  show();
})();
