// The resident's tickets: printable, and kept offline by a small service worker once opened. On 我的预约
// (#offline-tickets) the list itself is kept, and each upcoming ticket is fetched once so it opens offline too.
(function () {
  "use strict";
  var ticket = document.getElementById("ticket") || document.getElementById("offline-tickets");
  if (!ticket) return;
  var print = document.getElementById("ticket-print");
  if (print) print.addEventListener("click", function () { window.print(); });
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register(ticket.getAttribute("data-sw-url"), { scope: ticket.getAttribute("data-sw-scope") })
    .then(function () {
      if (ticket.id !== "offline-tickets" || !navigator.onLine) return;
      return navigator.serviceWorker.ready.then(function () {
        document.querySelectorAll("a[data-offline-ticket]").forEach(function (link) {
          fetch(link.href, { credentials: "same-origin" }).catch(function () { /* offline: the last copy stays */ });
        });
      });
    })
    .catch(function () { /* without it the page is still printable and savable */ });
})();
