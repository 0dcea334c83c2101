// Keeps pages that must work without a network (a resident's ticket, the door scanner) and the files
// they use: network first, the last good copy when the network is gone. One file, registered twice:
// at /tickets/sw.js (scope /tickets/) and at /scan/sw.js (scope /scan).
"use strict";
var CACHE = "culturenet-offline-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var isPage = /^\/tickets\/\d+$/.test(url.pathname) || url.pathname === "/scan";
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
      return caches.match(request).then(function (cached) { return cached || Response.error(); });
    })
  );
});
