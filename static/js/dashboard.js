/* The dashboard's slow sections (the trajectory's past years, the failing facilities and most-failed items):
 * the page opens without them, each box naming its section's address (data-src), and this fetches each and
 * puts it in place. The trajectory's box already holds the section at its final size (targets drawn, past
 * years pending), so nothing below it moves; the failing list is the end of the page. Without this script
 * each box's link reloads the page with everything in it (?full=1). No inline script (CSP). */
(function () {
  "use strict";
  if (!window.fetch) { return; }
  Array.prototype.forEach.call(document.querySelectorAll("[data-src][aria-busy]"), function (box) {
    var status = box.dataset.status ? document.getElementById(box.dataset.status) : null;
    var note = status ? status.querySelector("[data-lazy-note]") : null;
    // redirect "error": a session ended meanwhile answers with the sign-in page, which must not land in the page.
    window.fetch(box.dataset.src, { credentials: "same-origin", redirect: "error", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        box.innerHTML = html;  // the server's own escaped template, same origin
        box.removeAttribute("aria-busy");
        // A status outside the box changes in place, so a screen reader reads the new text out.
        if (status && status.isConnected && box.dataset.done) {
          status.textContent = box.dataset.done;
          // Said, not shown, where the section itself is the news (the failing list under its own heading).
          if (box.hasAttribute("data-done-quiet")) { status.classList.add("visually-hidden"); }
        }
      })
      .catch(function () {
        // Keep the link beside the message: it loads the page with everything, without this script.
        if (note && note.isConnected) { note.textContent = box.dataset.failed; }
        box.removeAttribute("aria-busy");
      });
  });
})();
