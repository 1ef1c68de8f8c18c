// Progressive enhancement only: every page works without this file or htmx.
// After htmx replaces the alert lists, keyboard focus would fall back to the page; move it
// to the confirmation instead, so keyboard and screen-reader users hear what happened.
document.addEventListener("htmx:afterSettle", function (event) {
  var status = document.getElementById("alert-status");
  if (status && event.target && event.target.id === "alert-lists") {
    status.focus();
  }
});
