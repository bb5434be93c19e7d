/* Loa Bản web chat: a session the server issued, the conversation restored after a reload, replies by
   polling. Plain ES5 for cheap phones; no inline script, so the page can run under a strict CSP. */
(function () {
  var OFFLINE = document.body.getAttribute("data-offline");
  var log = document.getElementById("log"), form = document.getElementById("f"), input = document.getElementById("t");
  var status = document.getElementById("status");
  var session = localStorage.getItem("loaban.session"), cursor = 0;
  localStorage.removeItem("loaban.cursor");  // kept by older versions of this page
  function newId() {
    var a = new Uint8Array(16); (window.crypto || window.msCrypto).getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function bubble(cls, text) {
    var d = document.createElement("div"); d.className = "msg " + cls; d.textContent = text;
    log.appendChild(d); log.scrollTop = log.scrollHeight; return d;
  }
  function disable(d) {
    Array.prototype.forEach.call(d.querySelectorAll(".btns button"), function (x) { x.disabled = true; });
  }
  function show(r) {
    if (r.id <= cursor) return null;
    cursor = r.id;
    var d = bubble("bot", r.text);
    if (r.image_url) { var img = document.createElement("img"); img.src = r.image_url; img.alt = ""; d.appendChild(img); }
    if (r.audio_url) { var au = document.createElement("audio"); au.controls = true; au.preload = "none"; au.src = r.audio_url; d.appendChild(au); }
    if (r.file_url) { var a = document.createElement("a"); a.href = r.file_url + "?session=" + session; a.download = r.file_name || ""; a.textContent = "⬇ " + (r.file_name || r.file_url); d.appendChild(document.createElement("br")); d.appendChild(a); }
    if (r.buttons && r.buttons.length) {
      var box = document.createElement("div"); box.className = "btns";
      r.buttons.forEach(function (b) {
        var btn = document.createElement("button"); btn.type = "button"; btn.textContent = b.label;
        btn.onclick = function () { disable(d); send({button: b.payload}, b.label); };
        box.appendChild(btn);
      });
      d.appendChild(box); log.scrollTop = log.scrollHeight;
    }
    return d;
  }
  function answered(res) {  // [ok, json]; a session this server does not know starts a new one
    return res.json().then(function (j) {
      if (res.status === 403) { begin(); return [false, null]; }
      return [res.ok, j];
    });
  }
  function replies(x) {
    status.textContent = "";
    if (x[1] === null) return;
    if (!x[0]) { bubble("bot", x[1].error || "?"); return; }
    x[1].replies.forEach(show);
    if (!x[1].replies.length && !x[1].duplicate) hurry(20);  // being made (a voice note): fetch it soon
  }
  function hurry(n) {  // poll every second until something arrives, n times at most
    var before = cursor;
    fetch("/chat/api/messages?after=" + cursor, mine())
      .then(function (r) { return r.json(); }).then(function (j) { (j.replies || []).forEach(show); })
      .catch(function () {}).then(function () { if (cursor === before && n > 1) setTimeout(function () { hurry(n - 1); }, 1000); });
  }
  function send(body, echo, tries) {  // no echo: the page's own /start is not shown as if the person typed it
    tries = tries || 0; body.session = session; body.id = body.id || newId();
    if (!tries && echo) bubble("me", echo);
    fetch("/chat/api/messages", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})
      .then(answered).then(replies)
      .catch(function () {
        status.textContent = OFFLINE;
        if (tries < 5) setTimeout(function () { send(body, echo, tries + 1); }, 2000 * (tries + 1));
      });
  }
  function mine() { return {headers: {"X-Loaban-Session": session}}; }  // never in a URL, never in a log
  function poll() {
    fetch("/chat/api/messages?after=" + cursor, mine())
      .then(function (r) { return r.json(); }).then(function (j) { (j.replies || []).forEach(show); })
      .catch(function () {}).then(function () { setTimeout(poll, 15000); });
  }
  function restore(h) {  // the conversation as it was: both sides, only the latest message's buttons live
    var last = null;
    h.messages.forEach(function (m) {
      if (last) disable(last);
      last = m.from === "me" ? bubble("me", m.text) : show(m);
    });
    cursor = Math.max(cursor, h.cursor); log.scrollTop = log.scrollHeight;
    if (!h.messages.length) send({text: "/start"});
    setTimeout(poll, 15000);
  }
  function begin() {  // a new visitor (or one whose session is refused) gets a session from the server
    localStorage.removeItem("loaban.session"); log.textContent = ""; cursor = 0;
    fetch("/chat/api/sessions", {method: "POST"}).then(function (r) { return r.json(); }).then(function (j) {
      session = j.session; localStorage.setItem("loaban.session", session);
      send({text: "/start"}); setTimeout(poll, 15000);
    }).catch(function () { status.textContent = OFFLINE; setTimeout(begin, 5000); });
  }
  function upload(file, spoken) {  // spoken: a recording made here, shown as a player rather than a name
    var body = new FormData(); body.append("session", session); body.append("id", newId()); body.append("file", file, file.name);
    var me = bubble("me", spoken ? "🎤 " + spoken : "📎 " + file.name);
    if (file.type.indexOf("image/") === 0 && window.URL) {  // the picture itself, shown from the phone
      var thumb = document.createElement("img"); thumb.src = URL.createObjectURL(file); thumb.alt = ""; me.appendChild(thumb);
    }
    if (spoken && window.URL) {
      var own = document.createElement("audio"); own.controls = true; own.src = URL.createObjectURL(file); me.appendChild(own);
    }
    fetch("/chat/api/files", {method: "POST", body: body}).then(answered).then(replies)
      .catch(function () { status.textContent = OFFLINE; });
  }
  recorder(upload);
  function recorder(upload) {  // hold 🎤 to speak, let go to send, slide off to cancel; a short tap keeps it recording
    var mic = document.getElementById("mic"), bar = document.getElementById("rec"), clock = document.getElementById("rec-time");
    var media = navigator.mediaDevices;
    if (!window.MediaRecorder || !media || !media.getUserMedia) { mic.hidden = true; return; }
    var rec = null, stream = null, chunks = [], started = 0, timer = null, pressed = 0, held = false, keep = false, LIMIT = 300;
    function kind() {
      var types = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4"];
      for (var i = 0; i < types.length; i++) if (MediaRecorder.isTypeSupported(types[i])) return types[i];
      return "";
    }
    function tick() {
      var s = Math.floor((Date.now() - started) / 1000);
      clock.textContent = Math.floor(s / 60) + ":" + ("0" + s % 60).slice(-2);
      if (s >= LIMIT) finish(true);
    }
    function lock() { bar.className = "locked"; }
    function begin() {
      if (rec || stream) return;
      media.getUserMedia({audio: true}).then(function (s) {
        stream = s; chunks = []; keep = false;
        var t = kind(); rec = t ? new MediaRecorder(s, {mimeType: t}) : new MediaRecorder(s);
        rec.ondataavailable = function (e) { if (e.data && e.data.size) chunks.push(e.data); };
        rec.onstop = done;
        rec.start(250); started = Date.now(); tick(); timer = setInterval(tick, 250);
        bar.className = held ? "held" : "locked"; bar.hidden = false; mic.className = "on";
      }).catch(function () { stream = null; status.textContent = mic.getAttribute("data-denied"); });
    }
    function finish(send) { keep = send; if (rec && rec.state !== "inactive") rec.stop(); }
    function done() {
      clearInterval(timer); bar.hidden = true; mic.className = "";
      stream.getTracks().forEach(function (t) { t.stop(); });
      var type = (rec.mimeType || "audio/webm").split(";")[0], took = clock.textContent;
      rec = null; stream = null;
      if (!keep || !chunks.length) return;
      var ext = type.indexOf("mp4") >= 0 ? "m4a" : type.indexOf("ogg") >= 0 ? "ogg" : "webm";
      upload(new File(chunks, "voice." + ext, {type: type}), took);
    }
    function press(e) { e.preventDefault(); pressed = Date.now(); held = true; begin(); }
    function release(x, y) {
      if (!held) return;
      held = false;
      if (!rec || Date.now() - pressed < 500) { lock(); return; }  // a tap: go on until ✔ or ✖
      var over = document.elementFromPoint(x, y);
      finish(over === mic || mic.contains(over));
    }
    mic.addEventListener("touchstart", press);
    mic.addEventListener("touchend", function (e) { var t = e.changedTouches[0]; e.preventDefault(); release(t.clientX, t.clientY); });
    mic.addEventListener("touchcancel", function () { if (held) { held = false; finish(false); } });
    mic.addEventListener("mousedown", press);
    document.addEventListener("mouseup", function (e) { release(e.clientX, e.clientY); });
    mic.addEventListener("contextmenu", function (e) { e.preventDefault(); });  // a long press is not a menu
    document.getElementById("rec-send").onclick = function () { finish(true); };
    document.getElementById("rec-cancel").onclick = function () { finish(false); };
  }
  var picker = document.getElementById("file");
  document.getElementById("att").onclick = function () { picker.click(); };
  picker.onchange = function () { if (picker.files.length) upload(picker.files[0]); picker.value = ""; };
  document.getElementById("loc").onclick = function () {
    if (!navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition(function (p) {
      send({location: {lat: p.coords.latitude, lon: p.coords.longitude}}, "📍");
    });
  };
  form.onsubmit = function (e) {
    e.preventDefault(); var text = input.value.trim(); if (!text) return;
    input.value = ""; send({text: text}, text);
  };
  if (!session) { begin(); return; }
  fetch("/chat/api/history", mine()).then(function (res) {
    if (res.status === 403 || res.status === 422) { begin(); return null; }
    return res.json();
  }).then(function (h) { if (h) restore(h); }).catch(function () { status.textContent = OFFLINE; setTimeout(poll, 15000); });
})();
