/* The Deployments page: deployments.html, drawn from data/deployments.js. One panel per tenant
   and environment (deployments.html#env-TENANT-ENV): its gate, and each template's deployment
   with its timeline of activations and rollbacks, newest first. */
"use strict";
(function () {
  var a = armgit, e = a.esc;

  function plural(count, word) { return count + " " + word + (count !== 1 ? "s" : ""); }
  /* an approval's id as the timeline shows it: whole up to 21 characters, else its first 15 and "…" */
  function short(id) { return id.length <= 21 ? id : id.slice(0, 15) + "…"; }
  function gate(s) {
    return s ? ' <span class="muted small">' + e(s.type) + (s.protected ? " · protected, " + e(plural(s.requiredApprovals, "approval")) : "") + " · from " + e(s.minLifecycle) + "</span>" : "";
  }
  function step(r) {
    return "<li><time>" + e(r.time) + '</time> <span class="rec">' + e(r.type.replace("DEPLOYMENT_", "").replace(/_/g, " ")) + "</span> " +
      e(r.change) + " by " + e(r.who) +
      (r.approvals.length ? " with " + plural(r.approvals.length, "approval") + " (<code>" + e(r.approvals.map(short).join(", ")) + "</code>)" : "") +
      (r.reason ? " — " + e(r.reason) : "") + ' <code class="muted">' + e(r.commit) + "</code></li>";
  }
  function deployment(d) {
    var facts = ["previous " + e(d.previous || "—"), e(d.strategy)];
    if (d.requestedBy) facts.push("requested by " + e(d.requestedBy));
    if (d.activeSince) facts.push("since " + e(d.activeSince));
    if (d.rollbackOf) facts.push("rollback of " + e(d.rollbackOf));
    if (d.reason) facts.push("reason: " + e(d.reason));
    return '<article class="deployment"><h3>' + a.link(d.templateUrl, d.template) + " → " + a.link(d.url, d.version) + " " + a.chip(d.status) + "</h3>" +
      '<p class="muted">' + facts.join(" · ") + "</p>" + a.findings(d.findings) +
      (d.timeline.length ? '<ol class="timeline">' + d.timeline.map(step).join("") + "</ol>" : "") + "</article>";
  }
  a.drawn(window.ARMGIT_DEPLOYMENTS.map(function (g) {
    var key = g.tenant + "-" + g.environment;
    return a.panel("h-" + key, e(g.tenant) + " / " + e(g.environment) + gate(g.settings),
      g.deployments.map(deployment).join("") || '<p class="muted">Nothing deployed here.</p>', "env-" + key);
  }).join(""));
})();
