/* Offline inspections (page /offline/, see docs/offline.md).
 *
 * Everything the supervisor enters is written first to IndexedDB, in a database named after the signed-in
 * user ("qa-offline:v1:<user id>"), so it survives a closed browser and another user of the same tablet never
 * sees it. Each inspection record keeps:
 *   answers/team/actions/opinion/signatures  what was entered, as entered;
 *   server   the inspection as the server last confirmed it (the "bases" of the next sync);
 *   dirty    what changed since, with the edit sequence number of the last change;
 *   pending  the exact request being sent and its Idempotency-Key, kept until the server answers, so a retry
 *            after a dropped connection (even after closing the page) resends the same request and the server
 *            replays its answer instead of applying it twice.
 * Sync: POST /api/v1/sync/inspections (whole inspection), then photos (idempotent by their uuid), then the
 * submission once every photo is on the server. Conflicts come back with both versions; the supervisor chooses.
 */
(function () {
  "use strict";

  var root = document.getElementById("offline-app");
  if (!root) { return; }
  var T = JSON.parse(document.getElementById("offline-strings").textContent);
  var USER = Number(root.dataset.userId);
  var USER_NAME = root.dataset.userName;
  var LANG = root.dataset.lang === "en" ? "en" : "vi";
  var API = root.dataset.api;
  var FORM_URL = root.dataset.formUrl;
  var FORM_VERSION = root.dataset.formVersion;  // of the templates and translations that draw a kept form
  var DB_PREFIX = window.QAOfflineRecords.DB_PREFIX;
  var PHOTO_SIDE = 1600;

  var db = null;
  var bundles = {};      // facility id -> bundle
  var checklists = {};   // "code@version" -> checklist
  var records = {};      // uuid -> inspection record
  var photos = {};       // uuid -> photo record
  var current = null;    // uuid of the open inspection
  var csrf = "";
  var syncing = false;
  var syncState = null;  // null, "offline", "signedOut", "otherUser", "error"
  var otherName = "";
  var retryDelay = 2000;
  var retryTimer = null;
  var syncTimer = null;
  var focus = null;      // QAFocus (static/js/form-focus.js): focused mode, filters and "next unanswered"
  var startChoices = {};  // facility id -> {kind, programme} chosen in the list of prepared facilities

  // ------------------------------------------------------------------------------------------ helpers

  function t(key, params) {
    var text = T[key] || key;
    Object.keys(params || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(params[name])); });
    return text;
  }

  function txt(value) { return value ? (value[LANG] || value.vi || "") : ""; }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) { return; }
      if (name === "text") { node.textContent = value; } else { node.setAttribute(name, value === true ? "" : value); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(typeof child === "string" ? document.createTextNode(child) : child); } });
    return node;
  }

  function q(selector, scope) { return (scope || root).querySelector(selector); }

  function uuid4() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function today() {
    var d = new Date();
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  function addDays(iso, days) {
    var d = new Date(iso + "T00:00:00");
    d.setDate(d.getDate() + days);
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  function showDate(iso) {
    var p = (iso || "").slice(0, 10).split("-");
    return p.length === 3 ? p[2] + "/" + p[1] + "/" + p[0] : iso;
  }

  // ------------------------------------------------------------------------------------------ IndexedDB

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_PREFIX + USER, 2);
      request.onupgradeneeded = function (event) {
        var d = request.result;
        if (event.oldVersion < 1) {
          d.createObjectStore("bundles", { keyPath: "facility.id" });
          d.createObjectStore("checklists", { keyPath: "key" });
          d.createObjectStore("inspections", { keyPath: "uuid" });
          d.createObjectStore("photos", { keyPath: "uuid" });
        } else {
          // Version 1 kept a checklist already filtered for one facility under "code@version", so preparing a
          // second facility replaced the first one's items. Those copies cannot be trusted: the facilities are
          // prepared again (the inspections and photos are kept, and find their checklist once it is back).
          request.transaction.objectStore("bundles").clear();
          request.transaction.objectStore("checklists").clear();
        }
      };
      request.onsuccess = function () {
        var d = request.result;
        // A newer version of the app in another tab must be able to upgrade the database: let go of it.
        d.onversionchange = function () { d.close(); };
        resolve(d);
      };
      request.onerror = function () { reject(request.error); };
      request.onblocked = function () { q("[data-sw-state]").textContent = T.blocked; };
    });
  }

  function store(name, mode, action) {
    return new Promise(function (resolve, reject) {
      var tx = db.transaction(name, mode);
      var result;
      var request = action(tx.objectStore(name));
      if (request) { request.onsuccess = function () { result = request.result; }; }
      tx.oncomplete = function () { resolve(result); };
      tx.onerror = function () { reject(tx.error); };
      tx.onabort = function () { reject(tx.error); };
    });
  }

  function getAll(name) { return store(name, "readonly", function (s) { return s.getAll(); }); }
  function put(name, value) { return store(name, "readwrite", function (s) { return s.put(value); }); }
  function del(name, key) { return store(name, "readwrite", function (s) { return s.delete(key); }); }

  function saveRecord(rec) { return put("inspections", rec); }

  // ------------------------------------------------------------------------------------------ records

  function emptyServer() {
    return { inspection: null, answers: {}, team: [], corrective_actions: [], facility_opinion: "", signatures: {}, photos: [] };
  }

  function serverOf(rec) { return rec.server || emptyServer(); }

  // What a record still owes the server and its state: static/js/offline-records.js (shared with the home page).
  var Records = window.QAOfflineRecords;

  function statusOnServer(rec) { return Records.statusOnServer(rec); }

  function isLockedLocally(rec) {
    var status = statusOnServer(rec);
    return rec.submitRequested || status === "submitted" || status === "approved";
  }

  function photosOf(rec) {
    return Object.keys(photos).map(function (k) { return photos[k]; })
      .filter(function (p) { return p.inspection_uuid === rec.uuid; });
  }

  function photosWaiting(rec) { return photosOf(rec).filter(function (p) { return !p.uploaded && !p.refused; }); }

  function hasDirty(rec) { return Records.hasDirty(rec); }

  function changeCount(rec) { return Records.changeCount(rec, photosOf(rec)); }

  function checklistKey(c) { return c.code + "@" + c.version + "@" + c.sha256; }

  function checklistOf(rec) {
    if (rec.checklist.sha256) { return checklists[checklistKey(rec.checklist)]; }
    // Started before the checklist was keyed by its hash: any copy of the same version will do (same content).
    var prefix = rec.checklist.code + "@" + rec.checklist.version + "@";
    var key = Object.keys(checklists).filter(function (k) { return k.indexOf(prefix) === 0; })[0];
    return key ? checklists[key] : null;
  }

  // The facility as it was when the inspection was started (or last refreshed): applicability depends on it.
  function profileOf(rec) {
    if (rec.profile) { return rec.profile; }
    var b = bundles[rec.facility.id];
    return b ? b.profile : null;
  }

  // The rules are QAEngine's (static/js/qa-engine.js), the same module as the online form's and the same rules as
  // the server's: applicability is never decided anywhere else on the tablet.
  function scoreOf(rec) {
    var checklist = checklistOf(rec), profile = profileOf(rec);
    if (!checklist || !profile) { return null; }
    var values = {};
    Object.keys(rec.answers).forEach(function (id) { values[id] = rec.answers[id].value; });
    return QAEngine.score(checklist, profile, values);
  }

  function applicableHashOf(rec) {
    var checklist = checklistOf(rec), profile = profileOf(rec);
    return checklist && profile ? QAEngine.applicableHash(checklist, profile) : null;
  }

  // The applicable items, in checklist order.
  function itemsOf(rec) {
    var list = [];
    var checklist = checklistOf(rec), profile = profileOf(rec);
    if (!checklist || !profile) { return list; }
    checklist.sections.forEach(function (s) {
      s.items.forEach(function (i) { if (QAEngine.itemApplies(i, s, profile)[0]) { list.push(i); } });
    });
    return list;
  }

  // The version's form as the server draws it (templates/inspections/_section.html and _item.html, the online
  // form's own templates), kept with the version in both languages (a copy kept before it travelled has none).
  function formHtml(checklist) {
    var forms = checklist && checklist.forms;
    return forms ? forms[LANG] || forms.vi || null : null;
  }

  // Ready to work on: the checklist, its drawn form and the facility profile are on the tablet.
  function usable(rec) { return !!(checklistOf(rec) && profileOf(rec) && formHtml(checklistOf(rec))); }

  function failingItems(rec) {
    return itemsOf(rec).filter(function (item) {
      var a = rec.answers[item.id];
      return a && a.value !== null && a.value !== undefined && item.fails.indexOf(String(a.value)) !== -1;
    });
  }

  function touch(rec) {
    rec.seq += 1;
    // A change made after a refusal is the supervisor fixing it: the next sync may try again.
    if (rec.blocked === "refused") { rec.blocked = null; rec.error = null; }
    return rec.seq;
  }

  async function edit(rec, change) {
    var seq = touch(rec);
    var voided = Object.keys(rec.voided || {}).length;
    change(seq);
    await saveRecord(rec);
    renderStatus();
    if (current === rec.uuid) {
      renderInspectionHeader(rec);
      // A change that voided signatures shows at once on the pads ("sign again").
      if (Object.keys(rec.voided || {}).length !== voided) { renderSignatures(rec); }
    }
    scheduleSync(1500);
  }

  // ------------------------------------------------------------------------------------------ network

  function NetworkError(message) { this.message = message; }

  async function request(method, url, body, extraHeaders) {
    var headers = Object.assign({ "Accept": "application/json" }, extraHeaders || {});
    var options = { method: method, credentials: "same-origin", headers: headers, redirect: "manual" };
    if (body instanceof FormData) {
      options.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    if (method !== "GET") { headers["X-CSRFToken"] = csrf; }
    var response;
    try {
      response = await fetch(url, options);
    } catch (e) {
      throw new NetworkError(String(e));
    }
    if (response.status >= 500 || response.type === "opaqueredirect") { throw new NetworkError("HTTP " + response.status); }
    var data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    return { status: response.status, data: data };
  }

  async function checkSession() {
    var res = await request("GET", API + "/session");
    if (res.status === 401) { syncState = "signedOut"; return false; }
    if (res.status !== 200) { throw new NetworkError("session " + res.status); }
    if (res.data.user.id !== USER) {
      syncState = "otherUser";
      otherName = res.data.user.full_name;
      return false;
    }
    csrf = res.data.csrf_token;
    return true;
  }

  // ------------------------------------------------------------------------------------------ sync

  function buildBody(rec, submit) {
    var server = serverOf(rec);
    var body = {
      uuid: rec.uuid, user_id: USER, facility_id: rec.facility.id, inspection_date: rec.inspection_date,
      kind: rec.kind, checklist: { code: rec.checklist.code, version: rec.checklist.version },
      answers: {}, submit: !!submit, applicable_hash: applicableHashOf(rec)
    };
    var applicable = {};
    itemsOf(rec).forEach(function (i) { applicable[i.id] = true; });
    Object.keys(rec.dirty.answers).forEach(function (itemId) {
      // An answer to an item that no longer applies (the facility was refreshed) stays on the tablet only.
      if (!applicable[itemId]) { delete rec.dirty.answers[itemId]; return; }
      var a = rec.answers[itemId] || { value: null, note: "" };
      var base = server.answers[itemId];
      body.answers[itemId] = { value: a.value === undefined ? null : a.value, note: a.note || "", base_revision: base ? base.revision : 0 };
    });
    // A team without its head or the facility's representative, or an action row half filled in, is still being
    // written: it waits on the tablet (and counts as a change) instead of being refused by the server.
    if (rec.dirty.team && teamReady(rec)) { body.team = { value: rec.team, base: server.team }; }
    if (rec.dirty.actions && actionsReady(rec)) { body.corrective_actions = { value: actionList(rec), base: server.corrective_actions }; }
    // The opinion and the explicit "no opinion" choice travel together (the server refuses words with the choice).
    if (rec.dirty.opinion) {
      body.facility_opinion = { value: rec.noOpinion ? "" : rec.opinion, base: server.facility_opinion };
      body.facility_no_opinion = { value: !!rec.noOpinion, base: !!server.facility_no_opinion };
    }
    // A signature names its signer by their key in the team the server will hold after this request: one whose
    // person is not there yet (the team is still being written) waits, rather than being refused.
    var team = body.team ? body.team.value : server.team;
    var signers = signerList(team).map(function (s) { return s.key; });
    // A part still being written (a team without its representative, an action without who or by when) is not
    // sent yet: the signatures, made over the record with it, wait for it.
    var held = (rec.dirty.team && !body.team) || (rec.dirty.actions && !body.corrective_actions);
    var sigs = held ? [] : Object.keys(rec.dirty.signatures).filter(function (key) { return signers.indexOf(key) !== -1; });
    // The record the signers read is the server's as last received plus this request's changes: the server
    // refuses the signatures if its record changed since (409 content_changed).
    if (sigs.length && server.content_sha256) { body.seen_content = server.content_sha256; }
    if (sigs.length) {
      body.signatures = {};
      sigs.forEach(function (role) {
        var s = rec.signatures[role];
        var base = server.signatures[role];
        body.signatures[role] = { signer_name: s.signer_name, png: s.png, strokes: s.strokes, base: base ? base.sha256 : null };
      });
    }
    return body;
  }

  // The people who sign, keyed as the server keys them: offline-records.js, shared with the home page.
  function signerList(team) { return Records.signers(team); }

  function signerLabel(signer) {
    var role = t("role_" + signer.role);
    return signer.role === "head" || signer.role === "facility_rep" ? role : role + ": " + signer.name;
  }

  /* Nothing changes under a signature: a change to what the record says (an answer or note, the team, the
   * corrective actions, the facility's opinion) voids every signature made before it, here and on the server
   * (which voids them too when the change arrives). The pads then ask for new ones. */
  function voidSignatures(rec) {
    rec.voided = rec.voided || {};
    Object.keys(rec.signatures).forEach(function (key) {
      delete rec.signatures[key];
      delete rec.dirty.signatures[key];
      rec.voided[key] = true;
    });
    // The server's signatures are voided as they are now (by image hash): one made again elsewhere later counts.
    var held = serverOf(rec).signatures;
    Object.keys(held).forEach(function (key) { rec.voided[key] = held[key].sha256 || true; });
  }

  // A signature the server holds that still covers the record (not voided by a change made here since).
  function heldSignature(rec, key) {
    var held = serverOf(rec).signatures[key];
    var voided = (rec.voided || {})[key];
    return !held || voided === true || (voided && voided === held.sha256) ? null : held;
  }

  /* The server's record where nothing waits on the tablet (changed on another device, on the online form, by a
   * reviewer): answers, team, corrective actions, opinion. A team the server does not have yet (a new inspection)
   * keeps the tablet's prefilled one. */
  function adoptServer(rec, server) {
    rec.server = server;
    Object.keys(rec.answers).concat(Object.keys(server.answers)).forEach(function (id) {
      if (rec.dirty.answers[id]) { return; }
      var a = server.answers[id];
      if (a) { rec.answers[id] = { value: a.value, note: a.note || "" }; } else { delete rec.answers[id]; }
    });
    var named = function (team) {
      return JSON.stringify(team.filter(function (m) { return (m.full_name || "").trim(); }).map(function (m) {
        return [m.role, m.full_name.trim(), (m.position || "").trim()];
      }));
    };
    // Only when the people differ: an empty row just added here stays (the server keeps named rows only).
    if (!rec.dirty.team && server.team.length && named(server.team) !== named(rec.team)) {
      rec.team = server.team.map(function (m) { return { role: m.role, full_name: m.full_name, position: m.position || "" }; });
    }
    if (!rec.dirty.actions) {
      rec.actions = {};
      server.corrective_actions.forEach(function (a) { rec.actions[a.item_id] = { action: a.action, responsible: a.responsible, deadline: a.deadline }; });
    }
    if (!rec.dirty.opinion) { rec.opinion = server.facility_opinion || ""; rec.noOpinion = !!server.facility_no_opinion; }
  }

  function teamReady(rec) {
    var roles = rec.team.filter(function (m) { return (m.full_name || "").trim(); }).map(function (m) { return m.role; });
    return roles.indexOf("head") !== -1 && roles.indexOf("facility_rep") !== -1;
  }

  function actionsReady(rec) {
    return actionList(rec).every(function (a) { return a.responsible.trim() && a.deadline; });
  }

  function sendable(rec) {
    var d = rec.dirty;
    return Object.keys(d.answers).length > 0 || Object.keys(d.signatures).length > 0 || !!d.opinion ||
      (!!d.team && teamReady(rec)) || (!!d.actions && actionsReady(rec));
  }

  function actionList(rec) {
    var failing = failingItems(rec).map(function (i) { return i.id; });
    return failing.filter(function (id) { return rec.actions[id] && (rec.actions[id].action || "").trim(); })
      .map(function (id) {
        var a = rec.actions[id];
        return { item_id: id, action: a.action, responsible: a.responsible || "", deadline: a.deadline || "" };
      });
  }

  function clearSent(rec, sent) {
    // Only what the request carried, and only if it was not changed again while the request was on its way.
    var d = rec.dirty;
    var body = sent.body;
    Object.keys(body.answers).forEach(function (k) { if (d.answers[k] <= sent.seq) { delete d.answers[k]; } });
    Object.keys(body.signatures || {}).forEach(function (k) { if (d.signatures[k] <= sent.seq) { delete d.signatures[k]; } });
    [["team", "team"], ["actions", "corrective_actions"], ["opinion", "facility_opinion"]].forEach(function (pair) {
      if (body[pair[1]] && d[pair[0]] && d[pair[0]] <= sent.seq) { d[pair[0]] = 0; }
    });
  }

  async function applyResponse(rec, res) {
    var data = res.data;
    var sent = rec.pending;
    rec.pending = null;
    if (res.status === 200 || res.status === 201) {
      clearSent(rec, sent);
      // Where the tablet has nothing waiting, the server's record is the truth (changed on another device or on
      // the online form): the form and the record read before signing show it, so a count of "all answered" never
      // hides an answer removed there, and the content hash sent with the next signatures is what they show.
      adoptServer(rec, data);
      rec.conflicts = [];
      rec.blocked = null;
      rec.error = null;
      if (data.submit_problems && data.submit_problems.length) {
        // Refused, not "synced": shown in red at the top of the form and on the list, and counted as pending
        // until a submission goes through.
        rec.submitRequested = false;
        rec.notice = "";
        rec.refusal = data.submit_problem_items || data.submit_problems.map(function (m) { return { message: m, items: [] }; });
      } else if (data.submitted) {
        // From now on the server's status locks the inspection here.
        rec.submitRequested = false;
        rec.refusal = null;
        rec.notice = t("submitted");
      }
      // Photos deleted on the tablet after upload are not tracked; uploaded ones are confirmed by the list.
      (data.photos || []).forEach(function (id) { if (photos[id] && !photos[id].uploaded) { photos[id].uploaded = true; put("photos", photos[id]); } });
    } else if (res.status === 409 && data.error === "conflict") {
      rec.blocked = "conflict";
      rec.conflicts = data.conflicts || [];
      if (data.server) { rec.serverSeen = data.server; }
    } else if (res.status === 409 && data.error === "content_changed") {
      // Changed on the server after it was signed here: the signers read other content. Take the server's record
      // where nothing waits here, void the signatures and ask for the record to be read and signed again.
      // A part still waiting here keeps the base it was written over, so a change to it elsewhere is still
      // found as a conflict on the next request, never overwritten.
      var base = serverOf(rec), fresh = Object.assign({}, data.server, { answers: Object.assign({}, data.server.answers) });
      Object.keys(rec.dirty.answers).forEach(function (id) {
        if (base.answers[id]) { fresh.answers[id] = base.answers[id]; } else { delete fresh.answers[id]; }
      });
      if (rec.dirty.team) { fresh.team = base.team; }
      if (rec.dirty.actions) { fresh.corrective_actions = base.corrective_actions; }
      if (rec.dirty.opinion) { fresh.facility_opinion = base.facility_opinion; fresh.facility_no_opinion = base.facility_no_opinion; }
      adoptServer(rec, fresh);
      voidSignatures(rec);
      rec.notice = data.message;
    } else if (res.status === 409 && data.error === "locked") {
      rec.blocked = "locked";
      rec.serverSeen = data.server;
      rec.error = { message: data.message };
    } else if (res.status === 409 && data.error === "applicability_changed") {
      // The server's applicable items are not the tablet's: stop here, never let the inspection end incomplete.
      rec.blocked = "mismatch";
      rec.error = { message: data.message, applicable: data.applicable || [] };
    } else if (res.status === 409 && data.error === "wrong_user") {
      syncState = "otherUser";
    } else if (res.status === 401) {
      rec.pending = sent; // not processed: send the same request after signing in
      syncState = "signedOut";
    } else if (res.status === 400 && data.error === "csrf") {
      rec.pending = sent;
      throw new NetworkError("csrf");
    } else {
      rec.blocked = "refused";
      rec.error = { message: data.message || ("HTTP " + res.status), field: data.field || "" };
    }
    await saveRecord(rec);
  }

  async function uploadPhotos(rec) {
    var list = photosWaiting(rec);
    for (var i = 0; i < list.length; i++) {
      var p = list[i];
      var form = new FormData();
      form.append("item_id", p.item_id);
      form.append("client_uuid", p.uuid);
      form.append("file", p.blob, p.uuid + ".jpg");
      var res = await request("POST", API + "/inspections/" + rec.server.inspection.id + "/photos", form);
      if (res.status === 200 || res.status === 201) {
        p.uploaded = true;
      } else if (res.status === 401) {
        syncState = "signedOut";
        return;
      } else if (res.status === 400 && res.data.error === "csrf") {
        throw new NetworkError("csrf");
      } else {
        p.refused = res.data.message || ("HTTP " + res.status);
      }
      await put("photos", p);
      if (current === rec.uuid) { renderPhotos(rec, p.item_id); }
    }
  }

  async function syncRecord(rec) {
    // Without its checklist and facility profile the tablet cannot say which items apply: nothing is sent.
    if (!usable(rec)) { return; }
    for (var round = 0; round < 5; round++) {
      if (rec.blocked || syncState) { return; }
      var waiting = photosWaiting(rec);
      if (!rec.pending) {
        var submitNow = rec.submitRequested && statusOnServer(rec) !== "submitted" && waiting.length === 0;
        if (!sendable(rec) && !submitNow && rec.server) {
          if (waiting.length) { await uploadPhotos(rec); continue; }
          return;
        }
        rec.pending = { key: uuid4(), seq: rec.seq, body: buildBody(rec, submitNow) };
        await saveRecord(rec); // kept before sending: a retry after a crash resends this very request
      }
      var res = await request("POST", API + "/sync/inspections", rec.pending.body, { "Idempotency-Key": rec.pending.key });
      await applyResponse(rec, res);
      if (current === rec.uuid) {
        renderInspection();
        if (rec.blocked || (rec.refusal && rec.refusal.length)) { q("[data-insp-problems]").scrollIntoView({ block: "start" }); }
      }
      renderStatus();
    }
  }

  async function syncAll() {
    if (syncing) { return; }
    var todo = Object.keys(records).map(function (k) { return records[k]; })
      .filter(function (r) { return !r.blocked && (r.pending || changeCount(r) > 0); });
    if (!todo.length && !syncState) { renderStatus(); return; }
    syncing = true;
    syncState = null;
    renderStatus();
    try {
      if (await checkSession()) {
        for (var i = 0; i < todo.length; i++) {
          try {
            await syncRecord(todo[i]);
          } catch (e) {
            if (e instanceof NetworkError && e.message === "csrf") { await checkSession(); await syncRecord(todo[i]); } else { throw e; }
          }
          if (syncState) { break; }
        }
      }
      retryDelay = 2000;
    } catch (e) {
      if (!(e instanceof NetworkError)) { throw e; }
      syncState = navigator.onLine === false || /fetch|network|Failed/i.test(e.message) ? "offline" : "error";
      clearTimeout(retryTimer);
      retryTimer = setTimeout(syncAll, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    } finally {
      syncing = false;
      renderStatus();
      renderHome();
    }
  }

  function scheduleSync(delay) {
    clearTimeout(syncTimer);
    syncTimer = setTimeout(syncAll, delay);
  }

  // ------------------------------------------------------------------------------------------ status

  function totalChanges() {
    return Object.keys(records).reduce(function (n, k) { return n + changeCount(records[k]); }, 0);
  }

  function renderStatus() {
    var node = q("[data-sync-status]");
    var n = totalChanges();
    var blocked = Object.keys(records).some(function (k) { return records[k].blocked; });
    var refused = Object.keys(records).filter(function (k) {
      var st = recordState(records[k]);
      return st === "refused" || st === "mismatch" || st === "unprepared";
    }).length;
    var state, text;
    if (syncing) {
      state = "syncing"; text = t("syncing");
    } else if (refused) {
      // Refused work is never shown as synced: red, with the count, until it is fixed and sent.
      state = "refused"; text = t("refused_count", { n: refused });
    } else if (n === 0 && !blocked) {
      state = "synced"; text = t("synced");
    } else {
      state = "waiting";
      text = n === 1 ? t("waiting_one") : t("waiting", { n: n });
      if (syncState === "offline") { text += " — " + t("offline"); state = "offline"; }
      if (syncState === "error") { text += " — " + t("sync_error"); }
      if (syncState === "signedOut") { text += " — " + t("signed_out"); state = "signedOut"; }
      if (syncState === "otherUser") { text += " — " + t("other_user", { name: otherName, owner: USER_NAME }); state = "otherUser"; }
      if (blocked) { state = "conflict"; }
    }
    node.dataset.state = state;
    node.dataset.changes = String(n);
    node.textContent = text;
    renderNetwork();
    q("[data-sign-in]").hidden = syncState !== "signedOut" && syncState !== "otherUser";
  }

  function recordState(rec) { return Records.state(rec, photosOf(rec), usable(rec)); }

  // Whether the tablet has a network, shown at all times (a quiet "synced" must never hide being offline).
  function renderNetwork() {
    var net = q("[data-net]");
    if (!net) { return; }
    var offline = navigator.onLine === false || syncState === "offline";
    net.dataset.state = offline ? "offline" : "online";
    net.textContent = offline ? T.net_offline : T.net_online;
  }

  function recordStatusText(rec) {
    var state = recordState(rec);
    return { state: state, text: Records.statusText(state, changeCount(rec), t) };
  }

  // ------------------------------------------------------------------------------------------ home

  function renderHome() {
    var list = q("[data-inspection-list]");
    list.textContent = "";
    var recs = Object.keys(records).map(function (k) { return records[k]; })
      .sort(function (a, b) { return a.created_at < b.created_at ? 1 : -1; });
    if (!recs.length) { list.appendChild(el("li", { "class": "muted", text: t("no_inspections") })); }
    recs.forEach(function (rec) {
      var st = recordStatusText(rec);
      var answered = answeredCount(rec);
      list.appendChild(el("li", { "data-uuid": rec.uuid, "class": "oentry" }, [
        el("div", {}, [el("strong", { text: rec.facility.name }), el("br"),
          el("span", { "class": "muted", text: showDate(rec.inspection_date) + " · " + t(rec.kind) + " · " + t("progress", { answered: answered[0], applicable: answered[1] }) })]),
        el("span", { "class": "osync-status", "data-record-status": true, "data-state": st.state, text: st.text }),
        el("div", { "class": "obuttons" }, [
          el("a", { "class": "btn", href: "#/i/" + rec.uuid, text: t("open") }),
          // Only what the server fully holds may leave the tablet.
          changeCount(rec) === 0 && !rec.blocked && !rec.pending
            ? el("button", { type: "button", "class": "btn", "data-forget": rec.uuid, text: t("forget") }) : null])
      ]));
    });
    var ready = q("[data-ready-list]");
    ready.textContent = "";
    var ids = Object.keys(bundles);
    if (!ids.length) { ready.appendChild(el("li", { "class": "muted", text: t("no_facilities") })); }
    ids.forEach(function (id) {
      var b = bundles[id];
      var kind = el("select", { "data-kind": true, "aria-label": t("external") + " / " + t("self") }, [
        el("option", { value: "external", text: t("external") }), el("option", { value: "self", text: t("self") })]);
      // The list is drawn again after every sync (every few seconds offline): what was chosen stays chosen.
      var chosen = startChoices[id] || {};
      if (chosen.kind) { kind.value = chosen.kind; }
      var programme = programmeChoice(b);
      if (programme && chosen.programme) { programme.value = chosen.programme; }
      var troubled = Object.keys(records).map(function (k) { return records[k]; }).filter(function (rec) {
        var st = recordState(rec);
        return String(rec.facility.id) === String(id) && (st === "refused" || st === "mismatch");
      });
      ready.appendChild(el("li", { "class": "oentry", "data-facility-id": id }, [
        el("div", {}, [el("strong", { text: b.facility.name }), " ", el("span", { "class": "oready", "data-ready": true, text: "✓ " + t("ready") }),
          troubled.length ? el("a", { "class": "ofacility-refused", "data-facility-state": "refused", href: "#/i/" + troubled[0].uuid, text: "✕ " + t("st_refused") }) : null,
          el("br"), el("span", { "class": "muted small", text: t("prepared", { checklist: b.checklist.code + " v" + b.checklist.version, date: showDate(b.prepared_for) }) })]),
        el("div", { "class": "obuttons" }, [kind, programme,
          el("button", { type: "button", "class": "btn btn-primary", "data-start": id, text: t("start") }),
          el("button", { type: "button", "class": "btn", "data-prepare": id, text: t("update") }),
          el("button", { type: "button", "class": "btn", "data-unprepare": id, text: t("remove") })])
      ]));
    });
  }

  // Which programme to start under, when the facility has more than one that day (routine first).
  function programmeChoice(b) {
    var list = programmesOf(b);
    if (list.length < 2) { return null; }
    return el("select", { "data-programme": true, "aria-label": t("programme") }, list.map(function (p) {
      return el("option", { value: p.programme, text: p.label + " (" + p.checklist.code + " v" + p.checklist.version + ")" });
    }));
  }

  function answeredCount(rec) {
    var sc = scoreOf(rec);
    return sc ? [sc.answered_count, sc.applicable_count] : [0, 0];
  }

  async function searchFacilities(text) {
    var results = q("[data-facility-results]");
    try {
      var res = await request("GET", API + "/offline/facilities?q=" + encodeURIComponent(text));
      results.textContent = "";
      if (res.status !== 200) { results.appendChild(el("li", { "class": "muted", text: res.data.message || "" })); return; }
      if (!res.data.facilities.length) { results.appendChild(el("li", { "class": "muted", text: t("no_results") })); }
      res.data.facilities.forEach(function (f) {
        results.appendChild(el("li", { "class": "oentry" }, [
          el("span", { text: f.name + " (" + f.code + ")" }),
          el("button", { type: "button", "class": "btn", "data-prepare": String(f.id), text: bundles[f.id] ? t("update") : t("prepare") })]));
      });
    } catch (e) {
      results.textContent = "";
      results.appendChild(el("li", { "class": "muted", text: t("search_offline") }));
    }
  }

  async function prepare(facilityId, button) {
    if (button) { button.disabled = true; }
    try {
      var res = await request("GET", API + "/facilities/" + facilityId + "/offline-bundle");
      if (res.status !== 200) { throw new Error(res.data.message || ("HTTP " + res.status)); }
      var bundle = res.data;
      // The whole checklist version is kept once, by code, version and content hash; the facility's profile is
      // kept with the facility. Before calling the facility ready, the tablet's rules must find exactly the
      // server's applicable items: otherwise this copy of the app is out of date and must not be used.
      if (QAEngine.applicableHash(bundle.checklist, bundle.profile) !== bundle.applicable_hash) {
        throw new Error(T.engine_mismatch);
      }
      // The other programmes offered that day (a campaign, a self-assessment checklist): the same check each.
      var others = bundle.other_programmes || [];
      others.forEach(function (o) {
        if (QAEngine.applicableHash(o.checklist, bundle.profile) !== o.applicable_hash) { throw new Error(T.engine_mismatch); }
      });
      bundle.checklist = await keepChecklist(bundle.checklist);
      bundle.programmes = [{ programme: bundle.programme || "routine", label: bundle.programme_label || "", checklist: bundle.checklist }];
      for (var j = 0; j < others.length; j++) {
        bundle.programmes.push({ programme: others[j].programme, label: others[j].label, checklist: await keepChecklist(others[j].checklist) });
      }
      var open = bundle.open_inspections || [];
      delete bundle.applicable;
      delete bundle.open_inspections;
      delete bundle.other_programmes;
      await put("bundles", bundle);
      bundles[bundle.facility.id] = bundle;
      for (var i = 0; i < open.length; i++) { await adopt(bundle, open[i]); }
      renderHome();
      searchFacilities(q("[data-facility-search]").value.trim());
      return bundle;
    } catch (e) {
      window.alert(t("prepare_failed", { message: e.message }));
      return null;
    } finally {
      if (button) { button.disabled = false; }
    }
  }

  // Copies kept before the form travelled with them get it as soon as there is a network, so their inspections
  // go on without preparing the facilities again (nothing to do offline: they show "prepare again" meanwhile).
  async function completeChecklists() {
    var missing = Object.keys(checklists).map(function (k) { return checklists[k]; }).filter(function (c) {
      return !c.forms || c.forms_version !== FORM_VERSION;
    });
    for (var i = 0; i < missing.length; i++) {
      try { await keepChecklist(missing[i]); } catch (e) { return; }  // offline or refused: the next start tries again
      if (checklists[missing[i].key].forms_version !== FORM_VERSION) { return; }  // kept the old copy: offline
    }
    // Redrawn at once only where there was nothing to draw: a copy merely redrawn shows from the next opening,
    // not under the fingers of someone typing.
    if (missing.some(function (c) { return !c.forms; })) {
      renderStatus();
      if (current) { renderInspection(); } else { renderHome(); }
    }
  }

  // A whole checklist version, kept once by code, version and content hash; what a record or bundle refers to it by.
  async function keepChecklist(c) {
    var key = checklistKey(c);
    // Its form is drawn by the server once per version (the hash names the content, so a kept one stays right).
    // A copy drawn by older templates is drawn again when possible, and kept meanwhile (it still works).
    var kept = checklists[key];
    var forms = kept && kept.forms, drawnBy = kept && kept.forms_version;
    if (!forms || drawnBy !== FORM_VERSION) {
      try {
        var res = await request("GET", FORM_URL.replace("__code__", encodeURIComponent(c.code)).replace(/0$/, String(c.version)));
        if (res.status !== 200) { throw new Error(res.data.message || ("HTTP " + res.status)); }
        if (res.data.sha256 !== c.sha256) { throw new Error(T.engine_mismatch); }
        forms = res.data.forms;
        drawnBy = res.data.form_version;
      } catch (e) {
        if (!forms) { throw e; }
      }
    }
    var whole = Object.assign({ key: key }, c, { forms: forms, forms_version: drawnBy });
    await put("checklists", whole);
    checklists[key] = whole;
    return { code: whole.code, version: whole.version, sha256: whole.sha256, key: key, corrective_days: whole.corrective_days };
  }

  // A draft started online (or on another tablet) or an inspection the reviewer returned: kept on the tablet like
  // one started here, with the server's state as the bases of the next sync, so it can be continued offline.
  // One already on the tablet is left as it is (its own bases protect both sides).
  async function adopt(bundle, o) {
    if (records[o.uuid]) { return; }
    if (o.checklist_content) { await keepChecklist(o.checklist_content); }
    var server = o.server;
    var rec = {
      uuid: o.uuid, created_at: new Date().toISOString(), inspection_date: o.inspection_date, kind: o.kind,
      facility: { id: bundle.facility.id, name: bundle.facility.name, code: bundle.facility.code },
      // Its own checklist's deadline for corrective actions (a campaign's is not routine supervision's).
      checklist: { code: o.checklist.code, version: o.checklist.version, sha256: o.checklist.sha256,
                   corrective_days: (checklists[checklistKey(o.checklist)] || bundle.checklist).corrective_days },
      profile: { type: o.profile.type, services: o.profile.services.slice() },
      answers: {}, actions: {}, opinion: server.facility_opinion || "", noOpinion: !!server.facility_no_opinion, signatures: {}, refusal: null,
      team: server.team.length ? server.team.map(function (m) { return { role: m.role, full_name: m.full_name, position: m.position }; })
        : [{ role: "head", full_name: USER_NAME, position: "" }, { role: "facility_rep", full_name: bundle.facility.head_name || "", position: "" }],
      review: { comment: o.return_comment, items: o.item_comments || {} },
      seq: 1, dirty: { answers: {}, signatures: {}, team: 0, actions: 0, opinion: 0 },
      server: server, pending: null, blocked: null, conflicts: [], error: null, notice: "", submitRequested: false
    };
    Object.keys(server.answers).forEach(function (id) {
      rec.answers[id] = { value: server.answers[id].value, note: server.answers[id].note || "" };
    });
    server.corrective_actions.forEach(function (a) {
      rec.actions[a.item_id] = { action: a.action, responsible: a.responsible, deadline: a.deadline };
    });
    await saveRecord(rec);
    records[rec.uuid] = rec;
  }

  // Download the facility again (its profile may have changed, or the app was updated) and let its inspections
  // on this tablet use it: the applicable items are worked out again, and any the server adds show as unanswered.
  async function refreshFacility(facilityId, button) {
    var bundle = await prepare(facilityId, button);
    if (!bundle) { return; }
    var changed = Object.keys(records).map(function (k) { return records[k]; }).filter(function (rec) {
      return String(rec.facility.id) === String(facilityId) && !isLockedLocally(rec);
    });
    for (var i = 0; i < changed.length; i++) {
      var rec = changed[i];
      rec.profile = { type: bundle.profile.type, services: bundle.profile.services.slice() };
      programmesOf(bundle).forEach(function (p) {
        if (rec.checklist.code === p.checklist.code && rec.checklist.version === p.checklist.version) {
          rec.checklist.sha256 = p.checklist.sha256;
        }
      });
      if (rec.blocked === "mismatch") { rec.blocked = null; rec.error = null; }
      touch(rec);
      await saveRecord(rec);
    }
    if (current) { renderInspection(); }
    renderStatus();
    renderHome();
    scheduleSync(300);
  }

  // The programmes a prepared facility can be inspected under (a bundle kept before they travelled: its one).
  function programmesOf(b) {
    return b.programmes && b.programmes.length ? b.programmes : [{ programme: "routine", label: "", checklist: b.checklist }];
  }

  async function startInspection(facilityId, kind, programme) {
    var b = bundles[facilityId];
    var chosen = programmesOf(b).filter(function (p) { return p.programme === programme; })[0] || programmesOf(b)[0];
    var c = chosen.checklist;
    var rec = {
      programme_label: chosen.label || "",
      uuid: uuid4(), created_at: new Date().toISOString(), inspection_date: today(), kind: kind || "external",
      facility: { id: b.facility.id, name: b.facility.name, code: b.facility.code },
      checklist: { code: c.code, version: c.version, sha256: c.sha256, corrective_days: c.corrective_days },
      profile: { type: b.profile.type, services: b.profile.services.slice() },
      answers: {}, actions: {}, opinion: "", signatures: {}, refusal: null,
      team: [{ role: "head", full_name: USER_NAME, position: "" }, { role: "facility_rep", full_name: b.facility.head_name || "", position: "" }],
      // The team is prefilled (the user, the facility's head) but only sent once edited or at submission.
      seq: 1, dirty: { answers: {}, signatures: {}, team: 0, actions: 0, opinion: 0 },
      server: null, pending: null, blocked: null, conflicts: [], error: null, notice: "", submitRequested: false
    };
    await saveRecord(rec);
    records[rec.uuid] = rec;
    renderStatus();  // a new inspection is work to send: never "synced" until the server has it
    location.hash = "#/i/" + rec.uuid;
    scheduleSync(1500);
  }

  // ------------------------------------------------------------------------------------------ inspection

  /* What the server would refuse in a typed answer, in the supervisor's words ("" when it is fine): the same
   * function and messages as the online form's (static/js/qa-form.js). */
  function typedProblem(item, value) { return QAForm.typedProblem(item, value, T, LANG); }

  var opened = {};       // "uuid:item" -> true once the supervisor opened an item's note and photos
  var typedErrors = {};  // "uuid:item" -> why the typed answer on screen is refused (never kept)

  function extraOpen(rec, id) {
    var a = rec.answers[id];
    return !!(opened[rec.uuid + ":" + id] || (a && (a.note || "").trim()) ||
      photosOf(rec).some(function (p) { return p.item_id === id; }));
  }

  function articleOf(id) { return q("#item-" + CSS.escape(id)); }

  // An item of the drawn form (the online form's markup) filled from the record: its answer, note, photos, the
  // reviewer's comment, whether it is critical for this facility; disabled once the submission is on its way.
  function fillItem(rec, article, item, profile) {
    var a = rec.answers[item.id] || { value: null, note: "" };
    var value = a.value === null || a.value === undefined ? "" : String(a.value);
    article.querySelectorAll("button.ans").forEach(function (b) {
      b.setAttribute("aria-pressed", String(value !== "" && b.dataset.value === value));
    });
    var typed = article.querySelector("[data-answer-input]");
    if (typed) { typed.value = value === "na" ? "" : value; }
    article.querySelector("[data-note]").value = a.note || "";
    article.querySelector("[data-extra]").open = extraOpen(rec, item.id);
    var badge = article.querySelector("[data-critical]");
    var critical = QAEngine.itemIsCritical(item, profile);
    article.classList.toggle("item-critical", critical);
    if (badge) {
      badge.hidden = !critical;
      if (critical && badge.dataset.criticalWhen) {
        var rule = JSON.parse(badge.dataset.criticalWhen);
        var offered = Object.keys(rule.services).filter(function (code) { return profile.services.indexOf(code) !== -1; });
        badge.textContent = "★ " + QAForm.fill(rule.sentence, { services: offered.map(function (code) { return rule.services[code]; }).join(", ") });
      }
    }
    var comment = rec.review && rec.review.items[item.id];
    if (comment) {
      article.classList.add("item-commented");
      article.querySelector(".answer-row").before(el("div", { "class": "reviewer-comment", role: "note", "data-review-comment": true }, [
        el("strong", { text: T.reviewer + ":" }), " ", el("span", { "class": "body", text: comment })]));
    }
    var locked = isLockedLocally(rec);
    article.querySelectorAll("button, input, textarea").forEach(function (control) { control.disabled = locked; });
    renderPhotos(rec, item.id);
  }

  // The item's line under its answer: why a typed answer is refused, else whether it waits to be synced.
  function markItem(rec, id) {
    var article = articleOf(id);
    if (!article) { return; }
    var error = typedErrors[rec.uuid + ":" + id] || "";
    var status = article.querySelector("[data-item-status]");
    status.textContent = error || (rec.dirty.answers[id] ? T.item_waiting : "");
    status.classList.toggle("is-error", !!error);
    article.classList.toggle("is-error", !!error);
    article.classList.toggle("is-pending", !error && !!rec.dirty.answers[id]);
  }

  function renderPhotos(rec, itemId) {
    var article = articleOf(itemId);
    var holder = article && article.querySelector("[data-photos]");
    if (!holder) { return; }
    holder.textContent = "";
    photosOf(rec).filter(function (p) { return p.item_id === itemId; }).forEach(function (p) {
      var state = p.refused ? t("photo_refused", { message: p.refused }) : p.uploaded ? T.photo_uploaded : T.photo_waiting;
      var img = el("img", { alt: state, title: state, width: "96", height: "72",
        "class": "othumb" + (p.uploaded ? " is-uploaded" : ""), "data-photo-uuid": p.uuid });
      img.src = URL.createObjectURL(p.blob);
      var parts = [img];
      if (p.refused) { parts.push(el("span", { "class": "small ophoto-refused", "data-photo-refused": true, text: state })); }
      if (!p.uploaded && !isLockedLocally(rec)) {
        parts.push(el("button", { type: "button", "class": "photo-del", "data-remove-photo": p.uuid, "aria-label": T.remove_photo, title: T.remove_photo, text: "✕" }));
      }
      holder.appendChild(el("li", { "data-photo": p.uuid }, parts));
    });
  }

  function showPercent(value) { return QAEngine.percentText(value, LANG); }

  // Section chips with answered / applicable counts (and failures), on every screen of the form.
  function renderChips(rec, sc) {
    var nav = q("[data-chips]");
    nav.textContent = "";
    (sc ? sc.sections : []).forEach(function (s) {
      if (!s.applicable) { return; }
      var done = s.answered === s.applicable;
      nav.appendChild(el("a", { href: "#sec-" + s.id, "data-goto-section": s.id, "data-nav": s.id, "class": "ochip" + (done ? " is-done" : "") + (s.failed_items.length ? " has-failed" : "") }, [
        el("strong", { text: s.id }), " " + s.answered + "/" + s.applicable + (s.failed_items.length ? " · ✕" + s.failed_items.length : "")]));
    });
  }

  // Each score group's result (checklists with groups only), by the engine, like the online form's table.
  function renderGroups(rec, sc) {
    var box = q("[data-insp-groups]");
    var checklist = checklistOf(rec);
    box.textContent = "";
    box.hidden = !sc || !sc.groups.length || !checklist;
    if (box.hidden) { return; }
    var rows = sc.groups.map(function (g, i) {
      var group = checklist.groups[i];
      var cls = g.classification;
      var result = !g.applicable ? T.group_na
        : cls ? T["cls_" + cls] + (sc.complete ? "" : " (" + T.provisional + ")") : "—";
      return el("tr", { "data-group": g.id, "data-group-class": cls || (g.applicable ? "" : "not_applicable") }, [
        el("td", { text: txt(group.title) }), el("td", { text: group.sections.join(", ") }),
        el("td", { "class": "num", text: g.applicable ? showPercent(g.percent) : "—" }),
        el("td", {}, [cls ? el("span", { "class": "cls cls-" + cls, text: result }) : result])]);
    });
    box.appendChild(el("h2", { id: "ogroups-h", text: T.groups_title }));
    box.appendChild(el("table", { "class": "table" }, [
      el("thead", {}, [el("tr", {}, [T.group_part, T.group_sections, T.group_score, T.group_result].map(function (h) {
        return el("th", { scope: "col", text: h });
      }))]),
      el("tbody", {}, rows)]));
  }

  function renderInspectionHeader(rec) {
    var counts = answeredCount(rec);
    q("[data-insp-progress]").textContent = t("progress", { answered: counts[0], applicable: counts[1] });
    var sc = scoreOf(rec);
    var cls = sc ? (sc.classification || sc.provisional_classification) : null;
    q("[data-insp-score]").textContent = sc ? showPercent(sc.overall_percent) : "—";
    var clsNode = q("[data-insp-class]");
    clsNode.textContent = cls ? T["cls_" + cls] + (sc.complete ? "" : " (" + T.provisional + ")") : "—";
    clsNode.className = "cls cls-" + (cls || "none");
    renderGroups(rec, sc);
    renderChips(rec, sc);
    // The filter in use is applied again (an item that stops failing leaves "Failed only"), the section kept.
    focus.refresh();
    // The same line in the bar that stays at the top while the supervisor scrolls through the items.
    var bar = q("[data-bar-progress]");
    bar.hidden = false;
    bar.textContent = q("[data-insp-progress]").textContent + " · " + q("[data-insp-score]").textContent + " · " + clsNode.textContent;
    var st = recordStatusText(rec);
    var node = q("[data-insp-status]");
    node.dataset.state = st.state;
    node.textContent = st.text;
    // Each section's count and score and each item's state, as the online form shows them.
    (sc ? sc.sections : []).forEach(function (s) {
      root.querySelectorAll('[data-section-progress="' + CSS.escape(s.id) + '"]').forEach(function (n) { n.textContent = s.answered + "/" + s.applicable; });
      root.querySelectorAll('[data-section-percent="' + CSS.escape(s.id) + '"]').forEach(function (n) { n.textContent = showPercent(s.percent); });
    });
    root.querySelectorAll("[data-insp-sections] article.item").forEach(function (article) {
      var r = sc && sc.items[article.dataset.item];
      article.classList.toggle("is-answered", !!(r && r.answered));
      article.classList.toggle("is-failed", !!(r && r.failed));
      markItem(rec, article.dataset.item);
    });
    renderProblems(rec);
    renderRecord(rec, sc);
    var msg = q("[data-submit-msg]");
    msg.hidden = !rec.notice;
    msg.textContent = rec.notice || "";
    q("[data-submit]").disabled = isLockedLocally(rec);
    // Until the submission has left the tablet, the supervisor may take it back.
    q("[data-cancel-submit]").hidden = !(rec.submitRequested && !rec.pending && statusOnServer(rec) !== "submitted");
  }

  /* The record as the signers read it before signing, from what the tablet holds: the facility and day, the
   * result, each finding with its answer, note and corrective action, the team and the facility's opinion. */
  function renderRecord(rec, sc) {
    var body = q("[data-record-body]");
    body.textContent = "";
    var cls = sc ? (sc.classification || sc.provisional_classification) : null;
    var result = sc ? showPercent(sc.overall_percent) + " · " + (cls ? T["cls_" + cls] + (sc.complete ? "" : " (" + T.provisional + ")") : "—") : "—";
    var facts = [[T.rec_facility, rec.facility.name], [T.rec_date, showDate(rec.inspection_date)], [T.rec_result, result]];
    body.appendChild(el("dl", { "class": "oversions" }, [].concat.apply([], facts.map(function (f) {
      return [el("dt", { text: f[0] }), el("dd", { text: f[1] })];
    }))));
    body.appendChild(el("h3", { text: T.rec_findings }));
    var failing = failingItems(rec);
    var actions = {};
    actionList(rec).forEach(function (a) { actions[a.item_id] = a; });
    body.appendChild(failing.length ? el("ul", { "data-record-findings": true }, failing.map(function (item) {
      var a = rec.answers[item.id];
      var act = actions[item.id];
      var critical = sc && sc.items[item.id] && sc.items[item.id].critical;
      return el("li", { "data-record-item": item.id }, [
        el("strong", { text: item.id + (critical ? " ★" : "") }), " " + txt(item.text) + " — " + describeAnswer(rec, item.id, a.value, a.note),
        el("br"), act ? T.action + ": " + act.action + " (" + act.responsible + ", " + showDate(act.deadline) + ")" : el("em", { text: T.rec_no_action })]);
    })) : el("p", { text: T.rec_no_findings }));
    body.appendChild(el("h3", { text: T.rec_team }));
    body.appendChild(el("ul", {}, signerList(rec.team).map(function (s) {
      var member = rec.team.filter(function (m) { return (m.full_name || "").trim() === s.name && m.role === s.role; })[0];
      return el("li", { text: t("role_" + s.role) + ": " + s.name + (member && member.position ? " (" + member.position + ")" : "") });
    })));
    body.appendChild(el("h3", { text: T.rec_opinion }));
    body.appendChild(el("p", { "data-record-opinion": true, text: rec.noOpinion ? T.no_opinion : (rec.opinion || "").trim() || T.rec_not_written }));
  }

  // Words or the explicit choice of none, never both: each is offered only while the other is empty.
  function renderOpinionChoice(rec) {
    var locked = isLockedLocally(rec);
    var words = q("[data-opinion]"), none = q("[data-no-opinion]");
    none.checked = !!rec.noOpinion;
    words.disabled = locked || !!rec.noOpinion;
    none.disabled = locked || !!(rec.opinion || "").trim();
  }

  function describeAnswer(rec, itemId, value, note) {
    var item = itemsOf(rec).filter(function (i) { return i.id === itemId; })[0];
    var label = value === null || value === undefined || value === "" ? T.no_answer : String(value);
    if (item) {
      var c = item.choices.filter(function (x) { return x.value === String(value); })[0];
      if (c) { label = value === "met" ? T.met : value === "not_met" ? T.not_met : txt(c.label); }
      if (value === "na") { label = T.na; }
      if (value === "not_observed") { label = T.not_observed; }
    }
    return label + (note ? " — " + note : "");
  }

  function describeTeam(team) {
    return (team || []).map(function (m) { return t("role_" + m.role) + ": " + m.full_name + (m.position ? " (" + m.position + ")" : ""); }).join("; ") || T.empty;
  }

  function describeActions(actions) {
    return (actions || []).map(function (a) { return a.item_id + ": " + a.action + " — " + a.responsible + ", " + showDate(a.deadline); }).join("; ") || T.empty;
  }

  function versions(mine, theirs, theirsLabel) {
    return el("dl", { "class": "oversions" }, [el("dt", { text: T.mine }), el("dd", { "data-mine": true, text: mine }),
      el("dt", { text: theirsLabel }), el("dd", { "data-theirs": true, text: theirs })]);
  }

  function itemLinks(ids) {
    return el("ul", { "class": "olinks" }, ids.map(function (id) {
      return el("li", {}, [el("a", { href: "#item-" + id, "data-goto": id, text: id })]);
    }));
  }

  function renderProblems(rec) {
    var box = q("[data-insp-problems]");
    box.textContent = "";
    var refused = rec.refusal && rec.refusal.length;
    box.hidden = !rec.blocked && !refused && usable(rec);
    box.dataset.state = !usable(rec) || rec.blocked === "mismatch" || refused || rec.blocked === "refused" ? "refused" : (rec.blocked || "");
    if (!usable(rec)) {
      box.appendChild(el("h2", { text: T.unprepared_title }));
      box.appendChild(el("p", { text: T.unprepared }));
      box.appendChild(el("button", { type: "button", "class": "btn btn-primary", "data-refresh": String(rec.facility.id), text: T.refresh }));
      return;
    }
    if (rec.blocked === "mismatch") {
      box.appendChild(el("h2", { text: T.mismatch_title }));
      box.appendChild(el("p", { "data-refusal": true, text: rec.error ? rec.error.message : "" }));
      box.appendChild(el("button", { type: "button", "class": "btn btn-primary", "data-refresh": String(rec.facility.id), text: T.refresh }));
      return;
    }
    if (refused && !rec.blocked) {
      box.appendChild(el("h2", { text: T.refusal_title }));
      box.appendChild(el("ul", { "class": "orefusals" }, rec.refusal.map(function (p) {
        return el("li", { "data-refusal": true }, [el("span", { text: p.message }), p.items && p.items.length ? itemLinks(p.items) : null]);
      })));
      return;
    }
    if (rec.blocked === "conflict") {
      box.appendChild(el("h2", { text: T.conflict_title }));
      rec.conflicts.forEach(function (c, index) {
        var title, mine, theirs, label = T.theirs_plain;
        if (c.part === "answer") {
          title = t("conflict_answer", { item: c.item_id });
          var own = rec.answers[c.item_id] || {};
          mine = describeAnswer(rec, c.item_id, own.value, own.note);
          theirs = c.theirs.revision ? describeAnswer(rec, c.item_id, c.theirs.value, c.theirs.note) : T.no_answer;
          if (c.theirs.updated_by) { label = t("theirs", { name: c.theirs.updated_by, time: c.theirs.updated_at_display || "" }); }
        } else if (c.part === "team") {
          title = T.conflict_team; mine = describeTeam(rec.team); theirs = describeTeam(c.theirs);
        } else if (c.part === "corrective_actions") {
          title = T.conflict_actions; mine = describeActions(actionList(rec)); theirs = describeActions(c.theirs);
        } else if (c.part === "facility_opinion") {
          title = T.conflict_opinion; mine = rec.opinion || T.empty; theirs = c.theirs || T.empty;
        } else if (c.part === "facility_no_opinion") {
          title = T.conflict_opinion; mine = rec.noOpinion ? T.no_opinion : rec.opinion || T.empty; theirs = c.theirs ? T.no_opinion : T.empty;
        } else {
          title = t("conflict_signature", { role: t("role_" + c.role.replace(/-[0-9]+$/, "")) });
          mine = (rec.signatures[c.role] || {}).signer_name || T.empty; theirs = c.theirs.signer_name || T.empty;
        }
        box.appendChild(el("div", { "class": "oconflict", "data-conflict": c.part + ":" + (c.item_id || c.role || "") }, [
          el("h3", { text: title }), versions(mine, theirs, label),
          el("div", { "class": "obuttons" }, [
            el("button", { type: "button", "class": "btn", "data-resolve": "theirs", "data-index": String(index), text: T.keep_theirs }),
            el("button", { type: "button", "class": "btn btn-primary", "data-resolve": "mine", "data-index": String(index), text: T.use_mine })])]));
      });
    } else if (rec.blocked === "locked") {
      var server = rec.serverSeen || emptyServer();
      box.appendChild(el("h2", { text: t("locked_title", { status: t("st_" + (server.inspection ? server.inspection.status : "locked")) }) }));
      Object.keys(rec.dirty.answers).forEach(function (id) {
        var own = rec.answers[id] || {};
        var theirs = server.answers[id];
        box.appendChild(el("div", { "class": "oconflict", "data-conflict": "answer:" + id }, [
          el("h3", { text: t("conflict_answer", { item: id }) }),
          versions(describeAnswer(rec, id, own.value, own.note), theirs ? describeAnswer(rec, id, theirs.value, theirs.note) : T.no_answer, T.theirs_plain)]));
      });
      box.appendChild(el("button", { type: "button", "class": "btn", "data-discard": true, text: T.discard_mine }));
      if (server.inspection) { box.appendChild(el("a", { "class": "btn", href: server.inspection.url, text: T.view_online })); }
    } else if (rec.blocked === "refused") {
      box.appendChild(el("p", { "data-refusal": true, text: t("refused_title", { message: rec.error ? rec.error.message : "" }) }));
    }
  }

  function renderTeam(rec) {
    var holder = q("[data-team]");
    holder.textContent = "";
    var disabled = isLockedLocally(rec);
    rec.team.forEach(function (m, index) {
      // The head and the facility's representative are fixed rows, wherever the team (saved online, say) puts them.
      var fixed = m.role === "head" || m.role === "facility_rep";
      var role = fixed ? el("strong", { text: t("role_" + m.role) }) : el("select", { "data-team-field": "role", "data-index": String(index), disabled: disabled, "aria-label": T.role },
        ["deputy", "member", "secretary"].map(function (r) { return el("option", { value: r, selected: m.role === r, text: t("role_" + r) }); }));
      holder.appendChild(el("div", { "class": "orow", "data-team-row": String(index) }, [role,
        el("input", { "class": "otext", "data-team-field": "full_name", "data-index": String(index), value: m.full_name, placeholder: T.full_name, "aria-label": T.full_name, maxlength: "120", disabled: disabled }),
        el("input", { "class": "otext", "data-team-field": "position", "data-index": String(index), value: m.position, placeholder: T.position, "aria-label": T.position, maxlength: "160", disabled: disabled }),
        fixed ? null : el("button", { type: "button", "class": "btn", "data-remove-member": String(index), disabled: disabled, text: T.remove_member })]));
    });
  }

  function renderActions(rec) {
    var holder = q("[data-actions]");
    holder.textContent = "";
    var failing = failingItems(rec);
    var disabled = isLockedLocally(rec);
    if (!failing.length) { holder.appendChild(el("p", { "class": "muted", text: T.no_actions })); }
    failing.forEach(function (item) {
      var a = rec.actions[item.id] || {};
      holder.appendChild(el("fieldset", { "class": "oaction", "data-action-item": item.id }, [
        el("legend", { text: item.id + " " + txt(item.text) }),
        el("label", {}, [T.action, el("textarea", { "class": "otext", rows: "2", "data-action-field": "action", disabled: disabled }, [a.action || ""])]),
        el("label", {}, [T.responsible, el("input", { "class": "otext", "data-action-field": "responsible", value: a.responsible || "", disabled: disabled })]),
        el("label", {}, [T.deadline, el("input", { "class": "otext", type: "date", "data-action-field": "deadline", value: a.deadline || addDays(rec.inspection_date, rec.checklist.corrective_days || 30), disabled: disabled })])]));
    });
  }

  // One pad per named person of the team, redrawn only when the people change (a pad being signed is kept).
  function renderSignatures(rec) {
    var holder = q("[data-sig-pads]");
    var signers = signerList(rec.team);
    var keys = signers.map(function (s) { return s.key; }).join(" ");
    if (holder.dataset.keys !== keys || holder.dataset.uuid !== rec.uuid) {
      holder.textContent = "";
      holder.dataset.keys = keys;
      holder.dataset.uuid = rec.uuid;
      var template = q("[data-sigpad-template]");
      signers.forEach(function (s) {
        var padRoot = template.content.firstElementChild.cloneNode(true);
        padRoot.dataset.role = s.key;
        padRoot.querySelector(".sig-name").id = "osig-name-" + s.key;
        padRoot.querySelector("[data-sig-name-label]").setAttribute("for", "osig-name-" + s.key);
        holder.appendChild(padRoot);
        QASignature.attach(padRoot);
      });
    }
    var byKey = {};
    signers.forEach(function (s) { byKey[s.key] = s; });
    holder.querySelectorAll("[data-sigpad]").forEach(function (padRoot) {
      var key = padRoot.dataset.role;
      var signer = byKey[key];
      var pad = padRoot.signaturePad;
      var sig = rec.signatures[key];
      var held = !sig && heldSignature(rec, key);
      var voided = !sig && !held && (rec.voided || {})[key];
      padRoot.querySelector("[data-sig-title]").textContent = signerLabel(signer);
      var name = padRoot.querySelector(".sig-name");
      if (document.activeElement !== name) { name.value = sig ? sig.signer_name : signer.name; }
      var preview = padRoot.querySelector("[data-sig-preview]");
      preview.hidden = !sig && !held;
      preview.querySelector("img").hidden = !sig;
      if (sig) {
        preview.querySelector("img").src = sig.png;
        preview.querySelector("figcaption").textContent = sig.signer_name;
      } else if (held) {
        // Signed online (or on another tablet): the image stays on the server, which is enough to submit.
        preview.querySelector("figcaption").textContent = held.signer_name + " — " + T.sig_on_server;
      }
      padRoot.querySelectorAll("button, input").forEach(function (b) { b.disabled = isLockedLocally(rec); });
      if (pad) {
        if (sig || !pad.strokes.length || voided) { pad.strokes = sig ? JSON.parse(JSON.stringify(sig.strokes)) : []; }
        pad.resize();
        pad.say(sig ? T.sig_kept : voided ? T.sig_void : "", sig ? "ok" : voided ? "error" : "");
      }
    });
  }


  function renderInspection() {
    var rec = records[current];
    if (!rec) { return; }
    q("[data-insp-title]").textContent = rec.facility.name;
    q("[data-insp-meta]").textContent = showDate(rec.inspection_date) + " · " + t(rec.kind) + " · " +
      (rec.programme_label ? rec.programme_label + " · " : "") + rec.checklist.code + " v" + rec.checklist.version;
    var holder = q("[data-insp-sections]");
    holder.textContent = "";
    var returned = q("[data-returned]");
    var comment = rec.review && rec.review.comment;
    returned.hidden = !comment;
    returned.textContent = "";
    if (comment) {
      returned.appendChild(el("h2", { text: T.returned_title }));
      returned.appendChild(el("p", { "data-return-comment": true, text: comment.body }));
      returned.appendChild(el("p", { "class": "muted small", text: comment.author }));
    }
    // The one form: the version's sections and items as the server draws them for the online form, kept on the
    // tablet; what does not apply to this facility (by QAEngine, the server's rules) is taken out.
    var checklist = checklistOf(rec), profile = profileOf(rec), html = formHtml(checklist);
    if (html && profile) {
      holder.innerHTML = html;
      checklist.sections.forEach(function (section) {
        var node = q("#sec-" + CSS.escape(section.id), holder);
        if (!node) { return; }
        var kept = 0;
        section.items.forEach(function (item) {
          var article = q("#item-" + CSS.escape(item.id), node);
          if (!article) { return; }
          if (!QAEngine.itemApplies(item, section, profile)[0]) { article.remove(); return; }
          kept += 1;
          fillItem(rec, article, item, profile);
        });
        if (!kept) { node.remove(); }
      });
    }
    q("[data-opinion]").value = rec.opinion || "";
    renderOpinionChoice(rec);
    q("[data-add-member]").disabled = isLockedLocally(rec);
    renderTeam(rec);
    renderActions(rec);
    renderSignatures(rec);
    renderInspectionHeader(rec);
  }

  function route() {
    var match = /^#\/i\/([0-9a-f-]{36})$/.exec(location.hash);
    current = match && records[match[1]] ? match[1] : null;
    q("[data-view=home]").hidden = !!current;
    q("[data-bar-progress]").hidden = !current;
    q("[data-view=inspection]").hidden = !current;
    window.scrollTo(0, 0);
    if (current) {
      renderInspection();
      focus.start("");
    } else {
      // Focused mode is the form's: the list of inspections keeps the site's top bar.
      document.documentElement.classList.remove("focus-mode", "topbar-open");
      q("[data-topbar-toggle]").hidden = true;
      renderHome();
    }
  }

  // ------------------------------------------------------------------------------------------ editing

  function itemOf(target) {
    var article = target.closest("[data-item]");
    return article ? article.dataset.item : null;
  }

  function setAnswer(rec, itemId, field, value) {
    return edit(rec, function (seq) {
      var a = rec.answers[itemId] || { value: null, note: "" };
      if ((a[field] || null) !== (value || null)) { voidSignatures(rec); }
      a[field] = value;
      rec.answers[itemId] = a;
      rec.dirty.answers[itemId] = seq;
      if (field === "value") { rec.dirty.actions = rec.dirty.actions || (rec.actions[itemId] ? seq : 0); }
    });
  }

  var noteTimers = {};

  function onInput(event) {
    var rec = records[current];
    if (!rec) { return; }
    var target = event.target;
    var itemId = itemOf(target);
    if (target.matches("[data-answer-input]")) {
      target.closest(".answer").querySelectorAll("button.ans").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
      // Refused here, as the server would refuse it: shown at once and never saved nor sent.
      var typedItem = itemsOf(rec).filter(function (i) { return i.id === itemId; })[0];
      var typedValue = typedItem && typedItem.answer_type === "number" ? target.value.replace(",", ".").trim() : target.value;
      var problem = typedItem ? typedProblem(typedItem, typedValue) : "";
      if (problem) { typedErrors[rec.uuid + ":" + itemId] = problem; } else { delete typedErrors[rec.uuid + ":" + itemId]; }
      markItem(rec, itemId);
      target.setAttribute("aria-invalid", String(!!problem));
      if (problem) { clearTimeout(noteTimers[itemId + "value"]); return; }
    }
    if (target.matches("[data-note]") || target.matches("[data-answer-input]")) {
      var field = target.matches("[data-note]") ? "note" : "value";
      clearTimeout(noteTimers[itemId + field]);
      // Vietnamese keyboards type a decimal comma; the server reads a point (as on the online form).
      var saved = field === "value" && typedValue !== undefined ? typedValue : target.value;
      noteTimers[itemId + field] = setTimeout(function () { setAnswer(rec, itemId, field, saved); }, event.type === "change" ? 0 : 400);
    } else if (target.matches("[data-team-field]")) {
      var index = Number(target.dataset.index);
      edit(rec, function (seq) { rec.team[index][target.dataset.teamField] = target.value; rec.dirty.team = seq; voidSignatures(rec); })
        .then(function () { renderSignatures(rec); });
    } else if (target.matches("[data-action-field]")) {
      var item = target.closest("[data-action-item]").dataset.actionItem;
      edit(rec, function (seq) {
        var a = rec.actions[item] || { action: "", responsible: "", deadline: addDays(rec.inspection_date, rec.checklist.corrective_days || 30) };
        a[target.dataset.actionField] = target.value;
        rec.actions[item] = a;
        rec.dirty.actions = seq;
        voidSignatures(rec);
      });
    } else if (target.matches("[data-opinion]")) {
      edit(rec, function (seq) { rec.opinion = target.value; rec.dirty.opinion = seq; voidSignatures(rec); });
      renderOpinionChoice(rec);
    } else if (target.matches("[data-no-opinion]")) {
      edit(rec, function (seq) { rec.noOpinion = target.checked; rec.dirty.opinion = seq; voidSignatures(rec); });
      renderOpinionChoice(rec);
    }
  }

  function resizePhoto(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var scale = Math.min(1, PHOTO_SIDE / Math.max(img.naturalWidth, img.naturalHeight));
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
        canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
        canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(url);
        canvas.toBlob(function (blob) { if (blob) { resolve(blob); } else { reject(new Error("photo")); } }, "image/jpeg", 0.8);
      };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("photo")); };
      img.src = url;
    });
  }

  async function onPhoto(rec, itemId, input) {
    var files = Array.prototype.slice.call(input.files || []);
    for (var i = 0; i < files.length; i++) {
      var blob = await resizePhoto(files[i]);
      var p = { uuid: uuid4(), inspection_uuid: rec.uuid, item_id: itemId, blob: blob, uploaded: false, refused: null, created_at: new Date().toISOString() };
      await put("photos", p);
      photos[p.uuid] = p;
    }
    input.value = "";
    renderPhotos(rec, itemId);
    renderInspectionHeader(rec);
    renderStatus();
    scheduleSync(1500);
  }

  function submitProblems(rec) {
    var problems = [];
    var counts = answeredCount(rec);
    if (counts[0] < counts[1]) { problems.push(t("missing_answers", { n: counts[1] - counts[0] })); }
    var roles = rec.team.filter(function (m) { return (m.full_name || "").trim(); }).map(function (m) { return m.role; });
    if (roles.indexOf("head") === -1 || roles.indexOf("facility_rep") === -1) { problems.push(T.missing_team); }
    // Every named person signs the record before it is submitted, as the server asks
    // (minutes.content.signature_problems): they are all at the visit.
    signerList(rec.team).forEach(function (s) {
      if (!rec.signatures[s.key] && !heldSignature(rec, s.key)) { problems.push(t("missing_signature", { role: signerLabel(s) })); }
    });
    var acted = actionList(rec).map(function (a) { return a.item_id; });
    failingItems(rec).forEach(function (item) { if (acted.indexOf(item.id) === -1) { problems.push(t("missing_action", { item: item.id })); } });
    return problems;
  }

  async function onClick(event) {
    var chip = event.target.closest("a[data-goto-section]");
    if (chip) {
      event.preventDefault();
      focus.reveal("#sec-" + chip.dataset.gotoSection);  // in focused mode, that section becomes the one shown
      var section = q("#sec-" + CSS.escape(chip.dataset.gotoSection));
      if (section) { section.scrollIntoView({ block: "start" }); }
      return;
    }
    var link = event.target.closest("a[data-goto]");
    if (link) {
      // The page's location names the open inspection: go to the item without changing it.
      event.preventDefault();
      focus.reveal("#item-" + link.dataset.goto);  // its section, with every item shown
      var article = articleOf(link.dataset.goto);
      if (article) {
        article.scrollIntoView({ block: "start" });
        var first = article.querySelector("button, input, textarea");
        if (first) { first.focus({ preventScroll: true }); }
      }
      return;
    }
    var target = event.target.closest("button");
    if (!target) { return; }
    if (target.dataset.refresh) { refreshFacility(target.dataset.refresh, target); return; }
    var rec = records[current];
    if (target.matches("[data-sync-now]")) { syncState = null; retryDelay = 2000; syncAll(); return; }
    if (target.dataset.prepare) { prepare(target.dataset.prepare, target); return; }
    if (target.dataset.unprepare) {
      await del("bundles", Number(target.dataset.unprepare));
      delete bundles[target.dataset.unprepare];
      renderHome();
      return;
    }
    if (target.dataset.forget) {
      var gone = records[target.dataset.forget];
      if (!gone || changeCount(gone) > 0 || gone.blocked || gone.pending) { return; }
      for (var i = 0, list = photosOf(gone); i < list.length; i++) { await del("photos", list[i].uuid); delete photos[list[i].uuid]; }
      await del("inspections", gone.uuid);
      delete records[gone.uuid];
      renderHome();
      renderStatus();
      return;
    }
    if (target.dataset.start) {
      var row = target.closest("li");
      var programme = row.querySelector("[data-programme]");
      startInspection(target.dataset.start, row.querySelector("[data-kind]").value, programme ? programme.value : null);
      return;
    }
    if (!rec) { return; }
    if (target.matches("button.ans")) {
      var itemId = itemOf(target);
      var pressed = target.getAttribute("aria-pressed") === "true";
      target.parentNode.querySelectorAll("button.ans").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
      if (!pressed) { target.setAttribute("aria-pressed", "true"); }
      var typed = target.parentNode.querySelector("[data-answer-input]");
      if (typed) { typed.value = ""; typed.setAttribute("aria-invalid", "false"); }
      delete typedErrors[rec.uuid + ":" + itemId];
      await setAnswer(rec, itemId, "value", pressed ? null : target.dataset.value);
      renderActions(rec);
    } else if (target.dataset.removePhoto) {
      var p = photos[target.dataset.removePhoto];
      await del("photos", p.uuid);
      delete photos[p.uuid];
      renderPhotos(rec, p.item_id);
      renderStatus();
      renderInspectionHeader(rec);
    } else if (target.matches("[data-add-member]")) {
      await edit(rec, function (seq) { rec.team.push({ role: "member", full_name: "", position: "" }); rec.dirty.team = seq; });
      renderTeam(rec);
    } else if (target.dataset.removeMember) {
      await edit(rec, function (seq) {
        var gone = rec.team.splice(Number(target.dataset.removeMember), 1)[0];
        rec.dirty.team = seq;
        if ((gone.full_name || "").trim()) { voidSignatures(rec); }  // the record named them
      });
      renderTeam(rec);
      renderSignatures(rec);
    } else if (target.dataset.resolve) {
      await resolve(rec, Number(target.dataset.index), target.dataset.resolve);
    } else if (target.matches("[data-discard]")) {
      await discard(rec);
    } else if (target.matches("[data-cancel-submit]")) {
      if (!rec.submitRequested || rec.pending) { return; }
      rec.submitRequested = false;
      rec.notice = "";
      await saveRecord(rec);
      renderInspection();
      renderStatus();
    } else if (target.matches("[data-submit]")) {
      var problems = submitProblems(rec);
      if (problems.length) {
        rec.notice = t("submit_missing", { problems: problems.join("; ") });
        await saveRecord(rec);
        renderInspectionHeader(rec);
        return;
      }
      await edit(rec, function (seq) {
        rec.refusal = null;
        rec.submitRequested = true;
        rec.notice = T.submit_queued;
        rec.dirty.team = rec.dirty.team || seq; // the prefilled team may never have been edited
      });
      renderInspection();
      scheduleSync(100);
    }
  }

  async function resolve(rec, index, choice) {
    var c = rec.conflicts[index];
    var server = rec.server || (rec.server = emptyServer());
    if (c.part === "answer") {
      var theirs = { value: c.theirs.revision ? c.theirs.value : null, note: c.theirs.revision ? (c.theirs.note || "") : "", revision: c.theirs.revision || 0 };
      if (c.theirs.revision) { server.answers[c.item_id] = theirs; } else { delete server.answers[c.item_id]; }
      if (choice === "theirs") {
        rec.answers[c.item_id] = { value: theirs.value, note: theirs.note };
        delete rec.dirty.answers[c.item_id];
        voidSignatures(rec);  // the record is now the server's here: what was signed over the tablet's is void
      }
    } else if (c.part === "signature") {
      if (c.theirs.sha256) { server.signatures[c.role] = { sha256: c.theirs.sha256, signer_name: c.theirs.signer_name }; } else { delete server.signatures[c.role]; }
      if (choice === "theirs") { delete rec.signatures[c.role]; delete rec.dirty.signatures[c.role]; }
    } else {
      var field = { team: "team", corrective_actions: "actions", facility_opinion: "opinion", facility_no_opinion: "opinion" }[c.part];
      // The record becomes the server's here: what was signed over the tablet's version is void.
      if (choice === "theirs") { voidSignatures(rec); }
      server[c.part] = c.theirs;
      if (choice === "theirs") {
        if (c.part === "corrective_actions") {
          rec.actions = {};
          c.theirs.forEach(function (a) { rec.actions[a.item_id] = { action: a.action, responsible: a.responsible, deadline: a.deadline }; });
        } else if (c.part === "team") {
          rec.team = c.theirs.map(function (m) { return { role: m.role, full_name: m.full_name, position: m.position }; });
        } else {
          // The opinion and the "no opinion" choice are one statement: both come from the server's state, so the
          // tablet never holds words and the choice at once.
          var seen = rec.serverSeen || {};
          rec.opinion = c.part === "facility_opinion" ? c.theirs : seen.facility_opinion || "";
          rec.noOpinion = c.part === "facility_no_opinion" ? !!c.theirs : !!seen.facility_no_opinion;
        }
        rec.dirty[field] = 0;
      }
    }
    rec.conflicts.splice(index, 1);
    touch(rec);
    if (!rec.conflicts.length) { rec.blocked = null; }
    await saveRecord(rec);
    renderInspection();
    renderStatus();
    if (!rec.blocked) { scheduleSync(300); }
  }

  async function discard(rec) {
    var server = rec.serverSeen || rec.server || emptyServer();
    rec.server = server;
    rec.answers = {};
    Object.keys(server.answers).forEach(function (id) { rec.answers[id] = { value: server.answers[id].value, note: server.answers[id].note }; });
    rec.team = server.team.slice();
    rec.actions = {};
    server.corrective_actions.forEach(function (a) { rec.actions[a.item_id] = { action: a.action, responsible: a.responsible, deadline: a.deadline }; });
    rec.opinion = server.facility_opinion;
    rec.noOpinion = !!server.facility_no_opinion;
    rec.signatures = {};
    rec.voided = {};
    rec.dirty = { answers: {}, signatures: {}, team: 0, actions: 0, opinion: 0 };
    rec.submitRequested = false;
    rec.blocked = null;
    rec.error = null;
    photosWaiting(rec).forEach(function (p) { del("photos", p.uuid); delete photos[p.uuid]; });
    await saveRecord(rec);
    renderInspection();
    renderStatus();
  }

  function onSignature(event) {
    var rec = records[current];
    if (!rec) { return; }
    var d = event.detail;
    edit(rec, function (seq) {
      rec.signatures[d.role] = { signer_name: d.signer_name, png: d.png, strokes: d.strokes, signed_at: new Date().toISOString() };
      rec.dirty.signatures[d.role] = seq;
      if (rec.voided) { delete rec.voided[d.role]; }
    }).then(function () { renderSignatures(rec); });
  }

  // ------------------------------------------------------------------------------------------ service worker

  function registerWorker() {
    var node = q("[data-sw-state]");
    if (!("serviceWorker" in navigator)) { node.textContent = T.no_sw; return; }
    navigator.serviceWorker.register(root.dataset.swUrl, { scope: "/" }).catch(function () { node.textContent = T.no_sw; });
    navigator.serviceWorker.ready.then(function () {
      node.textContent = T.app_ready;
      node.dataset.ready = "true";
      document.body.dataset.offlineReady = "true";
    });
  }

  async function otherUsers() {
    if (!indexedDB.databases) { return; }
    var list = await indexedDB.databases();
    var others = list.filter(function (d) { return d.name && d.name.indexOf(DB_PREFIX) === 0 && d.name !== DB_PREFIX + USER; });
    var node = q("[data-other-users]");
    node.hidden = !others.length;
    node.textContent = t("other_users", { n: others.length });
  }

  // ------------------------------------------------------------------------------------------ start

  async function init() {
    db = await openDb();
    (await getAll("bundles")).forEach(function (b) { bundles[b.facility.id] = b; });
    (await getAll("checklists")).forEach(function (c) { checklists[c.key] = c; });
    (await getAll("inspections")).forEach(function (r) { records[r.uuid] = r; });
    // Kept by a version that did not void signatures on a change: one made before a change still to send covers
    // content its signer did not see, so it is void (the pad asks for it again).
    Object.keys(records).forEach(function (k) {
      var rec = records[k];
      if (rec.voided) { return; }
      rec.voided = {};
      var d = rec.dirty;
      var last = Math.max.apply(null, [d.team || 0, d.actions || 0, d.opinion || 0].concat(Object.keys(d.answers).map(function (id) { return d.answers[id]; })));
      Object.keys(d.signatures).forEach(function (key) {
        if (d.signatures[key] < last) { delete rec.signatures[key]; delete d.signatures[key]; rec.voided[key] = true; }
      });
      put("inspections", rec);
    });
    (await getAll("photos")).forEach(function (p) { photos[p.uuid] = p; });
    // The drawn items are the online form's: with scripts, their save buttons and empty status lines take no room.
    root.classList.add("js");
    focus = QAFocus.attach(root);
    root.addEventListener("click", onClick);
    root.addEventListener("input", onInput);
    root.addEventListener("change", function (event) {
      var rec = records[current];
      if (rec && event.target.matches("[data-photo-input]")) { onPhoto(rec, itemOf(event.target), event.target); return; }
      if (event.target.matches("[data-note], [data-answer-input]")) { onInput(event); }
      if (event.target.matches("[data-ready-list] [data-kind], [data-ready-list] [data-programme]")) {
        var facility = event.target.closest("[data-facility-id]").dataset.facilityId;
        var chosen = startChoices[facility] = startChoices[facility] || {};
        chosen[event.target.matches("[data-kind]") ? "kind" : "programme"] = event.target.value;
      }
    });
    root.addEventListener("sigpad:save", onSignature);
    // The drawn form's items are the online form's, whose buttons post without scripts: here nothing is posted.
    root.addEventListener("submit", function (event) { event.preventDefault(); });
    // Remember which items' notes were opened, so a redraw after a sync does not fold them away.
    root.addEventListener("toggle", function (event) {
      var details = event.target;
      if (!details.matches || !details.matches("[data-extra]") || !current) { return; }
      opened[current + ":" + itemOf(details)] = details.open;
    }, true);
    var search = q("[data-facility-search]");
    var searchTimer = null;
    search.addEventListener("input", function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () { searchFacilities(search.value.trim()); }, 300);
    });
    window.addEventListener("hashchange", route);
    window.addEventListener("online", function () { syncState = null; retryDelay = 2000; renderNetwork(); syncAll(); });
    window.addEventListener("offline", renderNetwork);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { scheduleSync(500); } });
    route();
    renderStatus();
    root.dataset.loaded = "true";
    registerWorker();
    completeChecklists();
    otherUsers();
    searchFacilities("");
    scheduleSync(300);
  }

  init();
})();
