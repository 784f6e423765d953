// Behaviour that Flask-Admin 2.2 writes as inline code, which our
// Content-Security-Policy refuses to run: the templates in coop/templates/admin/
// carry data-* attributes instead, and this file (loaded on every admin page by
// coop/templates/coop/master.html) acts on them.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : event.target.parentElement;
    if (!target || !target.closest) { return; }

    // Delete buttons: ask first (was onclick="return faHelpers.safeConfirm(…)").
    var confirming = target.closest("[data-confirm]");
    if (confirming && !window.faHelpers.safeConfirm(confirming.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }

    // "With selected" actions (was onclick="return modelActions.execute(…)").
    var action = target.closest("[data-model-action]");
    if (action) {
      event.preventDefault();
      window.modelActions.execute(action.getAttribute("data-model-action"));
      return;
    }

    // href="javascript:void(0)" only keeps a link from going anywhere; the
    // policy would refuse to run it, so do the same without it.
    if (target.closest("a[href^='javascript:']")) { event.preventDefault(); }
  }, true);  // capture: before any library stops the click on its way up
})();
