// The count sheet (/s/{code}): − / + / ✓ buttons per instrument, big enough for gloves,
// and a live line saying what is still missing. The form works without this script
// (the number inputs are plain fields); the server checks the count either way.
(function () {
  "use strict";
  var sheet = document.getElementById("count-sheet");
  if (!sheet) return;
  var summary = document.getElementById("count-summary");

  function clamp(value, max) {
    var n = parseInt(value, 10);
    if (isNaN(n) || n < 0) n = 0;
    return n > max ? max : n;
  }

  function refresh() {
    var missing = [];
    sheet.querySelectorAll(".count-row").forEach(function (row) {
      var expected = parseInt(row.dataset.expected, 10);
      var input = row.querySelector(".count-input");
      var counted = clamp(input.value, expected);
      row.classList.toggle("count-ok", counted === expected);
      row.classList.toggle("count-short", counted < expected);
      if (counted < expected) {
        var name = row.querySelector(".count-name").firstChild.textContent.trim();
        missing.push(expected - counted + " \u00d7 " + name);
      }
    });
    if (summary) {
      summary.textContent = missing.length ? "Still missing: " + missing.join(", ") : "All counted \u2714";
      summary.classList.toggle("count-complete", missing.length === 0);
    }
  }

  sheet.addEventListener("click", function (event) {
    var button = event.target.closest(".count-btn");
    if (!button) return;
    var row = button.closest(".count-row");
    var expected = parseInt(row.dataset.expected, 10);
    var input = row.querySelector(".count-input");
    if (button.dataset.all) {
      input.value = expected;
    } else {
      input.value = clamp(clamp(input.value, expected) + parseInt(button.dataset.step, 10), expected);
    }
    refresh();
  });
  sheet.addEventListener("input", refresh);
  refresh();
})();
