/* Finishing page: add and remove team rows (without JavaScript the page offers a fixed number of rows, empty
   optional ones included; with it, only the rows in use and "Add a person"). */
(function () {
  "use strict";

  function init() {
    // "Saved" is said once, where the page comes back after saving: the address loses ?saved=1 (a reload or a
    // return through the history must not say it again).
    if (/[?&]saved=1\b/.test(location.search) && window.history && history.replaceState) {
      var query = location.search.replace(/([?&])saved=1\b&?/, "$1").replace(/[?&]$/, "");
      history.replaceState(history.state, "", location.pathname + query + location.hash);
    }
    var container = document.getElementById("team-rows");
    var template = document.getElementById("team-row-template");
    var addButton = document.querySelector("[data-add-row]");
    if (!container || !template || !addButton) { return; }

    function bindRemove(row) {
      var button = row.querySelector("[data-remove-row]");
      if (!button) { return; }
      button.hidden = false;
      button.addEventListener("click", function () { row.remove(); });
    }

    container.querySelectorAll("[data-row]").forEach(bindRemove);
    // Optional rows nobody filled (deputy, members, secretary) go: "Add a person" brings one back. The server
    // ignores rows without a name, so nothing changes in what is saved; the head and the representative stay.
    container.querySelectorAll("[data-row]").forEach(function (row) {
      var role = row.querySelector("select");
      var filled = Array.prototype.some.call(row.querySelectorAll("input"), function (i) { return i.value.trim(); });
      var errors = row.querySelector(".field-error");
      if (role && role.value !== "head" && role.value !== "facility_rep" && !filled && !errors) { row.remove(); }
    });
    addButton.hidden = false;
    addButton.addEventListener("click", function () {
      var index = parseInt(container.getAttribute("data-next-index"), 10) || 0;
      container.setAttribute("data-next-index", String(index + 1));
      var fragment = template.content.cloneNode(true);
      // Indices only grow, so a removed row never collides with a new one (the server accepts gaps).
      fragment.querySelectorAll("[id], [name], [for]").forEach(function (el) {
        ["id", "name", "for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) { el.setAttribute(attr, value.replace("__INDEX__", String(index))); }
        });
      });
      var row = fragment.querySelector("[data-row]");
      container.appendChild(fragment);
      bindRemove(row);
      var input = row.querySelector("input");
      if (input) { input.focus(); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
