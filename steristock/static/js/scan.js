// The scan page: keep the text box focused for a keyboard-wedge scanner (it types the
// code and presses Enter, which submits the form), and offer live camera scanning where
// the browser has BarcodeDetector. Without it the camera UI stays hidden.
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  var input = document.getElementById("scan-code");
  if (!form || !input) return;

  function focusInput() {
    if (document.activeElement !== input) input.focus({ preventScroll: true });
  }
  focusInput();
  window.addEventListener("pageshow", focusInput);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) focusInput();
  });
  form.addEventListener("submit", function (event) {
    if (!input.value.trim()) {
      event.preventDefault();
      focusInput();
    }
  });

  var section = document.getElementById("camera");
  var startButton = document.getElementById("camera-start");
  var stopButton = document.getElementById("camera-stop");
  var video = document.getElementById("camera-video");
  var statusLine = document.getElementById("camera-status");
  if (!section || !("BarcodeDetector" in window)) return;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;

  var WANTED = ["qr_code", "data_matrix", "ean_13", "ean_8", "upc_a", "upc_e", "code_128", "itf"];
  var PREF_KEY = "steristock.camera";
  var detector = null;
  var stream = null;
  var timer = null;

  function remember(value) {
    try { window.localStorage.setItem(PREF_KEY, value); } catch (e) { /* private mode */ }
  }

  function stopCamera() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    video.srcObject = null;
    video.hidden = true;
    stopButton.hidden = true;
    startButton.hidden = false;
  }

  function scanFrame() {
    if (!stream) return;
    detector.detect(video).then(function (codes) {
      var found = codes.find(function (c) { return c.rawValue; });
      if (found) {
        input.value = found.rawValue;
        statusLine.textContent = "Found: " + found.rawValue;
        stopCamera();
        form.submit();
      } else {
        timer = setTimeout(scanFrame, 150);
      }
    }).catch(function () {
      timer = setTimeout(scanFrame, 300);  // video not ready yet
    });
  }

  function startCamera() {
    statusLine.textContent = "Starting the camera\u2026";
    navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        stopButton.hidden = false;
        startButton.hidden = true;
        remember("on");
        statusLine.textContent = "Hold the label in front of the camera.";
        return video.play();
      })
      .then(scanFrame)
      .catch(function (err) {
        stopCamera();
        remember("off");
        statusLine.textContent = "The camera is not available (" + (err && err.name || "error") + "). Use the text box.";
      });
  }

  window.BarcodeDetector.getSupportedFormats().then(function (formats) {
    var usable = WANTED.filter(function (f) { return formats.indexOf(f) !== -1; });
    if (usable.length === 0) return;
    detector = new window.BarcodeDetector({ formats: usable });
    section.hidden = false;
    startButton.addEventListener("click", startCamera);
    stopButton.addEventListener("click", function () { stopCamera(); remember("off"); focusInput(); });
    var pref = null;
    try { pref = window.localStorage.getItem(PREF_KEY); } catch (e) { /* private mode */ }
    if (pref === "on") startCamera();
  }).catch(function () { /* no camera scanning here */ });

  window.addEventListener("pagehide", stopCamera);
})();
