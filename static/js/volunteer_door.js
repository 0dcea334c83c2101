// The volunteer door: a task ticket scanned once checks in, scanned again checks out (POST /api/v1/checkins).
// Loaded as a file (the CSP allows no inline script); its texts come in data-i18n.
(function () {
  "use strict";
  var root = document.getElementById("volunteer-door");
  if (!root) return;
  var T = JSON.parse(root.getAttribute("data-i18n") || "{}");
  var url = root.getAttribute("data-checkin-url");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var box = document.getElementById("door-result");
  var deviceId = "door-" + Math.random().toString(36).slice(2, 10);
  var busy = false, lastText = null, lastAt = 0;

  function t(key, params) {
    var text = T[key] || key;
    Object.keys(params || {}).forEach(function (k) { text = text.replace("%(" + k + ")s", params[k]); });
    return text;
  }

  function show(kind, title, lines) {
    box.className = "scan-result " + kind;
    box.setAttribute("data-state", kind);
    document.getElementById("door-headline").textContent = title;
    document.getElementById("door-detail").textContent = (lines || []).filter(Boolean).join(" · ");
  }

  function newId() {
    return "v" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }

  function check(payload) {
    if (busy) return;
    busy = true;
    show("busy", t("checking"));
    fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ payload: payload, scan_id: newId(), device_id: deviceId })
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (res) {
      var d = res.data || {};
      if (res.status === 201 && d.kind === "volunteer") {
        var lines = [d.holder, d.task];
        if (d.direction === "out") lines.push(t("hours", { h: d.hours }));
        show("ok", d.direction === "out" ? t("out") : t("in"), lines);
      } else {
        var e = d.error || {};
        show(e.code === "already_checked_in" ? "warn" : "bad", e.message || t("invalid"), [e.holder]);
      }
    }, function () {
      show("bad", t("offline"));
    }).then(function () { busy = false; });
  }

  document.getElementById("door-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("door-payload");
    if (input.value.trim()) check(input.value.trim());
    input.value = "";
  });

  var video = document.getElementById("door-video");
  var status = document.getElementById("door-camera-status");
  var toggle = document.getElementById("door-camera-toggle");
  var scanner = null;

  function onDecode(result) {
    var text = result && result.data !== undefined ? result.data : result;
    if (!text) return;
    var now = Date.now();
    if (text === lastText && now - lastAt < 4000) return;
    lastText = text; lastAt = now;
    check(text);
  }

  function startCamera() {
    if (!window.QrScanner) { status.textContent = t("camera_unavailable"); toggle.hidden = false; return; }
    if (!scanner) scanner = new window.QrScanner(video, onDecode, { returnDetailedScanResult: true, preferredCamera: "environment" });
    scanner.start().then(function () {
      status.textContent = t("camera_on"); toggle.hidden = true; root.setAttribute("data-camera", "on");
    }, function () {
      status.textContent = t("camera_unavailable"); toggle.hidden = false; root.setAttribute("data-camera", "off");
    });
  }

  toggle.addEventListener("click", startCamera);
  if (navigator.mediaDevices) startCamera(); else { status.textContent = t("camera_unavailable"); }
})();
