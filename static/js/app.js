// Site-wide behaviour, loaded as a file (the CSP allows no inline script).
(function () {
  "use strict";
  // Old-style confirmations (data-confirm on a form) for the staff pages.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // Page dialogs: a button with data-dialog="<id>" opens that <dialog> (cancelling a booking).
  document.addEventListener("click", function (event) {
    var trigger = event.target.closest && event.target.closest("[data-dialog]");
    if (!trigger) return;
    var dialog = document.getElementById(trigger.getAttribute("data-dialog"));
    if (dialog && typeof dialog.showModal === "function") {
      event.preventDefault();
      dialog.showModal();
    }
  });
  // The booking form: the button says what the chosen session allows (立即预约 / 加入候补 / 参加摇号).
  var button = document.getElementById("book-button");
  var form = document.getElementById("book-form");
  if (button && form) {
    form.addEventListener("change", function (event) {
      var label = event.target.getAttribute && event.target.getAttribute("data-action-label");
      if (event.target.name === "session_id" && label) button.textContent = label;
    });
  }
})();
