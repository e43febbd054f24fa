/* Runs a batch of cases through static/js/qa-engine.js for tests/unit/test_engine_parity.py.
 * stdin: [{checklist, profile, answers}, ...] as JSON; stdout: one result per case, as JSON. One process per batch
 * keeps the test fast (starting Node per case would cost far more than the cases themselves). */
"use strict";
var path = require("path");
var engine = require(path.join(__dirname, "..", "..", "static", "js", "qa-engine.js"));

var chunks = [];
process.stdin.on("data", function (c) { chunks.push(c); });
process.stdin.on("end", function () {
  var input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  if (!Array.isArray(input)) {
    // {checklists, profiles}: only the applicable set's hash, for every checklist and profile.
    process.stdout.write(JSON.stringify(input.checklists.map(function (checklist) {
      return input.profiles.map(function (profile) { return engine.applicableHash(checklist, profile); });
    })));
    return;
  }
  var cases = input;
  var out = cases.map(function (c) {
    var s = engine.score(c.checklist, c.profile, c.answers);
    return {
      applicable: s.applicable,
      applicable_hash: engine.applicableHash(c.checklist, c.profile),
      overall_percent: s.overall_percent,
      classification: s.classification,
      provisional_classification: s.provisional_classification,
      critical_failures: s.critical_failures,
      failed_items: s.failed_items,
      unanswered: s.unanswered,
      answered_count: s.answered_count,
      invalid: s.invalid,
      not_observed: s.not_observed,
      groups: s.groups.map(function (g) { return [g.id, g.applicable, g.percent, g.classification]; }),
      sections: s.sections.map(function (x) { return [x.id, x.percent, x.applicable, x.answered]; }),
      critical: Object.keys(s.items).filter(function (k) { return s.items[k].critical; }).sort(),
      shown: [s.overall_percent].concat(s.sections.map(function (x) { return x.percent; }))
        .reduce(function (out, p) { return out.concat([engine.percentText(p, "vi"), engine.percentText(p, "en")]); }, [])
    };
  });
  process.stdout.write(JSON.stringify(out));
});
