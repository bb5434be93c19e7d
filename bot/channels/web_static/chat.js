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
  function upload(file) {
    var body = new FormData(); body.append("session", session); body.append("id", newId()); body.append("file", file);
    var me = bubble("me", "📎 " + file.name);
    if (file.type.indexOf("image/") === 0 && window.URL) {  // the picture itself, shown from the phone
      var thumb = document.createElement("img"); thumb.src = URL.createObjectURL(file); thumb.alt = ""; me.appendChild(thumb);
    }
    fetch("/chat/api/files", {method: "POST", body: body}).then(answered).then(replies)
      .catch(function () { status.textContent = OFFLINE; });
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
