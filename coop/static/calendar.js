// The print button: a script file, not an inline handler, so a strict CSP can forbid inline code.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print-button");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
});
