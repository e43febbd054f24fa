/* What an inspection kept on the tablet still owes the server, and its state: one definition for the offline form
 * (static/js/offline.js) and the supervisor's home page (static/js/home-sync.js), so both say the same thing.
 * Pure functions over the IndexedDB records described in offline.js; no storage or network here.
 */
(function (global) {
  "use strict";

  function statusOnServer(rec) { return rec.server && rec.server.inspection ? rec.server.inspection.status : null; }

  function hasDirty(rec) {
    var d = rec.dirty;
    return Object.keys(d.answers).length > 0 || Object.keys(d.signatures).length > 0 || !!d.team || !!d.actions || !!d.opinion;
  }

  // The number of changes still to send; `photos` are the record's photos on the tablet.
  function changeCount(rec, photos) {
    var d = rec.dirty;
    var n = Object.keys(d.answers).length + Object.keys(d.signatures).length + (d.team ? 1 : 0) + (d.actions ? 1 : 0) + (d.opinion ? 1 : 0);
    // A photo the server refused is not on the server: it counts until the supervisor removes it.
    n += photos.filter(function (p) { return !p.uploaded; }).length;
    if (rec.submitRequested && statusOnServer(rec) !== "submitted") { n += 1; }
    if (rec.refusal && rec.refusal.length) { n += 1; } // a refused submission is work still to do
    if (!rec.server && n === 0) { n = 1; } // a started inspection the server has not seen yet
    return n;
  }

  // unprepared | mismatch | refused | conflict | locked | waiting | draft | submitted | approved | returned | synced.
  // `usable`: the tablet still holds the record's checklist version and facility profile.
  function state(rec, photos, usable) {
    if (!usable) { return "unprepared"; }
    if (rec.blocked === "mismatch") { return "mismatch"; }
    if (rec.refusal && rec.refusal.length) { return "refused"; }
    if (rec.blocked === "conflict") { return "conflict"; }
    if (rec.blocked === "locked") { return "locked"; }
    if (rec.blocked === "refused" || photos.some(function (p) { return p.refused; })) { return "refused"; }
    if (changeCount(rec, photos) > 0) { return rec.server ? "waiting" : "draft"; }
    var status = statusOnServer(rec);
    if (status === "submitted" || status === "approved" || status === "returned") { return status; }
    return "synced";
  }

  // Why the server refused or stopped it, as the server said it (in the user's language); [] when nothing.
  function reasons(rec, photos) {
    var out = (rec.refusal || []).map(function (p) { return p.message; });
    if (rec.blocked && rec.blocked !== "conflict" && rec.error && rec.error.message) { out.push(rec.error.message); }
    photos.forEach(function (p) { if (p.refused) { out.push(String(p.refused)); } });
    return out;
  }

  // The record's state in words, as the offline form and the home page both say it: "Waiting to sync (N
  // changes)", said once; `say(key, params)` gives the user's wording of a message key.
  function statusText(recState, n, say) {
    var waiting = n === 1 ? say("waiting_one") : say("waiting", { n: n });
    if (recState === "waiting") { return waiting; }
    if (recState === "draft") { return say("st_draft") + " · " + waiting; }
    return say("st_" + recState) || recState;
  }

  /* The people who sign, in team order, keyed as the server keys them (inspections.models.signer_keys, held equal
   * by tests/unit/test_signer_keys_parity.py): the first of a role by the role, the N-th by "role-N". Rows without
   * a name are not kept by the server. */
  function signers(team) {
    var seen = {};
    return (team || []).filter(function (m) { return (m.full_name || "").trim(); }).map(function (m) {
      seen[m.role] = (seen[m.role] || 0) + 1;
      return { key: seen[m.role] === 1 ? m.role : m.role + "-" + seen[m.role], role: m.role, name: m.full_name.trim() };
    });
  }

  // The IndexedDB database of one user on this tablet is DB_PREFIX + their id.
  global.QAOfflineRecords = { DB_PREFIX: "qa-offline:v1:", statusOnServer: statusOnServer, hasDirty: hasDirty,
                              changeCount: changeCount, state: state, reasons: reasons, statusText: statusText,
                              signers: signers };
})(this);
