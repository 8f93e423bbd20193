// The HLD run form's soak timer: counts up from "Start soak", turns green at the
// minimum soak time, and fills the soak minutes field on "Stop" (the MA can still edit it).
(function () {
  "use strict";
  var box = document.getElementById("soak-timer");
  if (!box) { return; }
  var clock = document.getElementById("soak-clock");
  var field = document.getElementById("soak_minutes");
  var minimum = parseFloat(document.querySelector("[name=min_soak_minutes]").value || box.dataset.minutes || "0");
  var started = null;
  var timer = null;

  function elapsedMinutes() { return (Date.now() - started) / 60000; }

  function show() {
    var seconds = Math.floor((Date.now() - started) / 1000);
    var mm = String(Math.floor(seconds / 60)).padStart(2, "0");
    var ss = String(seconds % 60).padStart(2, "0");
    clock.textContent = mm + ":" + ss;
    box.classList.toggle("soak-done", minimum > 0 && elapsedMinutes() >= minimum);
  }

  document.getElementById("soak-start").addEventListener("click", function () {
    started = Date.now();
    if (timer) { clearInterval(timer); }
    timer = setInterval(show, 1000);
    show();
  });
  document.getElementById("soak-stop").addEventListener("click", function () {
    if (!started) { return; }
    clearInterval(timer);
    timer = null;
    show();
    if (field) { field.value = (Math.floor(elapsedMinutes() * 10) / 10).toString(); }
  });
})();
