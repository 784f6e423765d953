// The calendar page: the print button (a script file, not an inline handler, so a strict CSP
// can forbid inline code) and, on a phone, the month agenda as the first screen.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print-button");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
  // On a phone the year grid is too wide to read at a glance: unless a view was asked for,
  // the first screen is the month agenda (the «Год» button still opens the grid).
  var month = document.querySelector("a[data-view=month]");
  var asked = new URLSearchParams(window.location.search).has("view");
  if (month && !asked && window.matchMedia("(max-width: 575.98px)").matches) {
    window.location.replace(month.href);
  }
});
