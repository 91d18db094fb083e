/* A template's page: template.html#TENANT/TEMPLATE, drawn from its data script
   (data/templates/TENANT/TEMPLATE.js, which also holds its versions' pages). */
"use strict";
(function () {
  var a = armgit, e = a.esc, chip = a.chip;

  function draw(t) {
    document.title = t.title + " · armgit";
    var html = [];
    html.push('<nav class="crumbs" aria-label="Breadcrumb"><a href="index.html#tab=templates">Directory</a> › ' + e(t.tenant) + " › " + e(t.name) + "</nav>");
    html.push("<h1>" + e(t.title) + " " + chip(t.state) + ' <span class="muted small">' + e(t.ref) + "</span></h1>");
    html.push('<p class="lead">' + (t.loaded ? e(t.description) : 'Its <code>template.yaml</code> is missing or did not load: see <a href="findings.html">the findings</a>.') + "</p>");
    html.push(a.findings(t.findings));
    html.push('<div class="grid">');
    html.push(a.panel("about-h", "About", a.dl([
      ["owners", e(t.owners.join(", ")) || "—"],
      ["tags", t.tags.map(function (tag) { return '<span class="tag">' + e(tag) + "</span>"; }).join(" ") || "—"],
      ["default policy", t.policy ? a.policyLink(t.tenant, t.policy) : "—"]])));
    html.push(a.panel("deps-h", "Deployments", t.deployments.length ? "<ul>" + t.deployments.map(function (d) {
      return "<li>" + a.envLink(t.tenant, d.environment) + ": " + a.link(d.url, d.version) + " " + chip(d.status) + "</li>";
    }).join("") + "</ul>" : '<p class="muted">Not deployed.</p>'));
    html.push("</div>");
    html.push(a.panel("versions-h", "Versions", t.versions.length ? a.table(
      ["Label", "Lifecycle", "Integrity", "Model", "Deployed", "Created"],
      t.versions.map(function (r) {
        return [a.link(r.url, r.label), chip(r.state), a.integrity(r.integrity), e(r.model), e(r.envs.join(", ")) || "—", e(r.created)];
      })) : '<p class="muted">No version yet.</p>'));
    html.push(a.changes(t.history));
    return html.join("");
  }

  a.route("template", function (ref) {
    return { store: "templates", key: ref, pick: function (t) { return t && t.page; } };
  }, draw);
})();
