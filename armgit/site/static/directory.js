/* The Directory: tabs, filters, search and sort over data/directory.js, state in the URL hash. */
"use strict";
(function () {
  var DATA = window.ARMGIT_DIRECTORY;
  var LIMIT = 500;
  var DEFAULTS = { tab: "versions", q: "", tenant: "", state: "", env: "", tag: "", sort: "semver", dir: "desc", latest: "1" };
  var TABS = ["templates", "versions", "instances"];
  var fields = {
    q: document.getElementById("f-q"), tenant: document.getElementById("f-tenant"),
    state: document.getElementById("f-state"), env: document.getElementById("f-env"),
    tag: document.getElementById("f-tag"), sort: document.getElementById("f-sort"),
    dir: document.getElementById("f-dir")
  };
  var latestBox = document.getElementById("f-latest");
  var results = document.getElementById("results");
  var summary = document.getElementById("summary");
  var state = {};

  TABS.forEach(function (tab) {
    DATA[tab].forEach(function (row) {
      row._text = [row.ref, row.name, row.label || "", row.title || "", row.description || ""].join(" ").toLowerCase();
      row._hash = (row.hash || "").toLowerCase();
    });
  });
  var all = DATA.templates.concat(DATA.versions, DATA.instances);
  armgit.fillSelect(fields.tenant, armgit.uniq(all, function (r) { return r.tenant; }));
  armgit.fillSelect(fields.env, armgit.uniq(all, function (r) { return r.envs; }));
  armgit.fillSelect(fields.tag, armgit.uniq(all, function (r) { return r.tags; }));

  function fillStates(tab) {
    var select = fields.state;
    while (select.options.length > 1) select.remove(1);
    armgit.fillSelect(select, armgit.uniq(DATA[tab], function (r) { return r.state; }));
  }

  function load() {
    var hash = armgit.readHash();
    state = {};
    Object.keys(DEFAULTS).forEach(function (key) { state[key] = hash[key] != null ? hash[key] : DEFAULTS[key]; });
    if (TABS.indexOf(state.tab) < 0) state.tab = DEFAULTS.tab;
    fillStates(state.tab);
    Object.keys(fields).forEach(function (key) { fields[key].value = state[key]; });
    latestBox.checked = state.latest === "1";
  }

  function matches(row, q) {
    if (!q) return true;
    var needle = q.toLowerCase();
    var hex = needle.replace(/^sha256:/, "");
    if (/^[0-9a-f]{4,64}$/.test(hex) && row._hash.indexOf("sha256:" + hex) === 0) return true;
    return row._text.indexOf(needle) >= 0;
  }

  function compare(a, b) {
    var key = state.sort, x, y;
    if (key === "semver") { x = a.rank; y = b.rank; }
    else if (key === "created" || key === "updated") { x = a[key] || ""; y = b[key] || ""; }
    else { x = a.ref; y = b.ref; }
    if (Array.isArray(x)) { x = x.join("."); y = y.join("."); }
    var order = x < y ? -1 : x > y ? 1 : 0;
    if (order === 0) order = a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0;
    return state.dir === "asc" ? order : -order;
  }

  function filtered() {
    var rows = DATA[state.tab];
    var out = [];
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      if (state.tenant && r.tenant !== state.tenant) continue;
      if (state.state && r.state !== state.state) continue;
      if (state.env && r.envs.indexOf(state.env) < 0) continue;
      if (state.tag && r.tags.indexOf(state.tag) < 0) continue;
      if (state.tab === "versions" && state.latest === "1" && !r.latest) continue;
      if (!matches(r, state.q)) continue;
      out.push(r);
    }
    return out.sort(compare);
  }

  function integrity(value) {
    return '<span class="badge badge-' + value.toLowerCase() + '" data-integrity="' + value + '">' + (value === "VERIFIED" ? "✔ " : "✖ ") + value + "</span>";
  }
  function tags(list) {
    return list.map(function (t) { return '<span class="tag">' + armgit.esc(t) + "</span>"; }).join(" ");
  }
  function link(row, text) { return '<a href="' + armgit.esc(row.url) + '">' + armgit.esc(text) + "</a>"; }

  var COLUMNS = {
    templates: [["Template", function (r) { return link(r, r.title) + '<br><span class="muted small">' + armgit.esc(r.ref) + "</span>"; }],
      ["Latest", function (r) { return armgit.esc(r.latestLabel) + " " + armgit.chip(r.state); }],
      ["Versions", function (r) { return String(r.versions); }],
      ["Deployed", function (r) { return armgit.esc(r.envs.join(", ")) || "—"; }],
      ["Tags", function (r) { return tags(r.tags); }],
      ["Owners", function (r) { return armgit.esc(r.owners.join(", ")); }],
      ["Updated", function (r) { return armgit.esc(r.updated); }]],
    versions: [["Version", function (r) { return link(r, r.name) + '<br><span class="muted small">' + armgit.esc(r.tenant) + "</span>"; }],
      ["Lifecycle", function (r) { return armgit.chip(r.state); }],
      ["Evaluation", function (r) { return armgit.chip(r.evaluation); }],
      ["Integrity", function (r) { return integrity(r.integrity); }],
      ["Model", function (r) { return armgit.esc(r.model); }],
      ["Genome hash", function (r) { return '<code title="' + armgit.esc(r.hash) + '">' + armgit.esc(r.hash.slice(0, 19)) + "…</code>"; }],
      ["Deployed", function (r) { return armgit.esc(r.envs.join(", ")) || "—"; }],
      ["Created", function (r) { return armgit.esc(r.created); }],
      ["Updated", function (r) { return armgit.esc(r.updated); }]],
    instances: [["Instance", function (r) { return link(r, r.name) + '<br><span class="muted small">' + armgit.esc(r.tenant) + "</span>"; }],
      ["State", function (r) { return armgit.chip(r.state); }],
      ["Version", function (r) { return '<a href="' + armgit.esc(r.versionUrl) + '">' + armgit.esc(r.version) + "</a>"; }],
      ["Environment", function (r) { return armgit.esc(r.envs.join(", ")); }],
      ["Provider", function (r) { return armgit.esc(r.provider); }],
      ["Updated", function (r) { return armgit.esc(r.updated); }]]
  };

  function render() {
    var rows = filtered();
    var cols = COLUMNS[state.tab];
    var html = ['<table id="directory-table"><caption class="sr">' + state.tab + '</caption><thead><tr>'];
    cols.forEach(function (c) { html.push('<th scope="col">' + c[0] + "</th>"); });
    html.push("</tr></thead><tbody>");
    var shown = Math.min(rows.length, LIMIT);
    for (var i = 0; i < shown; i++) {
      html.push('<tr data-ref="' + armgit.esc(rows[i].ref) + '">');
      for (var j = 0; j < cols.length; j++) html.push("<td>" + cols[j][1](rows[i]) + "</td>");
      html.push("</tr>");
    }
    html.push("</tbody></table>");
    results.innerHTML = rows.length ? html.join("") : '<p class="muted">Nothing matches: clear a filter.</p>';
    var total = DATA[state.tab].length;
    summary.textContent = rows.length + " of " + total + " " + state.tab +
      (rows.length > shown ? " (showing the first " + shown + "; narrow the filters to see the rest)" : "") +
      (state.tab === "versions" && state.latest === "1" ? " · latest version of each template only" : "");
    TABS.forEach(function (tab) {
      var button = document.getElementById("tab-" + tab);
      var on = tab === state.tab;
      button.setAttribute("aria-selected", on ? "true" : "false");
      button.tabIndex = on ? 0 : -1;
    });
    results.setAttribute("aria-labelledby", "tab-" + state.tab);
    latestBox.disabled = state.tab !== "versions";
    document.body.setAttribute("data-ready", "1");
  }

  function update() {
    Object.keys(fields).forEach(function (key) { state[key] = fields[key].value; });
    state.latest = latestBox.checked ? "1" : "0";
    armgit.writeHash(state, DEFAULTS);
    render();
  }

  function selectTab(tab) {
    state.tab = tab;
    state.state = "";
    fillStates(tab);
    fields.state.value = "";
    update();
  }

  Object.keys(fields).forEach(function (key) {
    fields[key].addEventListener(key === "q" ? "input" : "change", update);
  });
  latestBox.addEventListener("change", update);
  TABS.forEach(function (tab, index) {
    var button = document.getElementById("tab-" + tab);
    button.addEventListener("click", function () { selectTab(tab); });
    button.addEventListener("keydown", function (event) {
      var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
      if (!step) return;
      var next = TABS[(index + step + TABS.length) % TABS.length];
      selectTab(next);
      document.getElementById("tab-" + next).focus();
    });
  });
  window.addEventListener("hashchange", function () { load(); render(); });
  load();
  render();
})();
