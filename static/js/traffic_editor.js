// Traffic split editor: add/remove variant rows and check the split as it is edited, with the
// same rules as serving/deploy.py's _traffic_state (the server checks again on submit).
(function () {
  "use strict";

  function problems(rows) {
    var seen = {}, primaries = 0, shadows = 0, total = 0, used = 0;
    for (var i = 0; i < rows.length; i++) {
      var version = rows[i].querySelector("[name=version]").value;
      var weightText = rows[i].querySelector("[name=weight]").value.trim();
      var role = rows[i].querySelector("[name=role]").value;
      if (!version) continue;
      used++;
      var label = "v" + version;
      if (seen[version]) return label + " appears twice in the split";
      seen[version] = true;
      if (!/^\d+$/.test(weightText) || +weightText > 100) {
        return label + ": the weight must be a whole number from 0 to 100";
      }
      var weight = +weightText;
      if (role === "primary") primaries++;
      if (role === "shadow") {
        shadows++;
        if (weight !== 0) return label + ": a shadow takes no traffic share; give it 0";
      } else {
        total += weight;
      }
    }
    if (!used) return "choose at least one version";
    if (primaries !== 1) return "a split needs exactly one primary (now " + primaries + ")";
    if (shadows > 1) return "at most one shadow variant";
    if (total !== 100) return "the serving weights add up to " + total + ", not 100";
    return "";
  }

  function check(form) {
    var rows = form.querySelectorAll("[data-traffic-row]");
    var message = problems(rows);
    var out = form.querySelector("[data-traffic-check]");
    out.textContent = message ? "Not valid yet: " + message + "." : "The split is valid.";
    out.classList.toggle("error", !!message);
    form.querySelector("[data-traffic-submit]").disabled = !!message;
  }

  function init(form) {
    var body = form.querySelector("[data-traffic-rows]");
    var template = form.querySelector("[data-traffic-row-template]");
    form.addEventListener("input", function () { check(form); });
    form.addEventListener("change", function () { check(form); });
    form.addEventListener("click", function (event) {
      if (event.target.closest("[data-traffic-add]")) {
        body.appendChild(template.content.cloneNode(true));
        check(form);
      } else if (event.target.closest("[data-traffic-remove]")) {
        var row = event.target.closest("[data-traffic-row]");
        if (body.querySelectorAll("[data-traffic-row]").length > 1) row.remove();
        check(form);
      }
    });
    check(form);
  }

  function start(root) {
    var forms = Array.prototype.slice.call(root.querySelectorAll("[data-traffic-editor]"));
    if (root.matches && root.matches("[data-traffic-editor]")) forms.push(root);
    forms.forEach(function (form) {
      if (form.dataset.trafficReady) return;
      form.dataset.trafficReady = "1";
      init(form);
    });
  }
  // An editor swapped in by htmx (a new event changed the split) is set up like the first one.
  document.addEventListener("htmx:load", function (event) { start(event.detail.elt); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { start(document); });
  } else start(document);
})();
