// The library's player: when playback first starts (or a picture or document is opened), tell the server
// once (POST /api/v1/resources/<id>/plays). Anonymous viewers send a random id kept on this device, so a
// replay the same day is not counted twice; nothing else about the viewer is sent.
(function () {
  "use strict";
  var el = document.getElementById("player") || document.getElementById("opener");
  if (!el) { return; }
  var sent = false;

  function deviceId() {
    var key = "culturenet-viewer";
    try {
      var id = window.localStorage.getItem(key);
      if (!id) {
        var bytes = new Uint8Array(16);
        window.crypto.getRandomValues(bytes);
        id = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
        window.localStorage.setItem(key, id);
      }
      return id;
    } catch (e) {
      return null;
    }
  }

  function report() {
    if (sent) { return; }
    sent = true;
    var meta = document.querySelector('meta[name="csrf-token"]');
    var body = {};
    var id = deviceId();
    if (id) { body.device_id = id; }
    fetch(el.getAttribute("data-play-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": meta ? meta.content : ""},
      body: JSON.stringify(body)
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      var count = document.getElementById("play-count");
      if (data && count) { count.textContent = data.plays; }
    }).catch(function () { sent = false; });
  }

  if (el.tagName === "VIDEO" || el.tagName === "AUDIO") {
    el.addEventListener("play", report);
  } else {
    el.addEventListener("click", report);
  }
})();
