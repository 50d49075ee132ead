// Starts Swagger UI on /api/docs/ (templates/api/docs.html). A static file, not an
// inline script: the Content-Security-Policy forbids inline scripts.
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  const { schemaUrl, csrfHeader, csrfToken } = root.dataset;
  window.ui = window.SwaggerUIBundle({
    url: schemaUrl,
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // "Try it out" from a signed-in browser: the session cookie goes along, so
    // writes need the CSRF token.
    requestInterceptor: (request) => {
      if (!["GET", "HEAD", "OPTIONS", undefined].includes(request.method)) {
        request.headers[csrfHeader] = csrfToken;
      }
      return request;
    },
  });
});
