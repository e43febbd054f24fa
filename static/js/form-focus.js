/* Moving through the inspection form, on both forms (the online one, #inspection, and the offline one, which
 * calls QAFocus.attach on the inspection it draws), for a long visit on a 10-inch tablet.
 *
 * Focused mode: one section at a time (previous / next section at its end, the section chips switch between
 * sections), the site's top bar hidden behind one "Menu" button. "Next unanswered" jumps to the next item still
 * without an answer; "Failed only" / "With a note or comment" hide the other items. The mode is kept on the
 * device (localStorage), like high contrast. Nothing here saves anything: the answers are inspection.js's or
 * offline.js's, which mark the items (is-answered, is-failed, item-commented). Without this script the form
 * simply shows every section.
 */
(function (global) {
  "use strict";

  var KEY = "qa-focus";
  var html = document.documentElement;

  function attach(root) {
    var sections = [];
    var toggle = root.querySelector("[data-focus-toggle]");
    var menu = root.querySelector("[data-topbar-toggle]");
    var message = root.querySelector("[data-focus-message]");
    var current = 0;
    var lastItem = null;  // the item last touched: "next unanswered" looks after it

    function stored() { try { return window.localStorage.getItem(KEY) === "on"; } catch (e) { return false; } }
    function isOn() { return html.classList.contains("focus-mode"); }

    function sectionIndexOf(node) {
      var section = node && node.closest ? node.closest("section.insp-section[id^='sec-']") : null;
      return section ? sections.indexOf(section) : -1;
    }

    // Show section `index` alone (in focused mode) and mark its chip; scrolls to its start when asked.
    function show(index, scroll) {
      if (!sections.length) { return; }
      current = Math.max(0, Math.min(sections.length - 1, index));
      sections.forEach(function (s, i) { s.classList.toggle("is-current", i === current); });
      Array.prototype.forEach.call(root.querySelectorAll("[data-nav]"), function (chip) {
        if (chip.getAttribute("data-nav") === sections[current].id.slice(4) && isOn()) {
          chip.setAttribute("aria-current", "step");
        } else {
          chip.removeAttribute("aria-current");
        }
      });
      Array.prototype.forEach.call(root.querySelectorAll("[data-focus-step]"), function (b) {
        var to = current + parseInt(b.getAttribute("data-focus-step"), 10);
        b.disabled = to < 0 || to >= sections.length;
      });
      if (scroll && isOn()) {
        // Just below the sticky header, whatever its height on this screen.
        var head = root.querySelector(".insp-head");
        var top = sections[current].getBoundingClientRect().top + window.pageYOffset;
        window.scrollTo(0, Math.max(0, top - (head ? head.offsetHeight : 0) - 8));
      }
    }

    function setMode(on) {
      html.classList.toggle("focus-mode", on);
      html.classList.remove("topbar-open");
      if (toggle) { toggle.setAttribute("aria-pressed", String(on)); }
      if (menu) { menu.hidden = !on; menu.setAttribute("aria-expanded", "false"); }
      show(current, false);
    }

    // "Failed only" / "With a note or comment" hide the other items (nothing is lost); "All items" shows them again.
    var filter = "all";
    function commented(article) {
      var note = article.querySelector("[data-note]");
      return !!(note && note.value.trim()) || article.classList.contains("item-commented") ||
        !!article.querySelector("[data-photos] li");
    }
    function applyFilter(name) {
      filter = name;
      Array.prototype.forEach.call(root.querySelectorAll("[data-filter]"), function (b) {
        b.setAttribute("aria-pressed", String(b.getAttribute("data-filter") === name));
      });
      Array.prototype.forEach.call(root.querySelectorAll("article.item"), function (article) {
        article.hidden = name === "failed" ? !(article.classList.contains("is-finding") || article.classList.contains("is-failed"))
          : name === "commented" ? !commented(article) : false;
      });
      // A section left with no item under the filter says so, rather than showing its title over nothing.
      var empty = message ? message.getAttribute("data-empty-" + name) : null;
      sections.forEach(function (section) {
        var note = section.querySelector("[data-filter-empty]");
        var shown = section.querySelector("article.item:not([hidden])");
        if (!note && empty) {
          note = document.createElement("p");
          note.className = "filter-empty";
          note.setAttribute("data-filter-empty", "");
          section.insertBefore(note, section.querySelector(".focus-steps"));  // above the section steps
        }
        if (note) {
          note.textContent = empty || "";
          note.hidden = !empty || !!shown;
        }
      });
    }

    function say(text) { if (message) { message.textContent = text || ""; } }

    // The next item without an answer after the one last touched (else the first one), in its section.
    function nextUnanswered() {
      if (filter !== "all") { applyFilter("all"); }
      var open = Array.prototype.slice.call(root.querySelectorAll("article.item:not(.is-answered)"));
      if (!open.length) { say(message ? message.getAttribute("data-done") : ""); return; }
      say("");
      var after = lastItem;
      var next = open.filter(function (el) {
        return after && (after.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
      })[0] || open[0];
      lastItem = next;
      var index = sectionIndexOf(next);
      if (index >= 0) { show(index, false); }
      next.scrollIntoView({block: "center"});
      var first = next.querySelector("button.ans, [data-answer-input]");
      if (first) { first.focus({preventScroll: true}); }
    }

    // A link to a section or an item of this page (chips, the finish page's links) shows its section first.
    function reveal(hash) {
      if (!hash || hash.length < 2) { return false; }
      var target = document.getElementById(decodeURIComponent(hash.slice(1)));
      var index = sectionIndexOf(target);
      if (index < 0) { return false; }
      if (target.hidden || (target.closest && target.closest("article.item[hidden]"))) { applyFilter("all"); }
      show(index, false);
      return true;
    }

    root.addEventListener("click", function (e) {
      var t = e.target.closest ? e.target.closest("button, a") : null;
      if (!t) { return; }
      if (t.hasAttribute("data-focus-toggle")) {
        var on = !isOn();
        try { window.localStorage.setItem(KEY, on ? "on" : "off"); } catch (err) { /* private mode: this page only */ }
        setMode(on);
        if (on) { show(current, true); }
      } else if (t.hasAttribute("data-topbar-toggle")) {
        var open = !html.classList.contains("topbar-open");
        html.classList.toggle("topbar-open", open);
        t.setAttribute("aria-expanded", String(open));
        if (open) { window.scrollTo(0, 0); }
      } else if (t.hasAttribute("data-focus-step")) {
        show(current + parseInt(t.getAttribute("data-focus-step"), 10), true);
      } else if (t.hasAttribute("data-filter")) {
        applyFilter(t.getAttribute("data-filter"));
      } else if (t.hasAttribute("data-next-unanswered")) {
        nextUnanswered();
      } else if (t.tagName === "A" && t.getAttribute("href") && t.getAttribute("href").charAt(0) === "#") {
        reveal(t.getAttribute("href"));  // the browser then scrolls to it, now that it is shown
      }
    });

    root.addEventListener("focusin", function (e) {
      var item = e.target.closest ? e.target.closest("article.item") : null;
      if (item) { lastItem = item; }
    });

    window.addEventListener("hashchange", function () {
      if (reveal(location.hash)) { document.getElementById(decodeURIComponent(location.hash.slice(1))).scrollIntoView(); }
    });

    // The sections drawn now (the offline form draws another inspection, or the same one again after a change).
    function refresh() {
      sections = Array.prototype.slice.call(root.querySelectorAll("section.insp-section[id^='sec-']"));
      applyFilter(filter);
      show(current, false);
    }

    // A newly opened inspection: every item shown, at the first section with an unanswered item (else the linked one).
    function start(hash) {
      filter = "all";
      lastItem = null;
      sections = Array.prototype.slice.call(root.querySelectorAll("section.insp-section[id^='sec-']"));
      applyFilter("all");
      if (!reveal(hash)) {
        var firstOpen = root.querySelector("article.item:not(.is-answered)");
        current = Math.max(0, sectionIndexOf(firstOpen));
      }
      setMode(stored());
    }

    Array.prototype.forEach.call(root.querySelectorAll("[data-focus-js]"), function (el) { el.hidden = false; });
    start(location.hash);
    if (isOn() && location.hash) {
      var linked = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (linked) { linked.scrollIntoView(); }
    }
    return { refresh: refresh, start: start, reveal: reveal, filter: function () { return filter; } };
  }

  global.QAFocus = { attach: attach };
  var online = document.getElementById("inspection");
  if (online) { attach(online); }
})(this);
