// The resident's ticket page: printable, and kept offline by a small service worker once opened.
(function () {
  "use strict";
  var ticket = document.getElementById("ticket");
  if (!ticket) return;
  var print = document.getElementById("ticket-print");
  if (print) print.addEventListener("click", function () { window.print(); });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(ticket.getAttribute("data-sw-url"), { scope: ticket.getAttribute("data-sw-scope") })
      .catch(function () { /* without it the page is still printable and savable */ });
  }
})();
