// Rollback confirmation: a button with data-rollback-open fills the shared <dialog> with its
// target (data-to-event, empty for "step back"; data-to-label) and opens it. Delegated, so
// buttons swapped in by htmx work too.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-rollback-open]");
    var dialog = document.getElementById("rollback-dialog");
    if (!dialog) return;
    if (opener) {
      document.getElementById("rollback-to-event").value = opener.dataset.toEvent || "";
      document.getElementById("rollback-to").textContent = opener.dataset.toLabel || "";
      dialog.showModal();
      document.getElementById("rollback-reason").focus();
    } else if (event.target.closest("[data-rollback-cancel]")) {
      dialog.close();
    }
  });
})();
