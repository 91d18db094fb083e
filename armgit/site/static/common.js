/* Shared by every page's script: the view's state in the URL hash, safe HTML, the drawing
   helpers of the entity pages, and the route that draws an entity page (version.html,
   template.html, instance.html) from the data script the address names. */
"use strict";
var armgit = (function () {
  function esc(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function readHash() {
    var state = {};
    var hash = window.location.hash.replace(/^#/, "");
    if (!hash) return state;
    hash.split("&").forEach(function (part) {
      var i = part.indexOf("=");
      if (i > 0) state[decodeURIComponent(part.slice(0, i))] = decodeURIComponent(part.slice(i + 1));
    });
    return state;
  }
  function writeHash(state, defaults) {
    var parts = [];
    Object.keys(state).sort().forEach(function (key) {
      if (state[key] !== "" && state[key] !== defaults[key]) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(state[key]));
      }
    });
    var hash = parts.length ? "#" + parts.join("&") : "";
    if (hash !== window.location.hash && !(hash === "" && window.location.hash === "#")) {
      history.replaceState(null, "", window.location.pathname + window.location.search + hash);
    }
  }
  function fillSelect(select, values) {
    values.forEach(function (value) {
      var option = document.createElement("option");
      option.value = value;
      option.textContent = value;
      select.appendChild(option);
    });
  }
  function chip(state) {
    return state ? '<span class="chip chip-' + esc(state.toLowerCase().replace(/_/g, "-")) + '">' + esc(state) + "</span>" : "";
  }
  function integrity(value) {
    return '<span class="badge badge-' + esc(value.toLowerCase()) + '" data-integrity="' + esc(value) + '">' + (value === "VERIFIED" ? "✔ " : "✖ ") + esc(value) + "</span>";
  }
  /* title: HTML already escaped; anchor: the section's own id, for links to it (optional) */
  function panel(id, title, body, anchor) {
    return '<section class="panel"' + (anchor ? ' id="' + esc(anchor) + '"' : "") + ' aria-labelledby="' + esc(id) + '"><h2 id="' + esc(id) + '">' + title + "</h2>" + body + "</section>";
  }
  /* head: trusted HTML (the page's own words); rows: cells already escaped; ids: each row's
     id, for links to it (optional) */
  function table(head, rows, caption, ids) {
    return "<table>" + (caption ? '<caption class="sr">' + caption + "</caption>" : "") + "<thead><tr>" +
      head.map(function (h) { return '<th scope="col">' + h + "</th>"; }).join("") + "</tr></thead><tbody>" +
      rows.map(function (r, i) {
        return "<tr" + (ids ? ' id="' + esc(ids[i]) + '"' : "") + ">" + r.map(function (c) { return "<td>" + c + "</td>"; }).join("") + "</tr>";
      }).join("") + "</tbody></table>";
  }
  /* A page drawn from its data script: show it, bring the element the address's fragment
     names into view (the browser did so before it was drawn), and say it is ready. */
  function drawn(html) {
    document.getElementById("page").innerHTML = html;
    var id = "";
    try { id = decodeURIComponent(window.location.hash.replace(/^#/, "")); } catch (err) { id = ""; }
    var target = id ? document.getElementById(id) : null;
    if (target) target.scrollIntoView();
    document.body.setAttribute("data-ready", "1");
  }
  function dl(pairs) {
    return "<dl>" + pairs.map(function (p) { return "<dt>" + esc(p[0]) + "</dt><dd>" + p[1] + "</dd>"; }).join("") + "</dl>";
  }
  function link(url, text) { return '<a href="' + esc(url) + '">' + esc(text) + "</a>"; }
  function envLink(tenant, env) {
    return '<a class="env" href="deployments.html#env-' + esc(tenant) + "-" + esc(env) + '">' + esc(env) + "</a>";
  }
  function policyLink(tenant, name) { return link("policies.html#policy-" + tenant + "-" + name, name); }
  function list(values) { return esc(values.join(", ")) || "—"; }
  function limits(p) {
    return esc((p.dailyTokens != null ? p.dailyTokens + " tokens/day " : "") + (p.monthlyCost != null ? p.monthlyCost + "/month" : "")) || "—";
  }
  var POLICY_HEAD = ["Tier", "Tools", "Cost limits", "Data scopes", "Source", "Ceilings", "Digest"];
  function policyCells(p) {
    return [esc(p.tier), list(p.tools), limits(p), list(p.scopes),
      esc(p.source) || "none (nothing allowed)", list(p.ceilings), '<code title="' + esc(p.digest) + '">' + esc(p.digest.slice(0, 19)) + "…</code>"];
  }
  function findings(rows) {
    return rows.length ? '<section class="panel findings" aria-labelledby="findings-h"><h2 id="findings-h">Findings <span class="count bad">' + rows.length + "</span></h2><ul>" +
      rows.map(function (f) { return '<li><span class="rule">' + esc(f.rule) + "</span> <code>" + esc(f.path) + (f.line ? ":" + f.line : "") + "</code> — " + esc(f.message) + "</li>"; }).join("") + "</ul></section>" : "";
  }
  function changes(rows) {
    return panel("history-h", "Change history", rows.length ? table(
      ["When", "Record", "Change", "Who", "Approvals", "Commit"],
      rows.map(function (r) {
        return ["<time>" + esc(r.time) + "</time>", '<span class="rec">' + esc(r.type) + "</span>", esc(r.change) + (r.reason ? " <em>(" + esc(r.reason) + ")</em>" : ""),
          esc(r.who), String(r.approvals.length), "<code>" + esc(r.commit) + "</code>"];
      }), "Change records, newest first") : '<p class="muted">No change records (the registry has no git history here).</p>');
  }
  function own(rows, key) { return rows && Object.prototype.hasOwnProperty.call(rows, key) ? rows[key] : null; }

  /* The data scripts call these: a template's page and its versions' pages; a tenant's instances. */
  var data = { templates: {}, instances: {} };
  window.armgitTemplate = function (key, page, versions) { data.templates[key] = { page: page, versions: versions }; };
  window.armgitInstances = function (tenant, pages) { data.instances[tenant] = pages; };
  var SCRIPTS = { templates: "data/templates/", instances: "data/instances/" };
  var KEY = /^[a-z0-9-]+(\/[a-z0-9-]+)?$/;
  var loaded = {};
  var turn = 0;

  /* Draw the page of the entity the address names: locate(ref) gives {store, key, pick} or
     null (store: "templates" or "instances"; key: T/TEMPLATE or T, the data script's name;
     pick(entry): the page in the script's entry, or null), draw(page) the page's HTML. A key
     is looked up in the keys the site wrote (data-keys): no script is loaded from a path the
     address makes up. */
  function route(what, locate, draw) {
    var box = document.getElementById("page");
    var keys = {};
    box.getAttribute("data-keys").split(" ").forEach(function (k) { if (k) keys[k] = true; });
    function missing(ref) {
      document.title = "No such " + what + " · armgit";
      box.innerHTML = "<h1>No such " + what + "</h1><p>" + esc(ref || "(no " + what + " named)") + ' is not in this registry at this commit. <a href="index.html">Back to the Directory</a>.</p>';
    }
    function show() {
      var ref = "";
      try { ref = decodeURIComponent(window.location.hash.replace(/^#/, "")); } catch (err) { ref = window.location.hash; }
      var at = locate(ref);
      var known = at !== null && KEY.test(at.key) && keys[at.key] === true;
      var mine = ++turn;
      var done = function () {
        if (mine !== turn) return;  // the address changed while the script loaded
        var found = known ? at.pick(own(data[at.store], at.key)) : null;
        if (found) { box.innerHTML = draw(found); } else { missing(ref); }
        document.body.setAttribute("data-ready", "1");
      };
      document.body.removeAttribute("data-ready");
      var src = known ? SCRIPTS[at.store] + at.key + ".js" : "";
      if (!known || loaded[src]) { done(); return; }
      var script = document.createElement("script");
      script.src = src;
      script.onload = function () { loaded[src] = true; done(); };
      script.onerror = done;
      document.head.appendChild(script);
    }
    window.addEventListener("hashchange", show);
    show();
  }
  /* "T/TEMPLATE@LABEL" split at "@" gives ["T/TEMPLATE", "LABEL"]; null without sep */
  function split(ref, sep) {
    var at = ref.lastIndexOf(sep);
    return at > 0 ? [ref.slice(0, at), ref.slice(at + 1)] : null;
  }
  function uniq(rows, pick) {
    var seen = {};
    rows.forEach(function (row) {
      [].concat(pick(row)).forEach(function (v) { if (v) seen[v] = true; });
    });
    return Object.keys(seen).sort();
  }
  return {
    esc: esc, readHash: readHash, writeHash: writeHash, fillSelect: fillSelect, chip: chip, uniq: uniq,
    integrity: integrity, panel: panel, table: table, drawn: drawn, dl: dl, link: link, envLink: envLink, policyLink: policyLink,
    POLICY_HEAD: POLICY_HEAD, policyCells: policyCells, list: list, limits: limits, findings: findings, changes: changes, route: route, split: split, own: own
  };
})();
