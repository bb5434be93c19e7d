// The admin's few behaviours, from a file of its own: the Content-Security-Policy allows no inline script.
(function () {
  // A form with data-confirm asks before it is sent (deleting a village, a Q&A entry).
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
(function () {
  // A reply template goes into the answer box where the cursor is, without leaving the page.
  var box = document.getElementById("reply-text");
  Array.prototype.forEach.call(document.querySelectorAll(".use-template"), function (link) {
    link.addEventListener("click", function (event) {
      if (!box) return;
      event.preventDefault();
      var text = link.getAttribute("data-text"), at = box.selectionStart || box.value.length;
      var before = box.value.slice(0, at), after = box.value.slice(box.selectionEnd || at);
      var gap = before && !/\s$/.test(before) ? "\n" : "";
      box.value = before + gap + text + after; box.focus();
      box.selectionStart = box.selectionEnd = (before + gap + text).length;
    });
  });
})();
(function () {
  // Record a voice answer in the browser where it can; the recording goes into the form's file field.
  var button = document.getElementById("record"), field = document.getElementById("voice-file");
  if (!button || !window.MediaRecorder || !navigator.mediaDevices || !window.DataTransfer) return;
  button.hidden = false;
  var recorder = null, chunks = [], state = document.getElementById("record-state");
  button.addEventListener("click", function () {
    if (recorder) { recorder.stop(); return; }
    navigator.mediaDevices.getUserMedia({audio: true}).then(function (stream) {
      recorder = new MediaRecorder(stream); chunks = [];
      recorder.ondataavailable = function (e) { chunks.push(e.data); };
      recorder.onstop = function () {
        stream.getTracks().forEach(function (t) { t.stop(); });
        var type = recorder.mimeType || "audio/webm", ext = type.indexOf("ogg") >= 0 ? "ogg" : "webm";
        var files = new DataTransfer(); files.items.add(new File(chunks, "tra-loi." + ext, {type: type}));
        field.files = files.files; recorder = null; state.textContent = state.getAttribute("data-done");
      };
      recorder.start(); state.textContent = state.getAttribute("data-recording");
    });
  });
})();
(function () {
  // A spoken prompt's recording in the workbench: tap 🎤 to record (a timer runs; ✔ keeps it, ✖ drops it),
  // or hold it and let go to keep; what was recorded goes into the row's file field and the form is sent.
  if (!window.MediaRecorder || !navigator.mediaDevices || !window.DataTransfer) return;
  Array.prototype.forEach.call(document.querySelectorAll("form.clip-record"), function (form) {
    var mic = form.querySelector(".clip-mic"), panel = form.querySelector(".clip-rec");
    var clock = form.querySelector(".clip-time"), field = form.querySelector("input[type=file]");
    var recorder = null, chunks = [], keep = false, started = 0, ticking = null, pressed = 0;
    mic.hidden = false;
    function shown(seconds) { return Math.floor(seconds / 60) + ":" + ("0" + (seconds % 60)).slice(-2); }
    function stop(keepIt) {
      if (!recorder) return;
      keep = keepIt; recorder.stop();
    }
    function start() {
      navigator.mediaDevices.getUserMedia({audio: true}).then(function (stream) {
        recorder = new MediaRecorder(stream); chunks = []; keep = false;
        recorder.ondataavailable = function (e) { chunks.push(e.data); };
        recorder.onstop = function () {
          stream.getTracks().forEach(function (t) { t.stop(); });
          clearInterval(ticking); panel.hidden = true; mic.hidden = false;
          var type = recorder.mimeType || "audio/webm", ext = type.indexOf("ogg") >= 0 ? "ogg" : "webm";
          recorder = null;
          if (!keep) return;
          var files = new DataTransfer(); files.items.add(new File(chunks, "loi-doc." + ext, {type: type}));
          field.files = files.files; form.submit();
        };
        recorder.start(250); started = Date.now(); clock.textContent = "0:00";
        ticking = setInterval(function () { clock.textContent = shown(Math.floor((Date.now() - started) / 1000)); }, 250);
        mic.hidden = true; panel.hidden = false;
      });
    }
    mic.addEventListener("pointerdown", function () { pressed = Date.now(); start(); });
    mic.addEventListener("pointerup", function () { if (Date.now() - pressed > 800) stop(true); });  // held
    form.querySelector(".clip-stop").addEventListener("click", function () { stop(true); });
    form.querySelector(".clip-cancel").addEventListener("click", function () { stop(false); });
  });
})();
