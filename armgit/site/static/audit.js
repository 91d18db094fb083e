/* The Audit: filters over data/audit.js, state in the URL hash. */
"use strict";
(function () {
  var DATA = window.ARMGIT_AUDIT;
  var LIMIT = 500;
  var DEFAULTS = { q: "", tenant: "", type: "", since: "", until: "" };
  var fields = {
    q: document.getElementById("a-q"), tenant: document.getElementById("a-tenant"),
    type: document.getElementById("a-type"), since: document.getElementById("a-since"),
    until: document.getElementById("a-until")
  };
  var results = document.getElementById("audit-results");
  var summary = document.getElementById("audit-summary");
  var state = {};
  armgit.fillSelect(fields.tenant, armgit.uniq(DATA, function (r) { return r.tenant; }));
  armgit.fillSelect(fields.type, armgit.uniq(DATA, function (r) { return r.type; }));

  function load() {
    var hash = armgit.readHash();
    Object.keys(DEFAULTS).forEach(function (key) {
      state[key] = hash[key] != null ? hash[key] : DEFAULTS[key];
      fields[key].value = state[key];
    });
  }
  function render() {
    var q = state.q.toLowerCase();
    var until = state.until ? state.until + "T23:59:59Z" : "";
    var rows = [];
    for (var i = DATA.length - 1; i >= 0; i--) {
      var r = DATA[i];
      if (state.tenant && r.tenant !== state.tenant) continue;
      if (state.type && r.type !== state.type) continue;
      if (state.since && r.time < state.since) continue;
      if (until && r.time > until) continue;
      if (q && (r.target + " " + r.who + " " + r.commit + " " + r.change).toLowerCase().indexOf(q) < 0) continue;
      rows.push(r);
    }
    var shown = Math.min(rows.length, LIMIT);
    var html = ['<table id="audit-table"><caption class="sr">Change records, newest first</caption><thead><tr><th scope="col">When</th><th scope="col">Record</th><th scope="col">Target</th><th scope="col">Change</th><th scope="col">Who</th><th scope="col">Approvals</th><th scope="col">Commit</th></tr></thead><tbody>'];
    for (var j = 0; j < shown; j++) {
      var x = rows[j];
      html.push("<tr><td><time>" + armgit.esc(x.time) + "</time>" + '</td><td><span class="rec">' + armgit.esc(x.type) + "</span></td><td>" + armgit.esc(x.target) + "</td><td>" + armgit.esc(x.change) + "</td><td>" + armgit.esc(x.who) + "</td><td>" + x.approvals + "</td><td><code>" + armgit.esc(x.commit) + "</code></td></tr>");
    }
    html.push("</tbody></table>");
    results.innerHTML = rows.length ? html.join("") : '<p class="muted">No record matches.</p>';
    summary.textContent = rows.length + " of " + DATA.length + " records" + (rows.length > shown ? " (showing the newest " + shown + ")" : "");
    document.body.setAttribute("data-ready", "1");
  }
  function update() {
    Object.keys(fields).forEach(function (key) { state[key] = fields[key].value; });
    armgit.writeHash(state, DEFAULTS);
    render();
  }
  Object.keys(fields).forEach(function (key) {
    fields[key].addEventListener(key === "q" ? "input" : "change", update);
  });
  window.addEventListener("hashchange", function () { load(); render(); });
  load();
  render();
})();
