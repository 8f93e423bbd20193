// Starts the Swagger UI on /schema. It lives here, not inline in the page, so the page
// runs under the same CSP as every other (script-src 'self', no 'unsafe-inline').
(function () {
  "use strict";
  function start() {
    var container = document.getElementById("swagger-container");
    window.ui = SwaggerUIBundle({
      url: container.getAttribute("data-spec-url"),
      dom_id: "#swagger-container",
      deepLinking: true,
      showExtensions: true,
      showCommonExtensions: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
