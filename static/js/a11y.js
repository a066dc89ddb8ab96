// Every page: a box that scrolls sideways (a wide table on a phone, a long log line) takes the
// keyboard focus, so it can be scrolled without a mouse (WCAG 2.1.1; axe's
// scrollable-region-focusable). Re-checked after htmx swaps and when the window resizes.
(function () {
  "use strict";

  var SELECTOR = "table, .table-scroll, pre";

  function mark(root) {
    (root || document).querySelectorAll(SELECTOR).forEach(function (box) {
      if (box.hasAttribute("tabindex") && !box.dataset.autoFocusable) { return; }
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        box.dataset.autoFocusable = "1";
      } else if (box.dataset.autoFocusable) {
        box.removeAttribute("tabindex");
        delete box.dataset.autoFocusable;
      }
    });
  }

  var pending = null;
  function soon() {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(function () { pending = null; mark(document); }, 100);
  }

  document.addEventListener("DOMContentLoaded", function () { mark(document); });
  document.addEventListener("htmx:afterSettle", soon);
  window.addEventListener("resize", soon);
})();
