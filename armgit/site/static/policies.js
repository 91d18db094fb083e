/* The Policies page: policies.html, drawn from data/policies.js (effective policies, the policy
   envelopes, where policies attach). Each envelope's row is policies.html#policy-TENANT-NAME. */
"use strict";
(function () {
  var a = armgit, e = a.esc, P = window.ARMGIT_POLICIES;

  function risks(risk) {
    var tools = Object.keys(risk);
    return tools.map(function (tool) {
      return e(tool) + ': <span class="chip chip-risk-' + e(risk[tool]) + '">' + e(risk[tool]) + "</span>";
    }).join(" ") || "—";
  }
  var html = [];
  html.push(a.panel("eff-d", "Effective policy per deployment", a.table(
    ["Tenant / env", "Template", "Version"].concat(a.POLICY_HEAD),
    P.deployments.map(function (p) {
      return [e(p.tenant) + " / " + e(p.environment), e(p.template), a.link(p.url, p.version) + " " + a.chip(p.status)].concat(a.policyCells(p));
    }))));
  html.push(a.panel("eff-i", "Effective policy per instance", a.table(
    ["Instance", "Env", "Version"].concat(a.POLICY_HEAD),
    P.instances.map(function (p) {
      return [a.link(p.url, p.tenant + "/" + p.name) + " " + a.chip(p.state), e(p.environment), e(p.version)].concat(a.policyCells(p));
    }))));
  html.push(a.panel("files", "Policy envelopes", a.table(
    ["Policy", "Kind", "Tier", "Tools", "Risk overrides", "Cost limits", "Data scopes"],
    P.policies.map(function (q) {
      return [e(q.tenant) + "/" + e(q.name) + '<br><span class="muted small">' + e(q.description) + "</span>",
        q.ceiling ? a.chip("ceiling") : "attachable", e(q.tier), a.list(q.tools), risks(q.risk), a.limits(q), a.list(q.scopes)];
    }), "", P.policies.map(function (q) { return "policy-" + q.tenant + "-" + q.name; }))));
  var attach = P.tenants.map(function (t) {
    return [e(t.tenant) + " (tenant)", "—", "—", e(t.policy) || "—"];
  }).concat(P.environments.map(function (v) {
    return [e(v.tenant) + " / " + e(v.name), e(v.type), v.protected ? "yes, " + e(v.requiredApprovals) + " approvals" : "no", e(v.policy) || "—"];
  }));
  html.push(a.panel("attach", "Where policies attach", a.table(["Tenant / environment", "Type", "Protected", "Policy"], attach)));
  a.drawn(html.join(""));
})();
