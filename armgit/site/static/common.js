/* Shared by the Directory and the Audit: the view's state in the URL hash, and safe HTML. */
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
  function uniq(rows, pick) {
    var seen = {};
    rows.forEach(function (row) {
      [].concat(pick(row)).forEach(function (v) { if (v) seen[v] = true; });
    });
    return Object.keys(seen).sort();
  }
  return { esc: esc, readHash: readHash, writeHash: writeHash, fillSelect: fillSelect, chip: chip, uniq: uniq };
})();
