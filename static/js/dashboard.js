/* The dashboard's trajectory: the page opens with the targets drawn and the past years pending, then this
 * fetches the section with every measured year (compliance.trajectory) and puts it in place. The section has
 * the same size both ways, so nothing below it moves. Without this script the link in the section reloads
 * the page with the measured values. No inline script (CSP). */
(function () {
  "use strict";
  var box = document.getElementById("cmp-trajectory");
  if (!box || !box.dataset.src || !window.fetch) { return; }
  window.fetch(box.dataset.src, { credentials: "same-origin", headers: { Accept: "text/html" } })
    .then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    })
    .then(function (html) {
      box.innerHTML = html;  // the server's own escaped template, same origin
      box.removeAttribute("aria-busy");
    })
    .catch(function () {
      // Keep the link beside the message: it loads the page with the values, without this script.
      var note = box.querySelector("[data-trajectory-note]");
      if (note) { note.textContent = box.dataset.failed; }
      box.removeAttribute("aria-busy");
    });
})();
