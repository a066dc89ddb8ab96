// API keys page: copy a newly created key to the clipboard.
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain-HTTP development servers have no Clipboard API: fall back to a selection copy.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "absolute";
      area.style.left = "-9999px";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    if (!source) { return; }
    var status = button.parentElement.querySelector("[data-copy-status]");
    copyText(source.textContent.trim()).then(function () {
      if (status) { status.hidden = false; status.textContent = "Copied."; }
    }, function () {
      if (status) { status.hidden = false; status.textContent = "Copy failed: select the key and copy it by hand."; }
    });
  });
})();

// Key page: draw the usage figures that the server embedded as JSON (no inline script: CSP).
(function () {
  "use strict";

  function draw() {
    if (!window.Plotly) { return; }
    [["figure-daily", "chart-daily"], ["figure-budget", "chart-budget"]].forEach(function (pair) {
      var source = document.getElementById(pair[0]);
      var target = document.getElementById(pair[1]);
      if (!source || !target) { return; }
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(target, figure.data, figure.layout, {displaylogo: false, responsive: true});
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
