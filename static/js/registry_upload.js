// Upload forms: disable the submit button while a large artifact uploads, so a second click
// does not start a second registration.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[enctype='multipart/form-data']")) {
    form.addEventListener("submit", () => {
      const button = form.querySelector("button[type=submit][data-busy-label]");
      if (!button) return;
      button.disabled = true;
      button.textContent = button.dataset.busyLabel;
    });
  }
});
