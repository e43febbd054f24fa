/* The supervisor's home page: the inspections kept on this tablet by the offline form and where each stands
 * (waiting to sync, refused by the server with the reason, synced), read from the offline form's IndexedDB
 * database for the signed-in user. It only reads: it never creates the database, changes a record or syncs
 * (the offline form does that). The states are offline-records.js's, the same as on the offline page.
 */
(function () {
  "use strict";

  var box = document.querySelector("[data-device-sync]");
  if (!box || !window.indexedDB || !window.QAOfflineRecords || !indexedDB.databases) { return; }
  var T = JSON.parse(document.getElementById("device-sync-strings").textContent);
  var Records = window.QAOfflineRecords;
  var NAME = Records.DB_PREFIX + box.getAttribute("data-user-id");

  function say(key, params) {
    var text = T[key] || "";
    Object.keys(params || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(params[name])); });
    return text;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function all(db, name, keysOnly) {
    return new Promise(function (resolve, reject) {
      if (!db.objectStoreNames.contains(name)) { resolve([]); return; }
      var store = db.transaction(name, "readonly").objectStore(name);
      var request = keysOnly ? store.getAllKeys() : store.getAll();
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function showDate(iso) {
    var p = String(iso || "").split("-");
    return p.length === 3 ? p[2] + "/" + p[1] + "/" + p[0] : String(iso || "");
  }

  function render(records, photos, checklistKeys, bundleKeys) {
    var list = box.querySelector("[data-device-list]");
    list.textContent = "";
    records.sort(function (a, b) { return a.created_at < b.created_at ? 1 : -1; }).forEach(function (rec) {
      var own = photos.filter(function (p) { return p.inspection_uuid === rec.uuid; });
      var c = rec.checklist || {};
      var prefix = c.code + "@" + c.version + "@";
      var hasChecklist = checklistKeys.some(function (k) { return c.sha256 ? k === prefix + c.sha256 : String(k).indexOf(prefix) === 0; });
      var usable = hasChecklist && !!(rec.profile || bundleKeys.some(function (k) { return String(k) === String(rec.facility.id); }));
      var state = Records.state(rec, own, usable);
      // Never sent yet ("on this tablet only") is pending work too: both say how much waits.
      var text = Records.statusText(state, Records.changeCount(rec, own), say);
      var why = Records.reasons(rec, own);
      list.appendChild(el("li", { "class": "device-entry", "data-uuid": rec.uuid }, [
        el("div", {}, [el("strong", { text: rec.facility.name }), el("br"),
          el("span", { "class": "muted", text: showDate(rec.inspection_date) })]),
        el("span", { "class": "device-state", "data-state": state, text: text }),
        why.length ? el("ul", { "class": "device-reasons", "data-device-reasons": "" },
          why.map(function (m) { return el("li", { text: m }); })) : null,
        el("a", { "class": "btn touch-link", href: box.getAttribute("data-offline-url") + "#/i/" + rec.uuid, text: T.open })
      ]));
    });
    box.hidden = records.length === 0;
  }

  indexedDB.databases().then(function (dbs) {
    if (!dbs.some(function (d) { return d.name === NAME; })) { return; }  // nothing kept on this tablet
    var request = indexedDB.open(NAME);  // no version: never an upgrade from here
    // Cleared between databases() and open(): opening would create an empty version 1, which the offline page
    // would then try to upgrade as an old one. Abort instead: nothing is kept.
    request.onupgradeneeded = function () { request.transaction.abort(); };
    request.onsuccess = function () {
      var db = request.result;
      db.onversionchange = function () { db.close(); };  // never hold up the offline page's upgrade
      Promise.all([all(db, "inspections"), all(db, "photos"), all(db, "checklists", true), all(db, "bundles", true)])
        .then(function (r) { render(r[0], r[1], r[2], r[3]); })
        .catch(function () { /* unreadable: the offline page says more */ })
        .then(function () { db.close(); });
    };
  });
})();
