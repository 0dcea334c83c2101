// The door scanner: camera → QR payload → check-in, with an offline roster and a sync queue.
// Loaded as a file (the CSP allows no inline script); everything it needs comes in data-* attributes.
(function () {
  "use strict";

  // Choosing a session submits the form at once (the Open button stays for keyboards without JS).
  var select = document.querySelector("select[data-autosubmit]");
  if (select) {
    select.addEventListener("change", function () { if (select.value) select.form.submit(); });
  }

  var root = document.getElementById("scanner");
  if (!root) return;

  var T = JSON.parse(root.getAttribute("data-i18n") || "{}");
  var sessionId = parseInt(root.getAttribute("data-session-id"), 10);
  // Rooms mode: no session, room reservations' tickets only (checked online, no downloaded list).
  var roomsMode = root.getAttribute("data-mode") === "rooms";
  var urls = {
    room: root.getAttribute("data-room-checkin-url"),
    roster: root.getAttribute("data-roster-url"),
    checkin: root.getAttribute("data-checkin-url"),
    batch: root.getAttribute("data-batch-url"),
    walkin: root.getAttribute("data-walkin-url")
  };
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var timeFormat = new Intl.DateTimeFormat(root.getAttribute("data-locale") || undefined, {
    hour: "2-digit", minute: "2-digit", timeZone: root.getAttribute("data-timezone") || undefined
  });
  var REQUEST_TIMEOUT_MS = 2500;
  var SAME_CODE_PAUSE_MS = 3000;
  var ROSTER_REFRESH_MS = 60000;
  var SYNC_INTERVAL_MS = 15000;

  // The queue of scans and walk-ins made offline, and the downloaded roster, live in IndexedDB: durable,
  // not capped at localStorage's few megabytes, never blocking the page. They are read once at start
  // into memory and written through on every change. Where IndexedDB is unavailable (some private
  // modes) localStorage takes its place; values an earlier version kept in localStorage are carried over.
  var memory = {};
  var idb = null;
  var ready = false; // until the stored values are read, changes stay in memory (start merges them)
  function fromLocal(key) {
    try { var v = window.localStorage.getItem(key); return v ? JSON.parse(v) : undefined; }
    catch (e) { return undefined; }
  }
  var store = {
    get: function (key, fallback) { return Object.prototype.hasOwnProperty.call(memory, key) ? memory[key] : fallback; },
    set: function (key, value) {
      memory[key] = value;
      if (!ready) return;
      if (idb) {
        try {
          var tx = idb.transaction("kv", "readwrite");
          tx.objectStore("kv").put(JSON.parse(JSON.stringify(value)), key);
          tx.oncomplete = function () { try { window.localStorage.removeItem(key); } catch (e) { /* none */ } };
          return;
        } catch (e) { idb = null; }
      }
      try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* full or private mode */ }
    },
    load: function (keys) {
      function fallback() {
        keys.forEach(function (k) { var v = fromLocal(k); if (v !== undefined) memory[k] = v; });
        ready = true;
      }
      return new Promise(function (resolve) {
        var opening;
        try { opening = window.indexedDB.open("culturenet-scanner", 1); } catch (e) { fallback(); resolve(); return; }
        opening.onupgradeneeded = function () { opening.result.createObjectStore("kv"); };
        opening.onerror = function () { fallback(); resolve(); };
        opening.onsuccess = function () {
          var db = opening.result;
          var carried = [];
          var tx = db.transaction("kv", "readonly");
          keys.forEach(function (k) {
            var got = tx.objectStore("kv").get(k);
            got.onsuccess = function () {
              if (got.result !== undefined) { memory[k] = got.result; return; }
              var old = fromLocal(k);
              if (old !== undefined) { memory[k] = old; carried.push(k); }
            };
          });
          tx.oncomplete = function () {
            idb = db;
            ready = true;
            carried.forEach(function (k) { store.set(k, memory[k]); });
            resolve();
          };
          tx.onerror = function () { fallback(); resolve(); };
        };
      });
    }
  };
  var QUEUE_KEY = "cn.checkin.queue";
  var WALKIN_QUEUE_KEY = "cn.checkin.walkins";
  var ROSTER_KEY = "cn.checkin.roster." + sessionId;

  function newId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // The device id is small and needed at once: it stays in localStorage.
  var deviceId = fromLocal("cn.checkin.device");
  if (!deviceId) {
    deviceId = newId();
    try { window.localStorage.setItem("cn.checkin.device", JSON.stringify(deviceId)); } catch (e) { /* none */ }
  }

  // Filled from storage at start (see the end); anything scanned in the moment before is kept.
  var roster = null;
  var queue = [];
  var walkinQueue = [];
  var forcedOffline = false; // set when a request fails although the browser claims to be online

  function t(key, params) {
    var text = T[key] || key;
    Object.keys(params || {}).forEach(function (name) {
      text = text.split("%(" + name + ")s").join(params[name] == null ? "" : String(params[name]));
    });
    return text;
  }

  var dateTimeFormat = new Intl.DateTimeFormat(root.getAttribute("data-locale") || undefined, {
    month: "long", day: "numeric", weekday: "short", hour: "2-digit", minute: "2-digit",
    timeZone: root.getAttribute("data-timezone") || undefined
  });

  function fmtTime(iso) { return iso ? timeFormat.format(new Date(iso)) : ""; }
  // Another session's ticket: its date as well as its time (a resident who came on the wrong day).
  function fmtDateTime(iso) { return iso ? dateTimeFormat.format(new Date(iso)) : ""; }

  // --- feedback: colour, sound, vibration ---------------------------------------------------------

  var resultBox = document.getElementById("scan-result");
  var headline = document.getElementById("scan-headline");
  var detail = document.getElementById("scan-detail");
  var audio = null;
  var feedback = []; // what the last answers sounded like (for tests and support)
  var SOUNDS = {
    // admitted: two short rising tones; already in: two middle beeps; refused: one long low buzz
    ok: [[660, 0, 0.09], [990, 0.11, 0.14]],
    warn: [[600, 0, 0.12], [600, 0.2, 0.12]],
    bad: [[180, 0, 0.5]]
  };
  var VIBRATIONS = { ok: [80], warn: [100, 80, 100], bad: [300, 100, 300] };

  // Phones let a page make sound only after a touch: the first tap anywhere (开启摄像头, a code) unlocks it.
  function unlockAudio() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audio = audio || new Ctx();
      if (audio.state === "suspended") audio.resume();
    } catch (e) { /* no sound is not an error */ }
  }
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });

  function beep(kind) {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audio = audio || new Ctx();
      var plan = SOUNDS[kind];
      plan.forEach(function (p) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.type = kind === "bad" ? "square" : "sine";
        osc.frequency.value = p[0];
        gain.gain.value = 0.2;
        osc.connect(gain); gain.connect(audio.destination);
        osc.start(audio.currentTime + p[1]);
        osc.stop(audio.currentTime + p[1] + p[2]);
      });
    } catch (e) { /* no sound is not an error */ }
  }

  function show(kind, title, lines) {
    resultBox.className = "scan-result " + kind;
    resultBox.setAttribute("data-state", kind);
    headline.textContent = title;
    detail.textContent = (lines || []).filter(Boolean).join("\n");
    if (kind === "ok" || kind === "warn" || kind === "bad") {
      beep(kind);
      var vibrated = false;
      try { vibrated = navigator.vibrate ? navigator.vibrate(VIBRATIONS[kind]) : false; } catch (e) { /* none */ }
      feedback.push({ kind: kind, tones: SOUNDS[kind].length, vibration: VIBRATIONS[kind], vibrated: !!vibrated });
      if (feedback.length > 20) feedback.shift();
    }
  }

  // --- counters and status ------------------------------------------------------------------------

  function isOffline() { return forcedOffline || navigator.onLine === false; }

  function setText(id, text) {
    var el = document.getElementById(id);
    if (el) el.textContent = text;
  }

  function renderCounts() {
    var items = roster ? roster.items : [];
    var booked = 0, inside = 0;
    items.forEach(function (it) {
      if (it.status !== "confirmed") return;
      booked += it.party_size;
      if (it.checked_in_at) inside += it.party_size;
    });
    var pendingWalkins = walkinQueue.filter(function (w) { return w.session_id === sessionId; })
      .reduce(function (sum, w) { return sum + w.count; }, 0);
    setText("count-in", inside);
    setText("count-booked", booked);
    setText("count-walkins", (roster ? roster.walk_ins : 0) + pendingWalkins);
    setText("queue-count", queue.length + walkinQueue.length);
    setText("net-status", isOffline() ? t("offline") : t("online"));
    root.setAttribute("data-online", isOffline() ? "0" : "1");
    root.setAttribute("data-queued", String(queue.length + walkinQueue.length));
  }

  function saveQueue() { store.set(QUEUE_KEY, queue); store.set(WALKIN_QUEUE_KEY, walkinQueue); renderCounts(); }

  // --- network ------------------------------------------------------------------------------------

  function request(method, url, body) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    var options = {
      method: method, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf },
      signal: controller ? controller.signal : undefined
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      if (timer) clearTimeout(timer);
      if (response.status >= 500) throw new Error("server " + response.status);
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }, function (err) {
      if (timer) clearTimeout(timer);
      throw err;
    });
  }

  function goneOffline() {
    if (!forcedOffline) { forcedOffline = true; renderCounts(); }
  }

  function backOnline() {
    if (forcedOffline) { forcedOffline = false; renderCounts(); }
  }

  // --- the roster (offline validation) ------------------------------------------------------------

  function loadRoster() {
    if (!urls.roster || navigator.onLine === false) return Promise.resolve();
    return request("GET", urls.roster).then(function (res) {
      if (res.status !== 200) return;
      var local = roster;
      roster = res.data;
      // Keep admissions this device made that the server has not heard of yet.
      if (local) {
        var mine = {};
        local.items.forEach(function (it) { if (it.checked_in_locally) mine[it.booking_id] = it; });
        roster.items.forEach(function (it) {
          var m = mine[it.booking_id];
          if (m && !it.checked_in_at) { it.checked_in_at = m.checked_in_at; it.checked_in_locally = true; it.checked_in_by = m.checked_in_by; }
        });
      }
      store.set(ROSTER_KEY, roster);
      backOnline();
      renderCounts();
    }).catch(goneOffline);
  }

  function sha256Hex(text) {
    if (!(window.crypto && window.crypto.subtle)) return Promise.reject(new Error("no WebCrypto"));
    return window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(function (buf) {
      return Array.prototype.map.call(new Uint8Array(buf), function (b) { return ("0" + b.toString(16)).slice(-2); })
        .join("").slice(0, 32);
    });
  }

  var CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

  function normaliseCode(raw) {
    var code = String(raw || "").replace(/[\s-]/g, "").toUpperCase();
    if (code.length !== 8) return null;
    for (var i = 0; i < code.length; i++) if (CODE_ALPHABET.indexOf(code[i]) < 0) return null;
    return code;
  }

  // Offline, only QR payloads are matched: the roster holds their SHA-256 fingerprints (an 80-bit signature
  // cannot be searched for). Typed codes have 40 bits, so the roster carries no fingerprint of them at all
  // (any fingerprint a phone could check could be reversed by trying every code): they need the network.
  function validateOffline(scan) {
    if (scan.payload == null) {
      return Promise.resolve(normaliseCode(scan.code) ? { kind: "bad", title: t("code_needs_network") }
                                                      : { kind: "bad", title: t("invalid_ticket") });
    }
    if (!roster) return Promise.resolve({ kind: "bad", title: t("no_roster") });
    var secret = String(scan.payload).trim();
    if (!secret || secret.length > 64) return Promise.resolve({ kind: "bad", title: t("invalid_ticket") });
    return sha256Hex(secret).then(function (hash) {
      var entry = null;
      roster.items.forEach(function (it) { if (it.ticket === hash) entry = it; });
      if (!entry) return { kind: "bad", title: t("not_on_roster") };
      var now = Date.now();
      if (entry.status === "cancelled") return { kind: "bad", title: t("cancelled"), lines: [entry.holder] };
      if (entry.status !== "confirmed") return { kind: "bad", title: t("not_confirmed"), lines: [entry.holder] };
      if (now < Date.parse(roster.session.opens_at)) {
        return { kind: "bad", title: t("too_early"), lines: [t("opens_at", { time: fmtTime(roster.session.opens_at) })] };
      }
      if (now > Date.parse(roster.session.closes_at)) return { kind: "bad", title: t("too_late") };
      if (entry.checked_in_at) {
        return { kind: "warn", title: t("already_checked_in"), lines: [
          entry.holder + " · " + t("party", { n: entry.party_size }),
          t("first_at", { time: fmtTime(entry.checked_in_at), by: entry.checked_in_by || t("this_device") })] };
      }
      entry.checked_in_at = new Date(now).toISOString();
      entry.checked_in_by = t("this_device");
      entry.checked_in_locally = true;
      store.set(ROSTER_KEY, roster);
      queue.push({ payload: scan.payload, code: scan.code, session_id: sessionId, scanned_at: scan.scanned_at,
                   device_id: deviceId, scan_id: scan.scan_id });
      saveQueue();
      return { kind: "ok", title: t("admitted"), lines: [entry.holder, t("party", { n: entry.party_size }), t("saved_offline")] };
    }).catch(function () { return { kind: "bad", title: t("invalid_ticket") }; });
  }

  function markRoster(bookingId, checkedInAt, by) {
    if (!roster || !bookingId) return;
    roster.items.forEach(function (it) {
      if (it.booking_id === bookingId && !it.checked_in_at) { it.checked_in_at = checkedInAt; it.checked_in_by = by; }
    });
    store.set(ROSTER_KEY, roster);
  }

  // --- one scan -----------------------------------------------------------------------------------

  function answerFromServer(res) {
    var d = res.data || {};
    if (res.status === 201) {
      markRoster(d.booking_id, d.checked_in_at, d.checked_in_by);
      return { kind: "ok", title: t("admitted"), lines: [d.holder, d.room, t("party", { n: d.party_size })] };
    }
    var e = d.error || {};
    if (e.code === "already_checked_in") {
      markRoster(e.booking_id, e.first_checked_in_at, e.checked_in_by);
      return { kind: "warn", title: t("already_checked_in"), lines: [
        (e.holder || "") + (e.party_size ? " · " + t("party", { n: e.party_size }) : ""),
        t("first_at", { time: fmtTime(e.first_checked_in_at), by: e.checked_in_by || "" })] };
    }
    var lines = [];
    if (e.code === "too_early" && e.opens_at) lines.push(t("opens_at", { time: fmtTime(e.opens_at) }));
    if (e.code === "wrong_session" && e.ticket_activity) {
      lines.push(e.ticket_activity + (e.ticket_starts_at ? " · " + fmtDateTime(e.ticket_starts_at) : ""));
    }
    return { kind: "bad", title: e.message || t("invalid_ticket"), lines: lines };
  }

  var busy = false;

  function handleScan(scan) {
    if (busy) return;
    busy = true;
    scan.scan_id = newId();
    scan.scanned_at = new Date().toISOString();
    show("busy", t("checking"));
    var done = function (answer) {
      show(answer.kind, answer.title, answer.lines);
      renderCounts();
      busy = false;
    };
    if (roomsMode || (scan.payload != null && /^\s*CN1:R/.test(String(scan.payload)))) {
      handleRoomScan(scan, done);
      return;
    }
    if (isOffline()) {
      // Known offline: answer from the roster at once; the sync tries the network in the background.
      validateOffline(scan).then(function (answer) { done(answer); syncNow(); });
      return;
    }
    var body = { session_id: sessionId, scan_id: scan.scan_id, device_id: deviceId };
    if (scan.payload != null) body.payload = scan.payload; else body.code = scan.code;
    // Offline admissions go first, so this device's own earlier admission is not flagged as a conflict.
    var before = queue.length ? syncNow() : Promise.resolve();
    before.then(function () {
      if (isOffline()) throw new Error("offline");
      return request("POST", urls.checkin, body);
    }).then(function (res) {
      backOnline();
      done(answerFromServer(res));
    }, function () {
      // The network dropped (or the request timed out): decide from the roster, and let the sync
      // send the same scan id, so a request that did reach the server is not counted twice.
      goneOffline();
      validateOffline(scan).then(done);
    });
  }

  // A room reservation's ticket: always asked of the server (there is no offline list of room tickets).
  function handleRoomScan(scan, done) {
    var body = { scan_id: scan.scan_id, device_id: deviceId };
    if (scan.payload != null) body.payload = scan.payload; else body.code = scan.code;
    request("POST", urls.room, body).then(function (res) {
      backOnline();
      done(answerFromServer(res));
    }, function () {
      goneOffline();
      done({ kind: "bad", title: t("rooms_offline") });
    });
  }

  // --- sync ---------------------------------------------------------------------------------------

  var syncing = false;

  function syncNow() {
    if (syncing || navigator.onLine === false) return Promise.resolve();
    if (!queue.length && !walkinQueue.length) { backOnline(); return Promise.resolve(); }
    syncing = true;
    var batch = queue.slice(0, 200);
    var sent = batch.length ? request("POST", urls.batch, batch).then(function (res) {
      if (res.status !== 200) throw new Error("batch refused " + res.status);
      var done = {};
      var conflicts = 0;
      (res.data.results || []).forEach(function (r) {
        done[r.scan_id] = true;
        if (r.conflict) conflicts += 1;
        if (r.booking_id && (r.checked_in_at || r.first_checked_in_at)) {
          markRoster(r.booking_id, r.checked_in_at || r.first_checked_in_at, r.checked_in_by);
        }
      });
      queue = queue.filter(function (q) { return !done[q.scan_id]; });
      saveQueue();
      setText("sync-status",
        t("synced", { n: batch.length }) + (conflicts ? " " + t("conflicts", { n: conflicts }) : ""));
    }) : Promise.resolve();
    return sent.then(syncWalkins).then(function () {
      backOnline();
      syncing = false;
      return loadRoster();
    }, function () {
      goneOffline();
      syncing = false;
    });
  }

  function syncWalkins() {
    if (!walkinQueue.length) return Promise.resolve();
    var item = walkinQueue[0];
    return request("POST", item.url, { count: item.count, scan_id: item.scan_id }).then(function (res) {
      if (res.status >= 500) throw new Error("walk-in not saved");
      walkinQueue.shift();
      saveQueue();
      if (res.status === 201 && roster && item.session_id === sessionId) roster.walk_ins = res.data.total;
      return syncWalkins();
    });
  }

  function addWalkins(count) {
    walkinQueue.push({ url: urls.walkin, session_id: sessionId, count: count, scan_id: newId() });
    saveQueue();
    show("ok", t("walkins_added", { n: count }));
    syncNow();
  }

  // --- camera -------------------------------------------------------------------------------------

  var video = document.getElementById("scan-video");
  var cameraStatus = document.getElementById("camera-status");
  var toggle = document.getElementById("camera-toggle");
  var scanner = null;
  var lastText = null, lastAt = 0;

  function onDecode(result) {
    var text = result && result.data !== undefined ? result.data : result;
    if (!text) return;
    var now = Date.now();
    if (text === lastText && now - lastAt < SAME_CODE_PAUSE_MS) return; // the camera sees it many times a second
    lastText = text; lastAt = now;
    handleScan({ payload: text });
  }

  function cameraOff(key, retry) {
    cameraStatus.textContent = t(key);
    root.setAttribute("data-camera", "off");
    root.setAttribute("data-camera-problem", key);
    toggle.hidden = !retry;
  }

  function startCamera() {
    // Browsers give the camera only to a secure page (https://, or localhost): say so, and what to do.
    if (window.isSecureContext === false || !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
      cameraOff("camera_insecure", false);
      return;
    }
    if (!window.QrScanner) { cameraOff("camera_unavailable", true); return; }
    if (!scanner) {
      scanner = new window.QrScanner(video, onDecode, {
        returnDetailedScanResult: true, preferredCamera: "environment", maxScansPerSecond: 10
      });
    }
    scanner.start().then(function () {
      cameraStatus.textContent = "";
      root.setAttribute("data-camera", "on");
      root.removeAttribute("data-camera-problem");
      toggle.hidden = true;
    }, function (err) {
      // qr-scanner reports every failure as "Camera not found.": the Permissions API tells a refusal apart.
      var text = String((err && (err.name || err.message)) || err || "");
      var asked = navigator.permissions && navigator.permissions.query
        ? navigator.permissions.query({ name: "camera" }).then(function (p) { return p.state; }, function () { return ""; })
        : Promise.resolve("");
      asked.then(function (state) {
        if (state === "denied" || /NotAllowed|Permission|denied|Security/i.test(text)) cameraOff("camera_denied", true);
        else if (state === "granted") cameraOff("camera_missing", true);
        else cameraOff("camera_unavailable", true);
      });
    });
  }

  toggle.addEventListener("click", startCamera);

  // --- manual entry and walk-ins ------------------------------------------------------------------

  var codeForm = document.getElementById("code-form");
  var codeInput = document.getElementById("code-input");
  codeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = codeInput.value.trim();
    if (!code) { codeInput.focus(); return; }
    handleScan({ code: code });
    codeInput.value = "";
    codeInput.focus();
  });

  Array.prototype.forEach.call(document.querySelectorAll("[data-count]"), function (button) {
    button.addEventListener("click", function () { addWalkins(parseInt(button.getAttribute("data-count"), 10)); });
  });

  // --- start --------------------------------------------------------------------------------------

  window.addEventListener("online", function () { forcedOffline = false; renderCounts(); syncNow(); });
  window.addEventListener("offline", function () { renderCounts(); });
  setInterval(function () { if (queue.length || walkinQueue.length) syncNow(); }, SYNC_INTERVAL_MS);
  setInterval(loadRoster, ROSTER_REFRESH_MS);

  renderCounts();
  startCamera();
  store.load([QUEUE_KEY, WALKIN_QUEUE_KEY, ROSTER_KEY]).then(function () {
    queue = store.get(QUEUE_KEY, []).concat(queue);
    walkinQueue = store.get(WALKIN_QUEUE_KEY, []).concat(walkinQueue);
    if (!roomsMode) roster = roster || store.get(ROSTER_KEY, null);
    root.setAttribute("data-storage", idb ? "indexeddb" : "localstorage");
    saveQueue();
    return loadRoster();
  }).then(syncNow);
  // Keep this page itself available offline (a reload at a door without network still scans).
  if ("serviceWorker" in navigator && root.getAttribute("data-sw-url")) {
    navigator.serviceWorker.register(root.getAttribute("data-sw-url"), { scope: "/scan" }).catch(function () {});
  }

  // For tests and support: the state in one place.
  window.culturenetScanner = {
    scan: handleScan, sync: syncNow, reloadRoster: loadRoster,
    state: function () {
      return { queue: queue.slice(), walkins: walkinQueue.slice(), roster: roster, offline: isOffline(),
               storage: root.getAttribute("data-storage"), feedback: feedback.slice(),
               camera: root.getAttribute("data-camera"), cameraProblem: root.getAttribute("data-camera-problem") };
    }
  };
})();
