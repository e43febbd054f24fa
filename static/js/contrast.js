/* High-contrast (sunlight) mode for the inspection forms: darker text and lines, no text under 15 px.
 * The choice is kept on the device (localStorage) and applies to both forms. No inline script (CSP). */
(function () {
  "use strict";
  var KEY = "qa-contrast";
  var html = document.documentElement;
  function stored() { try { return window.localStorage.getItem(KEY) === "high"; } catch (e) { return false; } }
  function apply(on) {
    html.classList.toggle("hc", on);
    Array.prototype.forEach.call(document.querySelectorAll("[data-contrast-toggle]"), function (b) {
      b.setAttribute("aria-pressed", String(on));
    });
  }
  apply(stored());
  document.addEventListener("DOMContentLoaded", function () { apply(stored()); });
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-contrast-toggle]") : null;
    if (!button) { return; }
    var on = !html.classList.contains("hc");
    try { window.localStorage.setItem(KEY, on ? "high" : "normal"); } catch (e) { /* private mode: this page only */ }
    apply(on);
  });
})();
