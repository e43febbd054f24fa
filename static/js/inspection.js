/* Autosave of the inspection form.
 *
 * Every tap is sent at once (PUT /api/v1/inspections/<id>/answers/<item>), notes and typed values after a
 * short pause and on leaving the field. Unsent changes live in localStorage (per user and inspection) until
 * the server confirms them, so a reload, a closed tab or a lost connection loses nothing: on load they are
 * shown again and resent with the revision they were based on, and a stale one becomes a visible conflict
 * instead of a silent overwrite. Without this script the page still works: each item is its own form.
 */
(function () {
  "use strict";

  var root = document.getElementById("inspection");
  if (!root || !window.fetch || !window.JSON) { return; }

  var T = JSON.parse(document.getElementById("inspection-i18n").textContent);
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var api = root.getAttribute("data-api");
  var photosApi = root.getAttribute("data-photos-api");
  var photoDeleteApi = root.getAttribute("data-photo-delete-api");
  var storageKey = "qa-inspection:v1:" + root.getAttribute("data-user-id") + ":" + root.getAttribute("data-inspection-id");
  var statusEl = root.querySelector("[data-save-status]");
  var NOTE_DELAY = 800;
  var MAX_SIDE = 1600;

  var items = {};        // item id -> {el, revision, value, note} as last confirmed by the server
  var pending = {};      // item id -> {value?, note?, base, seq}: not yet confirmed (mirrored to localStorage)
  var inflight = {};     // item id -> true while a PUT is on its way
  var conflicts = {};    // item id -> the other writer's state
  var errors = {};       // item id -> message of a refused value
  var timers = {};       // item id -> debounce timer
  var uploads = 0;       // photos not yet confirmed
  var network = "ok";    // ok | offline | signedOut | expired | locked
  var retryTimer = null;
  var retryDelay = 1000;
  var lastRevision = parseInt(root.getAttribute("data-revision"), 10) || 0;

  root.classList.add("js");

  // The rules (applicability, running score, classification) are QAEngine's, static/js/qa-engine.js: the same
  // module as the offline form's, held to the server's by the parity test. The page carries the whole checklist
  // version and the facility profile of this inspection.
  var engineNode = document.getElementById("inspection-engine");
  var engine = engineNode && window.QAEngine ? JSON.parse(engineNode.textContent) : null;
  var LANG = document.documentElement.lang === "en" ? "en" : "vi";
  // The checklist's items by id: a typed answer is checked as the server will, with the offline form's messages.
  var itemDefs = {};
  if (engine) { engine.checklist.sections.forEach(function (s) { s.items.forEach(function (i) { itemDefs[i.id] = i; }); }); }

  Array.prototype.forEach.call(root.querySelectorAll("article.item"), function (el) {
    var id = el.getAttribute("data-item");
    var note = el.querySelector("[data-note]");
    items[id] = {
      el: el,
      revision: parseInt(el.getAttribute("data-revision"), 10) || 0,
      value: el.getAttribute("data-value") || null,
      note: note ? note.value : ""
    };
  });

  // ------------------------------------------------------------------------------------------- storage

  function load() {
    try {
      var data = JSON.parse(window.localStorage.getItem(storageKey) || "null");
      return (data && data.pending) || {};
    } catch (e) {
      return {};
    }
  }

  function persist() {
    try {
      if (Object.keys(pending).length) {
        window.localStorage.setItem(storageKey, JSON.stringify({pending: pending, at: Date.now()}));
      } else {
        window.localStorage.removeItem(storageKey);
      }
    } catch (e) { /* private mode or full: the in-memory queue still works while the page is open */ }
  }

  // ------------------------------------------------------------------------------------------- UI helpers

  function articleOf(node) { return node && node.closest ? node.closest("article.item") : null; }

  function showValue(id, value) {
    var it = items[id];
    Array.prototype.forEach.call(it.el.querySelectorAll("button.ans"), function (b) {
      b.setAttribute("aria-pressed", value !== null && value !== undefined && b.getAttribute("data-value") === String(value) ? "true" : "false");
    });
    var input = it.el.querySelector("[data-answer-input]");
    if (input) { input.value = value === null || value === undefined || value === "na" && input.tagName === "INPUT" ? "" : String(value); }
  }

  function showNote(id, note) {
    var ta = items[id].el.querySelector("[data-note]");
    if (ta) { ta.value = note || ""; }
    if (note) { openExtra(items[id].el); }
  }

  // The item's note and photos (folded away until used, like on the offline form).
  function openExtra(el) {
    var extra = el.querySelector("[data-extra]");
    if (extra) { extra.open = true; }
  }

  function valueLabel(id, value) {
    if (value === null || value === undefined || value === "") { return T.notAnswered; }
    var button = items[id].el.querySelector('button.ans[data-value="' + String(value).replace(/"/g, "") + '"]');
    if (button) { return button.textContent.replace(/\s+/g, " ").trim(); }
    if (value === "na") { return T.na; }
    return String(value);
  }

  function markItem(id) {
    var it = items[id];
    if (!it) { return; }
    var el = it.el;
    el.classList.toggle("is-pending", !!pending[id] && !conflicts[id]);
    el.classList.toggle("is-conflict", !!conflicts[id]);
    el.classList.toggle("is-error", !!errors[id]);
    el.classList.toggle("is-answered", it.value !== null && it.value !== "" || !!(pending[id] && "value" in pending[id] && pending[id].value !== ""));
    // A failed item must not look "done and fine" at a glance: its border turns orange, not green.
    var shown = pending[id] && "value" in pending[id] ? pending[id].value : it.value;
    el.classList.toggle("is-failed", shown === "not_met");
    var status = el.querySelector("[data-item-status]");
    if (status) {
      status.textContent = errors[id] || (pending[id] && !conflicts[id] ? (inflight[id] ? T.saving : T.pending) : "");
    }
    var base = el.querySelector("[data-base-revision]");
    if (base) { base.value = String(it.revision); }
    updateStatus();
  }

  function updateStatus() {
    var state;
    if (network === "locked") { state = "locked"; }
    else if (Object.keys(conflicts).length) { state = "conflict"; }
    else if (Object.keys(errors).length) { state = "error"; }
    else if (network === "signedOut") { state = "signedOut"; }
    else if (network === "expired") { state = "expired"; }
    else if (network === "offline") { state = "offline"; }
    else if (Object.keys(pending).length || Object.keys(inflight).length || uploads) { state = "saving"; }
    else { state = "saved"; }
    if (statusEl && statusEl.getAttribute("data-state") !== state) {
      statusEl.setAttribute("data-state", state);
      statusEl.textContent = T[state];
    }
  }

  function setText(selector, text) {
    Array.prototype.forEach.call(root.querySelectorAll(selector), function (el) { el.textContent = text; });
  }

  // The header from the answers on this device, saved or still waiting: it stays right offline too.
  function localScore() {
    if (!engine) { return false; }
    var values = {};
    Object.keys(items).forEach(function (id) {
      var p = pending[id];
      values[id] = p && "value" in p ? p.value : items[id].value;
    });
    var s = QAEngine.score(engine.checklist, engine.profile, values);
    var c = s.classification || s.provisional_classification;
    setText("[data-progress]", s.answered_count + "/" + s.applicable_count);
    setText("[data-score]", QAEngine.percentText(s.overall_percent, LANG));
    var cls = root.querySelector("[data-class]");
    if (cls) {
      cls.textContent = c ? T["cls_" + c] : "—";
      cls.className = "cls cls-" + (c || "none");
    }
    var provisional = root.querySelector("[data-provisional]");
    if (provisional) { provisional.hidden = s.complete; }
    // A finding by the checklist's rules (a low scale level or option too, not only "not met"): "Failed only".
    Object.keys(items).forEach(function (id) {
      items[id].el.classList.toggle("is-finding", !!(s.items[id] && s.items[id].failed));
    });
    s.sections.forEach(function (sec) {
      if (!sec.applicable) { return; }
      setText('[data-section-progress="' + sec.id + '"]', sec.answered + "/" + sec.applicable);
      setText('[data-section-percent="' + sec.id + '"]', QAEngine.percentText(sec.percent, LANG));
      var nav = root.querySelector('[data-nav="' + sec.id + '"]');
      if (nav) { nav.classList.toggle("done", sec.answered === sec.applicable); }
    });
    return true;
  }

  function applyScore(data) {
    if (!data || !data.score || !data.inspection) { return; }
    // Responses can overtake each other: only a newer inspection revision may repaint the header.
    if (data.inspection.revision < lastRevision) { return; }
    lastRevision = data.inspection.revision;
    if (localScore()) { return; }
    var s = data.score;
    var set = function (selector, text) {
      Array.prototype.forEach.call(root.querySelectorAll(selector), function (el) { el.textContent = text; });
    };
    set("[data-progress]", s.display.progress);
    set("[data-score]", s.display.overall);
    var cls = root.querySelector("[data-class]");
    if (cls) {
      cls.textContent = s.display.classification;
      cls.className = "cls cls-" + (s.classification || s.provisional_classification || "none");
    }
    Object.keys(s.section_progress || {}).forEach(function (sid) {
      var p = s.section_progress[sid];
      set('[data-section-progress="' + sid + '"]', p.answered + "/" + p.applicable);
      set('[data-section-percent="' + sid + '"]', p.percent_display);
      var nav = root.querySelector('[data-nav="' + sid + '"]');
      if (nav) { nav.classList.toggle("done", p.answered === p.applicable); }
    });
  }

  // ------------------------------------------------------------------------------------------- queue

  function enqueue(id, field, value) {
    var p = pending[id];
    if (!p) { p = pending[id] = {base: items[id].revision, seq: 0}; }
    p[field] = value;
    p.seq += 1;
    delete errors[id];
    persist();
    markItem(id);
    localScore();
  }

  function later(id) {
    window.clearTimeout(timers[id]);
    timers[id] = window.setTimeout(function () { delete timers[id]; sendItem(id); }, NOTE_DELAY);
  }

  function sendItem(id) {
    window.clearTimeout(timers[id]);
    delete timers[id];
    if (pending[id] && !inflight[id] && !conflicts[id] && !pending[id].hold && network !== "locked" && network !== "expired") {
      send(id);
    }
  }

  function flush() {
    Object.keys(pending).forEach(sendItem);
    updateStatus();
  }

  function scheduleRetry() {
    if (retryTimer) { return; }
    retryTimer = window.setTimeout(function () { retryTimer = null; flush(); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 15000);
  }

  function request(method, url, body, isForm) {
    var headers = {"X-CSRFToken": csrf, "Accept": "application/json"};
    if (body && !isForm) { headers["Content-Type"] = "application/json"; }
    return window.fetch(url, {
      method: method, credentials: "same-origin", headers: headers,
      body: body ? (isForm ? body : JSON.stringify(body)) : undefined
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return {status: r.status, data: data}; });
    });
  }

  function sameAsCurrent(p, current) {
    // A lost response: the server already holds exactly what this change wanted to write.
    if (!current || !current.revision) { return false; }
    if ("value" in p && String(p.value === null ? "" : p.value) !== String(current.value === null ? "" : current.value)) { return false; }
    if ("note" in p && (p.note || "").trim() !== (current.note || "")) { return false; }
    return true;
  }

  function confirmSaved(id, answer, seq) {
    var it = items[id];
    it.revision = answer.revision;
    it.value = answer.value;
    it.note = answer.note;
    var p = pending[id];
    if (p && p.seq === seq) {
      delete pending[id];
    } else if (p) {
      p.base = answer.revision;  // edited again meanwhile: the next send builds on what was just saved
    }
    persist();
  }

  function send(id) {
    var p = pending[id];
    var seq = p.seq;
    var body = {base_revision: p.base};
    if ("value" in p) { body.value = p.value; }
    if ("note" in p) { body.note = p.note; }
    inflight[id] = true;
    markItem(id);
    request("PUT", api + "/answers/" + encodeURIComponent(id), body).then(function (res) {
      delete inflight[id];
      handle(id, seq, res);
      markItem(id);
      if (pending[id] && !timers[id]) { sendItem(id); }
    }, function () {
      delete inflight[id];
      network = "offline";
      markItem(id);
      scheduleRetry();
    });
  }

  function handle(id, seq, res) {
    var data = res.data || {};
    var p = pending[id];
    if (res.status === 200) {
      network = "ok";
      retryDelay = 1000;
      confirmSaved(id, data.answer, seq);
      applyScore(data);
    } else if (res.status === 409 && data.error === "conflict") {
      network = "ok";
      if (p && sameAsCurrent(p, data.current)) {
        confirmSaved(id, {revision: data.current.revision, value: data.current.value, note: data.current.note}, seq);
      } else {
        conflicts[id] = data.current || {revision: 0};
        showConflict(id);
      }
    } else if (res.status === 409 && data.error === "locked") {
      network = "locked";
      pending = {};
      persist();
    } else if (res.status === 401) {
      network = "signedOut";
      scheduleRetry();
    } else if (res.status === 400 && data.error === "csrf") {
      network = "expired";
    } else if (res.status === 403 || res.status === 404) {
      errors[id] = data.message || String(res.status);
      if (p) { p.hold = true; }
    } else if (res.status >= 400 && res.status < 500) {
      // A refused value will be refused again: drop it and show what the server holds.
      errors[id] = data.message || String(res.status);
      delete pending[id];
      persist();
      showValue(id, items[id].value);
      showNote(id, items[id].note);
    } else {
      network = "offline";
      scheduleRetry();
    }
  }

  // ------------------------------------------------------------------------------------------- conflicts

  function showConflict(id) {
    var it = items[id];
    var current = conflicts[id];
    var p = pending[id] || {};
    var box = it.el.querySelector("[data-conflict]");
    box.textContent = "";
    var theirs = document.createElement("p");
    if (current.revision) {
      theirs.textContent = T.changedBy.replace("{name}", current.updated_by || T.someone)
        .replace("{time}", current.updated_at_display || "") + " " + (current.value_label || valueLabel(id, current.value)) +
        (current.note ? " — " + T.noteLabel + ": " + current.note : "");
    } else {
      theirs.textContent = T.deletedMeanwhile;
    }
    var mine = document.createElement("p");
    mine.textContent = T.yours + " " + ("value" in p ? valueLabel(id, p.value) : valueLabel(id, it.value)) +
      ("note" in p && p.note ? " — " + T.noteLabel + ": " + p.note : "");
    var keep = document.createElement("button");
    keep.type = "button";
    keep.className = "btn";
    keep.textContent = T.keepTheirs;
    keep.addEventListener("click", function () { resolve(id, "theirs"); });
    var use = document.createElement("button");
    use.type = "button";
    use.className = "btn btn-primary";
    use.textContent = T.useMine;
    use.addEventListener("click", function () { resolve(id, "mine"); });
    var buttons = document.createElement("div");
    buttons.className = "conflict-buttons";
    buttons.appendChild(keep);
    buttons.appendChild(use);
    box.appendChild(theirs);
    box.appendChild(mine);
    box.appendChild(buttons);
    box.hidden = false;
  }

  function resolve(id, choice) {
    var current = conflicts[id];
    var it = items[id];
    delete conflicts[id];
    it.el.querySelector("[data-conflict]").hidden = true;
    it.revision = current.revision || 0;
    if (choice === "theirs") {
      it.value = current.revision ? current.value : null;
      it.note = current.revision ? current.note || "" : "";
      delete pending[id];
      persist();
      showValue(id, it.value);
      showNote(id, it.note);
      markItem(id);
    } else {
      if (pending[id]) {
        pending[id].base = it.revision;
        persist();
      }
      markItem(id);
      sendItem(id);
    }
  }

  // ------------------------------------------------------------------------------------------- refresh

  function refresh() {
    request("GET", api).then(function (res) {
      if (res.status === 401) { network = "signedOut"; updateStatus(); return; }
      if (res.status !== 200) { return; }
      var data = res.data;
      if (data.inspection && data.inspection.editable === false) { network = "locked"; }
      Object.keys(data.answers || {}).forEach(function (id) {
        var a = data.answers[id];
        var it = items[id];
        if (!it || pending[id] || inflight[id] || conflicts[id] || a.revision <= it.revision) { return; }
        // Someone else saved this item since the page was drawn: show their answer.
        it.revision = a.revision;
        it.value = a.value;
        it.note = a.note;
        showValue(id, a.value);
        showNote(id, a.note);
        markItem(id);
      });
      syncPhotos(data.photos || []);
      applyScore(data);
      updateStatus();
    }, function () { /* offline: the queue retries on its own */ });
  }

  // ------------------------------------------------------------------------------------------- photos

  function uuid4() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function resize(file) {
    // Re-encode on the tablet (longest side 1600 px, JPEG 0.8): a 4 MB camera photo becomes ~300 kB on 3G.
    return new Promise(function (resolveBlob) {
      if (!/^image\//.test(file.type) || !window.URL || !document.createElement("canvas").toBlob) {
        resolveBlob(file);
        return;
      }
      var url = window.URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        window.URL.revokeObjectURL(url);
        var w = img.naturalWidth;
        var h = img.naturalHeight;
        var scale = Math.min(1, MAX_SIDE / Math.max(w, h));
        if (!w || !h) { resolveBlob(file); return; }
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(w * scale));
        canvas.height = Math.max(1, Math.round(h * scale));
        var ctx = canvas.getContext("2d");
        ctx.fillStyle = "#fff";  // transparent PNG areas would turn black in a JPEG
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) { resolveBlob(blob || file); }, "image/jpeg", 0.8);
      };
      img.onerror = function () { window.URL.revokeObjectURL(url); resolveBlob(file); };
      img.src = url;
    });
  }

  function thumbnail(id, photo) {
    var li = document.createElement("li");
    li.setAttribute("data-photo", photo.uuid);
    var a = document.createElement("a");
    a.href = photo.url;
    a.target = "_blank";
    a.rel = "noopener";
    var img = document.createElement("img");
    img.src = photo.thumb_url || photo.url;
    img.alt = T.photoAlt.replace("{item}", id);
    img.width = 96;
    img.height = 72;
    a.appendChild(img);
    var del = document.createElement("button");
    del.type = "submit";
    del.name = "delete_photo";
    del.value = photo.uuid;
    del.className = "photo-del";
    del.setAttribute("aria-label", T.deletePhoto);
    del.title = T.deletePhoto;
    del.textContent = "✕";
    li.appendChild(a);
    li.appendChild(del);
    return li;
  }

  function upload(id, uuid, blob, li, delay) {
    var form = new FormData();
    form.append("item_id", id);
    form.append("client_uuid", uuid);
    form.append("file", blob, "photo-" + id + ".jpg");
    request("POST", photosApi, form, true).then(function (res) {
      if (res.status === 200 || res.status === 201) {
        uploads -= 1;
        li.parentNode.replaceChild(thumbnail(id, res.data.photo), li);
        updateStatus();
      } else if (res.status >= 500 || res.status === 401) {
        li.querySelector("span").textContent = T.photoRetry;
        window.setTimeout(function () { upload(id, uuid, blob, li, Math.min(delay * 2, 30000)); }, delay);
      } else {
        uploads -= 1;
        li.parentNode.removeChild(li);
        errors[id] = T.photoFailed.replace("{reason}", (res.data && res.data.message) || String(res.status));
        markItem(id);
      }
    }, function () {
      li.querySelector("span").textContent = T.photoRetry;
      window.setTimeout(function () { upload(id, uuid, blob, li, Math.min(delay * 2, 30000)); }, delay);
    });
  }

  function addPhotos(input) {
    var el = articleOf(input);
    var id = el.getAttribute("data-item");
    var list = el.querySelector("[data-photos]");
    var files = Array.prototype.slice.call(input.files || []);
    input.value = "";
    delete errors[id];
    markItem(id);
    if (files.length) { openExtra(el); }
    files.forEach(function (file) {
      var uuid = uuid4();
      var li = document.createElement("li");
      li.className = "uploading";
      li.setAttribute("data-photo", uuid);
      var span = document.createElement("span");
      span.textContent = T.uploading;
      li.appendChild(span);
      list.appendChild(li);
      uploads += 1;
      updateStatus();
      resize(file).then(function (blob) { upload(id, uuid, blob, li, 2000); });
    });
  }

  function deletePhoto(button) {
    if (!window.confirm(T.confirmDelete)) { return; }
    var li = button.closest("li");
    var id = articleOf(button).getAttribute("data-item");
    request("DELETE", photoDeleteApi.replace("__uuid__", encodeURIComponent(button.value))).then(function (res) {
      if (res.status === 200 || res.status === 404) {
        li.parentNode.removeChild(li);
      } else {
        errors[id] = (res.data && res.data.message) || String(res.status);
        markItem(id);
      }
    }, function () {
      network = "offline";
      updateStatus();
    });
  }

  function syncPhotos(photos) {
    var byItem = {};
    photos.forEach(function (p) { (byItem[p.item_id] = byItem[p.item_id] || []).push(p); });
    Object.keys(items).forEach(function (id) {
      var list = items[id].el.querySelector("[data-photos]");
      if (!list) { return; }
      var known = {};
      (byItem[id] || []).forEach(function (p) { known[p.uuid] = p; });
      Array.prototype.forEach.call(list.querySelectorAll("li[data-photo]:not(.uploading)"), function (li) {
        var uuid = li.getAttribute("data-photo");
        if (!known[uuid]) { list.removeChild(li); } else { delete known[uuid]; }
      });
      Object.keys(known).forEach(function (uuid) {
        if (!list.querySelector('li[data-photo="' + uuid + '"]')) { list.appendChild(thumbnail(id, known[uuid])); }
      });
    });
  }

  // ------------------------------------------------------------------------------------------- events

  root.addEventListener("submit", function (e) { e.preventDefault(); });

  root.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("button") : null;
    if (!button || !root.contains(button)) { return; }
    if (button.classList.contains("ans")) {
      e.preventDefault();
      var id = articleOf(button).getAttribute("data-item");
      var value = button.getAttribute("data-value");
      if (conflicts[id]) { return; }
      showValue(id, value);
      enqueue(id, "value", value);
      sendItem(id);
    } else if (button.classList.contains("photo-del")) {
      e.preventDefault();
      deletePhoto(button);
    }
  });

  root.addEventListener("input", function (e) {
    var t = e.target;
    var el = articleOf(t);
    if (!el) { return; }
    var id = el.getAttribute("data-item");
    if (t.hasAttribute("data-note")) {
      enqueue(id, "note", t.value);
      later(id);
    } else if (t.hasAttribute("data-answer-input")) {
      var value = t.value;
      if (el.getAttribute("data-type") === "number") {
        value = value.replace(",", ".").trim();  // Vietnamese keyboards type a decimal comma
        var na = el.querySelector("button.ans-na");
        if (na) { na.setAttribute("aria-pressed", "false"); }
      }
      // A value the server would refuse is shown at once under the item and never kept nor sent.
      var problem = itemDefs[id] && window.QAForm ? QAForm.typedProblem(itemDefs[id], value, T, LANG) : "";
      t.setAttribute("aria-invalid", String(!!problem));
      if (problem) {
        // Drop what earlier keystrokes queued ("12" before "12a"): the server must not keep a value the
        // supervisor is still typing, nor one the screen shows as refused.
        var queued = pending[id];
        if (queued && "value" in queued && !inflight[id]) {
          delete queued.value;
          if (!("note" in queued)) {
            window.clearTimeout(timers[id]);
            delete timers[id];
            delete pending[id];
          }
          persist();
        }
        errors[id] = problem;
        markItem(id);
        return;
      }
      enqueue(id, "value", value);
      later(id);
    }
  });

  root.addEventListener("focusout", function (e) {
    var t = e.target;
    if (t.hasAttribute && (t.hasAttribute("data-note") || t.hasAttribute("data-answer-input"))) {
      var el = articleOf(t);
      if (el) { sendItem(el.getAttribute("data-item")); }
    }
  });

  root.addEventListener("change", function (e) {
    if (e.target.hasAttribute && e.target.hasAttribute("data-photo-input")) { addPhotos(e.target); }
  });

  window.addEventListener("online", function () {
    window.clearTimeout(retryTimer);
    retryTimer = null;
    retryDelay = 1000;
    flush();
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { flush(); refresh(); }
  });

  window.addEventListener("beforeunload", function (e) {
    // Answers survive in localStorage; photos being uploaded do not.
    if (uploads > 0) { e.preventDefault(); e.returnValue = ""; }
  });

  // ------------------------------------------------------------------------------------------- start

  var stored = load();
  Object.keys(stored).forEach(function (id) {
    if (!items[id]) { return; }  // no longer on this form (e.g. the inspection was reopened elsewhere)
    var p = stored[id];
    pending[id] = {base: p.base || 0, seq: p.seq || 1};
    if ("value" in p) { pending[id].value = p.value; showValue(id, p.value); }
    if ("note" in p) { pending[id].note = p.note; showNote(id, p.note); }
    markItem(id);
  });
  persist();
  Object.keys(items).forEach(markItem);
  if (engine && QAEngine.applicableIds(engine.checklist, engine.profile).join("\n") !== Object.keys(items).join("\n")) {
    // The page and the rules disagree on the items (an out-of-date script): trust the server's header instead.
    engine = null;
    root.setAttribute("data-engine", "mismatch");
  }
  localScore();
  flush();
  refresh();
})();
