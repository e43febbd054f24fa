/* The dashboard's trajectory: the page opens with the targets drawn and the past years pending, then this
 * fetches the section with every measured year (compliance.trajectory) and puts it in place. The section has
 * the same size both ways, so nothing below it moves. Without this script the link in the section reloads
 * the page with the measured values. No inline script (CSP). */
(function () {
  "use strict";
  var box = document.getElementById("cmp-trajectory");
  if (!box || !box.dataset.src || !window.fetch) { return; }
  var note = document.querySelector("[data-trajectory-note]");
  // redirect "error": a session ended meanwhile answers with the sign-in page, which must not land in the page.
  window.fetch(box.dataset.src, { credentials: "same-origin", redirect: "error", headers: { Accept: "text/html" } })
    .then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    })
    .then(function (html) {
      box.innerHTML = html;  // the server's own escaped template, same origin
      box.removeAttribute("aria-busy");
      // The status (outside the sections) changes in place: a screen reader reads the new text out.
      var status = note && note.parentNode;
      if (status) { status.textContent = box.dataset.done; }
    })
    .catch(function () {
      // Keep the link beside the message: it loads the page with the values, without this script.
      if (note) { note.textContent = box.dataset.failed; }
      box.removeAttribute("aria-busy");
    });
})();
