// Keeps pages that must work without a network (a resident's ticket, the door scanner) and the files
// they use: network first, the last good copy when the network is gone. One file, registered twice:
// at /tickets/sw.js (scope /tickets/), at /scan/sw.js (scope /scan) and at /my/sw.js (scope /my/: 我的预约, which
// also fetches each upcoming ticket once so that it opens offline; the cache is shared by the three).
"use strict";
var CACHE = "culturenet-offline-v1";
var PAGES = [/^\/tickets\/\d+$/, /^\/scan$/, /^\/my\/bookings$/];

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var isPage = PAGES.some(function (re) { return re.test(url.pathname); });
  var isAsset = url.pathname.indexOf("/static/") === 0;
  if (!isPage && !isAsset) return;
  event.respondWith(
    fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request, { ignoreSearch: url.pathname === "/my/bookings" }).then(function (cached) { return cached || Response.error(); });
    })
  );
});
