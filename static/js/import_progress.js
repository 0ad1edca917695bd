// Live progress of a spend import: polls the progress JSON every second, updates the bar and
// the figures, and reloads the page once the import's status changes (a queued import starts running)
// or it has finished (the page then shows the result).
// Without JavaScript the page refreshes itself instead (a <noscript> meta refresh).
(function () {
  "use strict";
  var first = document.querySelector("[data-progress-url]");
  if (!first) return;
  var url = first.getAttribute("data-progress-url");
  var shown = first.getAttribute("data-status");
  var POLL_MS = 1000;

  // Looked up at each use: the live page (live.js) may have swapped the section for a fresh copy.
  function box() { return document.querySelector("[data-progress-url]") || first; }

  function figure(name) { return box().querySelector('[data-figure="' + name + '"]'); }

  function set(name, text) {
    var el = figure(name);
    if (el && el.textContent !== text) el.textContent = text;
  }

  function grouped(n) { return Math.round(n).toLocaleString("en-US"); }

  function duration(s) {
    if (s === null || s === undefined) return "—";
    if (s < 60) return Math.ceil(s) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + Math.floor(s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }

  function render(p) {
    var bar = box().querySelector("progress");
    if (p.status === "running" && bar) {
      bar.max = 100;
      bar.value = p.percent;
      bar.textContent = p.percent + "%";
    }
    set("rows_read", grouped(p.rows_read || 0));
    set("rows_per_s", p.rows_per_s === null || p.rows_per_s === undefined ? "—" : grouped(p.rows_per_s));
    set("eta", duration(p.eta_s));
    set("percent", String(Math.floor(p.percent)));
    if (p.status === "running") {
      set("state", p.saving ? "Every row is read; saving them…" : "Reading and saving rows…");
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (p) {
        render(p);
        if (p.finished || (shown && p.status !== shown)) {
          window.location.reload();
        } else {
          window.setTimeout(poll, POLL_MS);
        }
      })
      .catch(function () {
        // A network blip or a restarting server: keep trying, a little slower.
        window.setTimeout(poll, POLL_MS * 3);
      });
  }

  window.setTimeout(poll, POLL_MS);
})();
