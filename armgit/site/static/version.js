/* A version's page: version.html#TENANT/TEMPLATE@LABEL, drawn from its template's data script
   (data/templates/TENANT/TEMPLATE.js), loaded with a script element so that file:// works. */
"use strict";
(function () {
  var a = armgit, e = a.esc, chip = a.chip;

  function draw(v) {
    var g = v.genome || {}, config = g.modelConfig || {}, prov = g.provenance || {}, ev = v.evaluation || {};
    document.title = v.template + "@" + v.label + " · armgit";
    var html = [];
    html.push('<nav class="crumbs" aria-label="Breadcrumb"><a href="index.html#tab=versions">Directory</a> › ' + e(v.tenant) +
      " › " + a.link(v.templateUrl, v.template) + " › " + e(v.label) + "</nav>");
    html.push("<h1>" + e(v.template + "@" + v.label) + " " + chip(v.state) + " " + a.integrity(v.integrity) + "</h1>");
    html.push('<p class="lead">' + e(v.description) + "</p>");
    html.push(a.findings(v.findings));
    html.push('<div class="grid">');
    var evaluation = chip(ev.status || "NOT_RUN") + (ev.suite ? " suite " + e(ev.suite) : "") + (ev.evaluatedAt ? ", " + e(ev.evaluatedAt) : "");
    var facts = [["genomeHash as written", '<code id="hash-written">' + e(v.written) + "</code>"],
      ["recomputed at build", '<code id="hash-actual">' + (e(v.actual) || "cannot be computed (see the findings)") + "</code>"],
      ["verdict", a.integrity(v.integrity)], ["evaluation", evaluation]];
    if (v.policy) facts.push(["policy attached", a.policyLink(v.tenant, v.policy)]);
    html.push(a.panel("integrity-h", "Integrity", a.dl(facts)));
    var steps = v.lineage.steps.map(function (s) {
      var here = s.ref === v.ref;
      return "<li" + (here ? ' aria-current="true" class="here"' : "") + ">" + a.link(s.url, s.template + "@" + s.label) + " " + chip(s.state) +
        (s.integrity === "TAMPERED" ? " " + a.integrity("TAMPERED") : "") + "</li>";
    });
    html.push(a.panel("lineage-h", "Lineage", '<ol class="lineage" id="lineage">' + steps.join("") + "</ol>" +
      (v.lineage.problem ? '<p class="warn">' + e(v.lineage.problem) + "</p>" : "")));
    var runs = v.deployed.length || v.instances.length
      ? "<p>Active deployments: " + (v.deployed.map(function (env) { return a.envLink(v.tenant, env); }).join(" ") || "none") + "</p>" +
        "<p>Instances: " + (v.instances.map(function (i) { return a.link(i.url, i.name); }).join(" ") || "none") + "</p>"
      : '<p class="muted">Not deployed, and no instance runs it.</p>';
    html.push(a.panel("deployed-h", "Where it runs", runs));
    html.push("</div>");
    var genome = [];
    Object.keys(config).sort().forEach(function (k) { genome.push(["modelConfig." + k, e(config[k])]); });
    genome.push(["promptBundleHash", "<code>" + e(g.promptBundleHash) + "</code>"]);
    if (g.toolManifestHash) genome.push(["toolManifestHash", "<code>" + e(g.toolManifestHash) + "</code>"]);
    Object.keys(prov).sort().forEach(function (k) { genome.push(["provenance." + k, e(prov[k])]); });
    var tools = (g.toolManifest || []).map(function (t) {
      return ["<code>" + e(t.toolId) + "</code>", e(t.schemaVersion), e((t.requiredPermissions || []).join(", ")), '<span class="chip chip-risk-' + e(t.risk) + '">' + e(t.risk) + "</span>"];
    });
    html.push(a.panel("genome-h", "Genome", a.dl(genome).replace("<dl>", '<dl class="cols">') +
      (tools.length ? "<h3>Tool manifest</h3>" + a.table(["Tool", "Schema", "Permissions", "Risk"], tools) : "")));
    if (v.policies.length) {
      html.push(a.panel("policy-h", "Effective policy where deployed", a.table(
        ["Environment"].concat(a.POLICY_HEAD),
        v.policies.map(function (p) { return [e(p.environment)].concat(a.policyCells(p)); }))));
    }
    html.push(a.panel("approvals-h", "Approvals", v.approvals.length ? a.table(
      ["Change", "Decision", "Approver", "Created", "Justification"],
      v.approvals.map(function (x) {
        return [e(x.change + " " + x.from + " → " + x.to), chip(x.decision), e(x.approver) + (x.review ? " (via " + e(x.review) + ")" : ""), e(x.createdAt), e(x.justification)];
      })) : '<p class="muted">No approval names this version.</p>'));
    html.push(a.changes(v.history));
    return html.join("");
  }

  a.route("version", function (ref) {
    var at = a.split(ref, "@");
    return at && { store: "templates", key: at[0], pick: function (t) { return t && a.own(t.versions, at[1]); } };
  }, draw);
})();
