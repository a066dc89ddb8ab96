// Monitoring pages: draw the Plotly figures the server built (JSON data blocks), then keep them
// live in place. A refresh fetches JSON and calls Plotly.react on the charts already drawn, so
// axis titles, legends, toolbars and the user's zoom survive any number of refreshes; only the
// summary above the charts and the open alerts are re-rendered (server HTML, escaped there).
(function () {
  "use strict";

  var CONFIG = { responsive: true, displaylogo: false };
  var STORAGE_KEY = "modelgate.refreshSeconds";

  function draw(id, figure) {
    var target = document.getElementById(id);
    if (!target || !window.Plotly) { return; }
    window.Plotly.react(target, figure.data, figure.layout, CONFIG);
  }

  function drawBlocks(root) {
    root.querySelectorAll("script[data-figure]").forEach(function (block) {
      draw(block.dataset.figure, JSON.parse(block.textContent));
    });
  }

  function remembered() {
    try { return window.localStorage.getItem(STORAGE_KEY); } catch (e) { return null; }
  }

  function remember(value) {
    try { window.localStorage.setItem(STORAGE_KEY, value); } catch (e) { /* private mode */ }
  }

  function live(box) {
    var select = box.querySelector("[data-live-refresh]");
    var summary = box.querySelector("[data-live-summary]");
    var status = box.querySelector("[data-live-status]");
    var now = box.querySelector("[data-live-now]");
    var timer = null;
    var busy = false;

    function refresh() {
      if (busy) { return; }
      busy = true;
      fetch(box.dataset.liveUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) { throw new Error(body.error || "HTTP " + response.status); }
            return body;
          });
        })
        .then(function (body) {
          if (summary) { summary.innerHTML = body.summary; }
          // Other parts of the page the same events change (open alerts): server HTML by id.
          Object.keys(body.replace || {}).forEach(function (id) {
            var part = document.getElementById(id);
            if (part) { part.outerHTML = body.replace[id]; }
          });
          Object.keys(body.figures).forEach(function (id) { draw(id, body.figures[id]); });
          box.dataset.refreshes = String(Number(box.dataset.refreshes || 0) + 1);
          if (status) { status.textContent = "updated " + body.updated; }
        })
        .catch(function (error) {
          if (status) { status.textContent = "refresh failed: " + error.message; }
        })
        .then(function () { busy = false; });
    }

    function schedule() {
      if (timer) { window.clearInterval(timer); timer = null; }
      var seconds = Number(select.value);
      if (seconds > 0) { timer = window.setInterval(refresh, seconds * 1000); }
    }

    if (now) { now.addEventListener("click", refresh); }
    if (select) {
      var saved = remembered();
      if (saved !== null && select.querySelector('option[value="' + saved + '"]')) {
        select.value = saved;
      }
      select.addEventListener("change", function () { remember(select.value); schedule(); });
      schedule();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawBlocks(document);
    document.querySelectorAll(".live-charts[data-live-url]").forEach(live);
  });
  // Other fragments (drift, quality) may still arrive through htmx with their own data blocks.
  document.addEventListener("htmx:afterSwap", function (event) { drawBlocks(event.detail.target); });
})();
