// Starts Swagger UI on the spec the page names. A file, not an inline <script>, so the
// docs page needs no 'unsafe-inline' in its Content-Security-Policy.
(function () {
  "use strict";
  var container = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: container.dataset.specUrl,
    domNode: container,
    deepLinking: true,
    // The default validator badge would send the spec to a public service.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
