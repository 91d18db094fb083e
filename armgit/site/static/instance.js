/* An instance's page: instance.html#TENANT/NAME, drawn from its tenant's data script
   (data/instances/TENANT.js, every instance of the tenant). */
"use strict";
(function () {
  var a = armgit, e = a.esc;

  function draw(i) {
    document.title = i.name + " · armgit";
    var html = [];
    html.push('<nav class="crumbs" aria-label="Breadcrumb"><a href="index.html#tab=instances">Directory</a> › ' + e(i.tenant) + " › instances › " + e(i.name) + "</nav>");
    html.push("<h1>" + e(i.name) + " " + a.chip(i.state) + "</h1>");
    html.push('<p class="lead">' + e(i.description) + "</p>");
    html.push(a.findings(i.findings));
    var facts = [
      ["version", a.link(i.versionUrl, i.version)],
      ["environment", a.envLink(i.tenant, i.environment)],
      ["provider", e(i.provider)],
      ["identity", e(i.identity) || "—"],
      ["secret reference", "<code>" + (e(i.secretRef) || "—") + "</code>"],
      ["policy attached", i.policy ? a.policyLink(i.tenant, i.policy) : "—"]];
    if (i.legacyAgentId) facts.push(["legacy agent id", "<code>" + e(i.legacyAgentId) + "</code>"]);
    html.push(a.panel("about-h", "Instance", a.dl(facts)));
    if (i.effective) {
      html.push(a.panel("policy-h", "Effective policy", a.table(a.POLICY_HEAD, [a.policyCells(i.effective)])));
    }
    html.push(a.changes(i.history));
    return html.join("");
  }

  a.route("instance", function (ref) {
    var at = a.split(ref, "/");
    return at && { store: "instances", key: at[0], pick: function (pages) { return a.own(pages, at[1]); } };
  }, draw);
})();
