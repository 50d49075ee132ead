// Incident page: tell the person when an htmx request to the timeline failed
// (htmx leaves the page unchanged on errors, which would look like nothing happened).
document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("timeline-status");
  if (!status) return;
  const show = (text) => {
    status.textContent = text;
    status.hidden = false;
  };
  document.body.addEventListener("htmx:beforeRequest", () => {
    status.hidden = true;
  });
  document.body.addEventListener("htmx:responseError", (event) => {
    const code = event.detail.xhr.status;
    if (code === 403) {
      show("You may not change this timeline (or your session expired: reload the page).");
    } else if (code === 404) {
      show("That entry no longer exists: reload the page to see the current timeline.");
    } else {
      show(`Saving failed (HTTP ${code}). Your text is still in the form; try again.`);
    }
  });
  document.body.addEventListener("htmx:sendError", () => {
    show("The server could not be reached. Your text is still in the form; try again.");
  });
});
