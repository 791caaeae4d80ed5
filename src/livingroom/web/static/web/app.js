// Small page behaviours, wired by data attributes: the Content-Security-Policy allows no inline
// scripts or event-handler attributes, so pages say what they want and this file does it.
document.addEventListener("change", function (event) {
  var field = event.target.closest("[data-autosubmit]");
  if (field && field.form) field.form.submit();
});
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});
