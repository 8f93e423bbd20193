// Loaded on every page. htmx requests send the page's CSRF token as a header, so an
// hx-post/hx-delete button works without a surrounding form (CSP allows no inline JS,
// so this lives here).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("htmx:configRequest", function (event) {
    if (meta && meta.content) event.detail.headers["X-CSRFToken"] = meta.content;
  });
})();
