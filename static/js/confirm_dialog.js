// Confirmation before an irreversible form posts: a <form data-confirm="..."> opens the page's
// #confirm-dialog (data-confirm-title, data-confirm-action name its heading and button); only
// "confirm" submits it. Delegated, so forms swapped in later work too.
(function () {
  "use strict";
  var pending = null;

  function dialog() { return document.getElementById("confirm-dialog"); }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    var box = dialog();
    if (!form || !box || form.dataset.confirmed === "1") { return; }
    event.preventDefault();
    pending = form;
    document.getElementById("confirm-title").textContent = form.dataset.confirmTitle || "Are you sure?";
    document.getElementById("confirm-message").textContent = form.dataset.confirm;
    box.querySelector("[data-confirm-ok]").textContent = form.dataset.confirmAction || "Confirm";
    box.showModal();
    box.querySelector("[data-confirm-cancel]").focus();  // the safe choice has the focus
  });

  document.addEventListener("click", function (event) {
    var box = dialog();
    if (!box) { return; }
    if (event.target.closest("[data-confirm-ok]") && pending) {
      var form = pending;
      pending = null;
      box.close();
      form.dataset.confirmed = "1";
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    } else if (event.target.closest("[data-confirm-cancel]")) {
      box.close();
    }
  });

  document.addEventListener("close", function (event) {
    if (event.target === dialog()) { pending = null; }  // Escape or cancel: nothing posts
  }, true);
})();
