// Accessible names for what Flask-Admin's scripts draw without one (WCAG 2.1 AA,
// tests/e2e/test_accessibility.py): a select2 picker is named by its field's label
// and the choice it shows, each «×» of a multiple picker says which choice it
// removes, a column's «?» says what its tooltip says, a message's «×» says «Закрыть»,
// and a table that scrolls in its own box (a phone) takes the keyboard's focus, to be
// scrolled with the arrow keys, named by the heading above it. A form's field is
// described by its error (or its help), which a screen reader reads with it, and a form
// sent back with errors puts the focus on the first field in error. Pickers are drawn
// after the page has loaded (form.js, a list's filters), so whatever is added is named too.
(function () {
  "use strict";
  var source = document.getElementById("coop-a11y");
  var removeWord = (source && source.getAttribute("data-remove")) || "Remove";
  var closeWord = (source && source.getAttribute("data-close")) || "Close";
  var serial = 0;

  function idOf(element) {
    if (!element.id) { serial += 1; element.id = "coop-a11y-" + serial; }
    return element.id;
  }

  function labelOf(container) {
    var field = container.id && container.id.indexOf("s2id_") === 0 ? container.id.slice(5) : "";
    if (field) {
      var labels = document.getElementsByTagName("label");
      for (var i = 0; i < labels.length; i += 1) {
        if (labels[i].htmlFor === field && !labels[i].classList.contains("select2-offscreen")) { return labels[i]; }
      }
    }
    return null;
  }

  function name(container) {
    var choice = container.querySelector("a.select2-choice");
    if (choice && !choice.hasAttribute("aria-labelledby") && !choice.hasAttribute("aria-label")) {
      var label = labelOf(container);
      var chosen = choice.querySelector(".select2-chosen");
      var ids = [];
      if (label) { ids.push(idOf(label)); }
      if (chosen) { ids.push(idOf(chosen)); }
      if (label || (chosen && chosen.textContent.trim())) {
        choice.setAttribute("aria-labelledby", ids.join(" "));
      } else {
        var original = document.getElementById(container.id.slice(5));
        choice.setAttribute("aria-label", (original && original.getAttribute("data-placeholder")) || "…");
      }
    }
    var closers = container.querySelectorAll("a.select2-search-choice-close:not([aria-label])");
    for (var i = 0; i < closers.length; i += 1) {
      closers[i].setAttribute("aria-label", removeWord + ": " + closers[i].parentNode.textContent.trim());
    }
  }

  function nameAll() {
    // A message's «×» (Flask-Admin's layout.messages): a button, hidden from screen readers
    // though it takes the focus; it is named instead.
    var closers = document.querySelectorAll(".alert button.close[aria-hidden]");
    for (var c = 0; c < closers.length; c += 1) {
      closers[c].removeAttribute("aria-hidden");
      closers[c].setAttribute("aria-label", closeWord);
    }
    var containers = document.querySelectorAll(".select2-container");
    for (var i = 0; i < containers.length; i += 1) { name(containers[i]); }
    var tips = document.querySelectorAll("a[data-role='tooltip']:not([aria-label])");
    for (var j = 0; j < tips.length; j += 1) {
      var text = tips[j].getAttribute("title") || tips[j].getAttribute("data-original-title");
      if (text) { tips[j].setAttribute("aria-label", text); }
    }
  }

  function headingBefore(element) {
    var headings = document.querySelectorAll("main h1, main h2, main h3, main h4");
    var found = null;
    for (var i = 0; i < headings.length; i += 1) {
      if (headings[i].compareDocumentPosition(element) & Node.DOCUMENT_POSITION_FOLLOWING) { found = headings[i]; }
    }
    return found;
  }

  function scrollable() {
    var boxes = document.querySelectorAll(".calendar-scroll, .table-responsive");
    for (var i = 0; i < boxes.length; i += 1) {
      var box = boxes[i];
      if (box.hasAttribute("tabindex") || box.scrollWidth <= box.clientWidth) { continue; }
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      var heading = headingBefore(box);
      if (heading) { box.setAttribute("aria-labelledby", idOf(heading)); }
    }
  }

  function describeFields() {
    var groups = document.querySelectorAll("form .form-group");
    var first = null;
    for (var i = 0; i < groups.length; i += 1) {
      var field = groups[i].querySelector("input:not([type=hidden]), select, textarea");
      var note = groups[i].querySelector(".invalid-feedback") || groups[i].querySelector("small.form-text");
      if (!field || !note || field.hasAttribute("aria-describedby")) { continue; }
      field.setAttribute("aria-describedby", idOf(note));
      if (note.classList.contains("invalid-feedback")) {
        field.setAttribute("aria-invalid", "true");
        if (!first) { first = field; }
      }
    }
    if (first && !document.querySelector("[autofocus]")) { first.focus(); }
  }

  nameAll();
  scrollable();
  describeFields();
  window.addEventListener("resize", scrollable);
  new MutationObserver(nameAll).observe(document.body, { childList: true, subtree: true });
})();
