// Monitoring pages: draw the Plotly figures the server built (JSON data blocks), and redraw
// them after each htmx refresh of the charts fragment.
(function () {
  "use strict";

  var CONFIG = { responsive: true, displaylogo: false };

  function render(root) {
    if (!window.Plotly) { return; }
    root.querySelectorAll("script[data-figure]").forEach(function (block) {
      var target = document.getElementById(block.dataset.figure);
      if (!target) { return; }
      var figure = JSON.parse(block.textContent);
      window.Plotly.react(target, figure.data, figure.layout, CONFIG);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { render(document); });
  document.addEventListener("htmx:afterSwap", function (event) { render(event.detail.target); });
})();
