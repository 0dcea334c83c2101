// The resident's tickets: printable, and kept offline by a small service worker once opened. On 我的预约
// (#offline-tickets) the list itself is kept, and each upcoming ticket is fetched once so it opens offline too.
(function () {
  "use strict";
  var ticket = document.getElementById("ticket") || document.getElementById("offline-tickets");
  if (!ticket) return;
  var print = document.getElementById("ticket-print");
  if (print) print.addEventListener("click", function () { window.print(); });
  if (!("serviceWorker" in navigator)) return;
  var ticketWorker = ticket.getAttribute("data-ticket-sw-url");
  // The tickets' own worker too, so that a ticket opens offline even if it was never opened before.
  var ticketsReady = ticketWorker
    ? navigator.serviceWorker.register(ticketWorker, { scope: "/tickets/" }).then(function (reg) {
        var worker = reg.installing || reg.waiting || reg.active;
        if (!worker || worker.state === "activated") return;
        return new Promise(function (done) {
          worker.addEventListener("statechange", function () { if (worker.state === "activated") done(); });
        });
      }).catch(function () {})
    : Promise.resolve();
  navigator.serviceWorker.register(ticket.getAttribute("data-sw-url"), { scope: ticket.getAttribute("data-sw-scope") })
    .then(function () {
      if (ticket.id !== "offline-tickets" || !navigator.onLine) return;
      return navigator.serviceWorker.ready.then(function () {
        if (navigator.serviceWorker.controller) return;
        return new Promise(function (done) {  // the worker claims this page once active
          navigator.serviceWorker.addEventListener("controllerchange", done, { once: true });
        });
      }).then(function () {
        var urls = [location.pathname];
        document.querySelectorAll("a[data-offline-ticket]").forEach(function (link) { urls.push(link.href); });
        // Through the worker, which keeps each answer (the list itself and every upcoming ticket).
        return Promise.all(urls.map(function (url) {
          return fetch(url, { credentials: "same-origin" }).catch(function () { /* offline: the last copy stays */ });
        }).concat([ticketsReady])).then(function () { ticket.setAttribute("data-offline-ready", "true"); });
      });
    })
    .catch(function () { /* without it the page is still printable and savable */ });
})();
