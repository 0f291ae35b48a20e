// Submits the shop switcher as soon as a shop is picked (the Switch button remains for no-JS browsers).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll(".js-hide").forEach(function (element) { element.hidden = true; });
});
