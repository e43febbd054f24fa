/* The inspection rules on the tablet: applicability, running score and classification.
 *
 * One small module, no build step, no dependency, used by the online form, the offline form and (in Node) by the
 * parity test that runs the same generated cases through qa_app/scoring.py. It follows qa_app/scoring.py and
 * qa_app/checklists/schema.py rule for rule; when one changes, the other must, and tests/unit/test_engine_parity.py
 * fails until they agree.
 *
 * Input: a checklist as qa_app/checklists/tablet.py writes it (numbers that matter are exact fractions written
 * "n/d" or "n"), a facility profile {type, services} and answers {item id: raw value}. Arithmetic is exact
 * (BigInt fractions), like the server's fractions.Fraction, so 89.995 % is never shown as "meets" on one side
 * and not the other.
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) { module.exports = api; } else { root.QAEngine = api; }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // ------------------------------------------------------------------------------------------ exact fractions

  function gcd(a, b) {
    if (a < 0n) { a = -a; }
    if (b < 0n) { b = -b; }
    while (b) { var t = a % b; a = b; b = t; }
    return a;
  }

  function frac(n, d) {
    n = BigInt(n); d = d === undefined ? 1n : BigInt(d);
    if (d < 0n) { n = -n; d = -d; }
    var g = gcd(n, d) || 1n;
    return { n: n / g, d: d / g };
  }

  function parse(text) {
    // "3", "1/2" or "-7/4": how tablet.py writes every weight and threshold (exactly what the author wrote).
    var parts = String(text).split("/");
    return frac(parts[0], parts.length > 1 ? parts[1] : 1);
  }

  var ZERO = frac(0), ONE = frac(1), HUNDRED = frac(100);
  function add(a, b) { return frac(a.n * b.d + b.n * a.d, a.d * b.d); }
  function mul(a, b) { return frac(a.n * b.n, a.d * b.d); }
  function div(a, b) { return frac(a.n * b.d, a.d * b.n); }
  function cmp(a, b) { var l = a.n * b.d, r = b.n * a.d; return l < r ? -1 : l > r ? 1 : 0; }
  function isZero(a) { return a.n === 0n; }

  function floorDiv(n, d) { var q = n / d; return (n % d !== 0n && (n < 0n) !== (d < 0n)) ? q - 1n : q; }

  // scoring.display_percent: rounded DOWN to 2 decimals, so 89.996 never reads "90.00" next to "conditional".
  function displayPercent(value) { return Number(floorDiv(value.n * 100n, value.d)) / 100; }

  // ------------------------------------------------------------------------------------------ applicability

  function has(list, value) { return (list || []).indexOf(value) !== -1; }

  function intersects(a, b) { return (a || []).some(function (x) { return has(b, x); }); }

  /* schema.item_applies: [applies, reason] with reason "", "type" or "service". The item's own types replace the
   * section's; the score group's types, then the section's and the item's services must all allow it. */
  function itemApplies(item, section, profile) {
    var types = (item.applies_to && item.applies_to.length) ? item.applies_to : (section.applies_to || []);
    if (types.length && !has(types, profile.type)) { return [false, "type"]; }
    var groupTypes = section.group_applies_to || [];
    if (groupTypes.length && !has(groupTypes, profile.type)) { return [false, "type"]; }
    if (section.applies_if_offers && section.applies_if_offers.length
        && !intersects(section.applies_if_offers, profile.services)) {
      return [false, "service"];
    }
    if (item.applies_if_offers && item.applies_if_offers.length && !intersects(item.applies_if_offers, profile.services)) {
      return [false, "service"];
    }
    return [true, ""];
  }

  /* schema.item_is_critical: failing the item fails this facility outright. */
  function itemIsCritical(item, profile) {
    if (item.critical_rule === "always") { return true; }
    if (item.critical_rule === "when_offers") { return intersects(item.critical_when_offers, profile.services); }
    return false;
  }

  /* The ids of the items that apply, in checklist order. */
  function applicableIds(checklist, profile) {
    var ids = [];
    checklist.sections.forEach(function (section) {
      section.items.forEach(function (item) { if (itemApplies(item, section, profile)[0]) { ids.push(item.id); } });
    });
    return ids;
  }

  // ------------------------------------------------------------------------------------------ answers

  function isBlank(raw) { return raw === null || raw === undefined || (typeof raw === "string" && !raw.trim()); }

  var NUMBER_RE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

  function scaleValues(item) {
    var values = (item.scale || []).map(function (l) { return l.value; }).sort(function (a, b) { return a - b; });
    return values.length ? values : [0, 1];
  }

  function scaleMax(item) { return item.scale && item.scale.length ? Math.max.apply(null, item.scale.map(function (l) { return l.value; })) : 1; }
  function scaleMin(item) { return item.scale && item.scale.length ? Math.min.apply(null, item.scale.map(function (l) { return l.value; })) : 0; }

  function isNaToken(raw) { return typeof raw === "string" && raw.trim().toLowerCase() === "na"; }
  function isNotObservedToken(raw) { return typeof raw === "string" && raw.trim().toLowerCase() === "not_observed"; }

  /* code: what the form tells the supervisor (answers.AnswerError codes: "not_an_integer", "below_min",
   * "above_max", "too_long", ...). */
  function InvalidAnswer(itemId, code) {
    this.itemId = itemId; this.code = code || "invalid"; this.message = "invalid answer for item " + itemId;
  }

  function naOr(item) { if (!item.allow_na) { throw new InvalidAnswer(item.id, "na_not_allowed"); } return "na"; }
  function notObservedOr(item) {
    if (!item.allow_not_observed) { throw new InvalidAnswer(item.id, "not_observed_not_allowed"); }
    return "not_observed";
  }

  var MAX_SAFE = 9007199254740992;  // answers.MAX_SAFE_INTEGER (2**53)
  var INT_RE = /^[+-]?[0-9]+$/;

  /* answers._parse_number: an integer or a finite number from a number or a numeric string. */
  function number(item, raw) {
    var value;
    if (typeof raw === "number") {
      value = raw;
    } else if (typeof raw === "string" && NUMBER_RE.test(raw.trim())) {
      value = Number(raw.trim());
      if (INT_RE.test(raw.trim()) && Math.abs(value) > MAX_SAFE) { throw new InvalidAnswer(item.id, "out_of_range"); }
    } else {
      throw new InvalidAnswer(item.id, "not_a_number");
    }
    if (!isFinite(value)) { throw new InvalidAnswer(item.id, "not_a_number"); }
    if (Number.isInteger(value) && Math.abs(value) > MAX_SAFE && typeof raw === "number") {
      throw new InvalidAnswer(item.id, "out_of_range");
    }
    return value;
  }

  /* answers._normalize_number with the file's constraints (integer, min, max). */
  function numberAnswer(item, raw) {
    var value = number(item, raw);
    if (item.integer) {
      if (!Number.isInteger(value) || (typeof raw === "string" && !INT_RE.test(raw.trim()))) {
        throw new InvalidAnswer(item.id, "not_an_integer");
      }
    }
    if (item.min !== null && item.min !== undefined && value < item.min) { throw new InvalidAnswer(item.id, "below_min"); }
    if (item.max !== null && item.max !== undefined && value > item.max) { throw new InvalidAnswer(item.id, "above_max"); }
    return value;
  }

  var CONTROL_RE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

  /* answers._normalize_text: NFC, CRLF to LF, trimmed, no control characters, within max_length (code points). */
  function textAnswer(item, raw) {
    if (typeof raw !== "string") { throw new InvalidAnswer(item.id, "not_text"); }
    var text = raw.normalize("NFC").replace(/\r\n/g, "\n").trim();
    if (CONTROL_RE.test(text)) { throw new InvalidAnswer(item.id, "invalid_text"); }
    var limit = Math.min(item.max_length || 2000, 2000);
    if (Array.from(text).length > limit) { throw new InvalidAnswer(item.id, "too_long"); }
    return text;
  }

  function option(item, value) {
    var found = null;
    (item.options || []).forEach(function (o) { if (found === null && o.value === value) { found = o; } });
    return found;
  }

  /* Item.options_max: the highest score (what a full answer earns), 1 when every option is left out. */
  function optionsMax(item) {
    var top = null;
    (item.options || []).forEach(function (o) {
      if (o.score !== null && o.score !== undefined && (top === null || cmp(parse(o.score), top) > 0)) { top = parse(o.score); }
    });
    return top === null ? ONE : top;
  }

  /* answers.normalize_answer: the canonical value, null when unanswered; throws InvalidAnswer (the server would
   * refuse the value too, so the form shows the item as not answered). */
  function normalize(item, raw) {
    if (isBlank(raw)) { return null; }
    var type = item.answer_type;
    if (type === "yes_no_na") {
      if (isNotObservedToken(raw)) { return notObservedOr(item); }
      var v = typeof raw === "string" ? raw.trim().toLowerCase() : "";
      if (v === "met" || v === "not_met") { return v; }
      if (v === "na") { return naOr(item); }
      throw new InvalidAnswer(item.id, "invalid_choice");
    }
    if (type === "scale") {
      if (isNaToken(raw)) { return naOr(item); }
      if (isNotObservedToken(raw)) { return notObservedOr(item); }
      var level = number(item, raw);
      if (Math.floor(level) !== level || !has(scaleValues(item), level)) { throw new InvalidAnswer(item.id, "invalid_choice"); }
      return level;
    }
    if (type === "options") {
      if (isNaToken(raw)) { return naOr(item); }
      if (isNotObservedToken(raw)) { return notObservedOr(item); }
      var text = typeof raw === "string" ? raw.trim() : raw;
      if (option(item, text) === null) { throw new InvalidAnswer(item.id, "invalid_choice"); }
      return text;
    }
    if (type === "number") { return isNaToken(raw) ? naOr(item) : numberAnswer(item, raw); }
    if (type === "text") { return textAnswer(item, raw); }
    throw new InvalidAnswer(item.id, "unknown_type");
  }

  function scoredType(item) { return item.answer_type === "yes_no_na" || item.answer_type === "scale" || item.answer_type === "options"; }
  /* Item.scored: earns points (not number or text, not informational). */
  function scored(item) { return scoredType(item) && !item.informational; }

  /* answers.item_value_fraction: share of the weight earned; null for N/A, not observed, unanswered, an option
   * left out of the score, or an answer type that is never scored. */
  function valueFraction(item, value) {
    if (value === null || value === "na" || value === "not_observed" || !scoredType(item)) { return null; }
    if (item.answer_type === "yes_no_na") { return value === "met" ? ONE : ZERO; }
    if (item.answer_type === "options") {
      var o = option(item, value);
      if (o.score === null || o.score === undefined) { return null; }
      var top = optionsMax(item);
      return isZero(top) ? ZERO : div(parse(o.score), top);
    }
    var low = scaleMin(item), high = scaleMax(item);
    return high === low ? ONE : frac(value - low, high - low);
  }

  /* answers.item_failed: not_met, a scale level or option score under finding_below (default: pass_min, the top
   * of the scale, the highest score). */
  function failed(item, value) {
    if (value === null || value === "na" || value === "not_observed") { return false; }
    if (item.answer_type === "yes_no_na") { return value === "not_met"; }
    var below = item.finding_below === null || item.finding_below === undefined ? null : parse(item.finding_below);
    if (item.answer_type === "scale") {
      if (below !== null) { return cmp(frac(value), below) < 0; }
      var passMin = item.pass_min === null || item.pass_min === undefined ? scaleMax(item) : item.pass_min;
      return value < passMin;
    }
    if (item.answer_type === "options") {
      var o = option(item, value);
      if (o === null || o.score === null || o.score === undefined) { return false; }
      return cmp(parse(o.score), below !== null ? below : optionsMax(item)) < 0;
    }
    return false;
  }

  /* answers.is_not_observed */
  function isNotObserved(item, value) { return value === "not_observed" && scoredType(item); }

  // ------------------------------------------------------------------------------------------ scoring

  function classify(overall, sectionPercents, hasCritical, rules) {
    var floor = parse(rules.section_min);
    var gates = !hasCritical && sectionPercents.every(function (p) { return cmp(p, floor) >= 0; });
    if (gates && cmp(overall, parse(rules.meets_min)) >= 0) { return "meets"; }
    if (gates && cmp(overall, parse(rules.conditional_min)) >= 0) { return "conditional"; }
    return "does_not_meet";
  }

  var RANK = { does_not_meet: 0, conditional: 1, meets: 2 };

  /* scoring._unobserved_outcome: with a "not observed" answer the result is not assessable, unless what was observed
   * already fails. */
  function unobservedOutcome(cls, anyNotObserved) {
    if (!anyNotObserved || cls === "does_not_meet") { return cls; }
    return "not_assessable";
  }

  function sum(list, f) { return list.reduce(function (acc, x) { return add(acc, f(x)); }, ZERO); }

  /* scoring.group_percent */
  function groupPercent(group, checklist, members) {
    var scoredSections = members.filter(function (s) { return s.exact !== null; });
    if (!scoredSections.length) { return null; }
    if (group.aggregation === "mean_of_sections") {
      return div(sum(scoredSections, function (s) { return s.exact; }), frac(scoredSections.length));
    }
    if (group.aggregation === "weighted_sections") {
      var weights = {};
      checklist.sections.forEach(function (sec) { weights[sec.id] = parse(sec.weight); });
      return div(sum(scoredSections, function (s) { return mul(weights[s.id], s.exact); }),
        sum(scoredSections, function (s) { return weights[s.id]; }));
    }
    // pooled (the default)
    return mul(div(sum(scoredSections, function (s) { return s.earned; }),
      sum(scoredSections, function (s) { return s.possible; })), HUNDRED);
  }

  /* scoring.score_group: the group's percentage and class by its own thresholds and section floor. */
  function scoreGroup(group, checklist, sections, profile) {
    if (group.applies_to && group.applies_to.length && !has(group.applies_to, profile.type)) {
      return { id: group.id, applicable: false, exact: null, percent: null, classification: null,
        critical_failures: [], not_observed: [], at_floor: true, sections_at_floor: true };
    }
    var members = sections.filter(function (s) { return has(group.sections, s.id); });
    var critical = [], unobserved = [];
    members.forEach(function (s) {
      Array.prototype.push.apply(critical, s.critical_failures);
      Array.prototype.push.apply(unobserved, s.not_observed);
    });
    var percent = groupPercent(group, checklist, members);
    var g = { id: group.id, applicable: true, exact: percent, percent: null, classification: null,
      critical_failures: critical, not_observed: unobserved, at_floor: true, sections_at_floor: true };
    if (percent === null) {
      g.classification = unobservedOutcome(null, unobserved.length > 0);
      return g;
    }
    var floor = parse(group.section_min);
    var sectionsOk = members.every(function (s) { return s.exact === null || cmp(s.exact, floor) >= 0; });
    var gates = !critical.length && sectionsOk;
    var cls = gates && cmp(percent, parse(group.meets_min)) >= 0 ? "meets"
      : gates && cmp(percent, parse(group.conditional_min)) >= 0 ? "conditional" : "does_not_meet";
    g.percent = displayPercent(percent);
    g.classification = unobservedOutcome(cls, unobserved.length > 0);
    g.at_floor = cmp(percent, parse(group.floor)) >= 0;
    g.sections_at_floor = sectionsOk;
    return g;
  }

  /* scoring.combine_groups: [overall percentage, class] under the checklist's groups_rule. */
  function combineGroups(groups, checklist, hasCritical) {
    var scoredGroups = groups.filter(function (g) { return g.exact !== null; });
    var unassessable = groups.some(function (g) { return g.classification === "not_assessable"; });
    if (!scoredGroups.length) { return [null, unassessable ? "not_assessable" : null]; }
    var weights = {};
    checklist.groups.forEach(function (g) { weights[g.id] = parse(g.weight); });
    var overall = div(sum(scoredGroups, function (g) { return mul(weights[g.id], g.exact); }),
      sum(scoredGroups, function (g) { return weights[g.id]; }));
    var rules = checklist.scoring;
    if ((rules.groups_rule || "all_groups_meet") === "all_groups_meet") {
      var classes = groups.map(function (g) { return g.classification; }).filter(function (c) { return c !== null; });
      if (has(classes, "does_not_meet")) { return [overall, "does_not_meet"]; }
      if (unassessable) { return [overall, "not_assessable"]; }
      return [overall, classes.reduce(function (w, c) { return RANK[c] < RANK[w] ? c : w; })];
    }
    // weighted_groups
    if (hasCritical || !scoredGroups.every(function (g) { return g.at_floor && g.sections_at_floor; })) {
      return [overall, "does_not_meet"];
    }
    if (cmp(overall, parse(rules.conditional_min)) < 0) { return [overall, "does_not_meet"]; }
    if (unassessable) { return [overall, "not_assessable"]; }
    return [overall, cmp(overall, parse(rules.meets_min)) >= 0 ? "meets" : "conditional"];
  }

  /* scoring.score_inspection, with the fields the tablet shows. */
  function score(checklist, profile, answers) {
    answers = answers || {};
    var result = {
      applicable: [], items: {}, sections: [], failed_items: [], critical_failures: [], unanswered: [],
      invalid: [], not_observed: [], groups: [], applicable_count: 0, answered_count: 0
    };
    var earned = ZERO, possible = ZERO;
    checklist.sections.forEach(function (section) {
      var s = { id: section.id, applicable: 0, answered: 0, earned: ZERO, possible: ZERO, failed_items: [],
        critical_failures: [], not_observed: [] };
      section.items.forEach(function (item) {
        var applies = itemApplies(item, section, profile);
        if (!applies[0]) {
          result.items[item.id] = { applicable: false, reason: applies[1], answered: false, failed: false, critical: false };
          return;
        }
        var value;
        try { value = normalize(item, answers[item.id]); } catch (e) {
          if (!(e instanceof InvalidAnswer)) { throw e; }
          value = null;
          result.invalid.push(item.id);
        }
        var f = valueFraction(item, value);
        var itemPossible = f !== null && scored(item) ? parse(item.weight) : ZERO;
        var itemEarned = f !== null ? mul(f, itemPossible) : ZERO;
        // An informational item records what was found but is never a finding.
        var isFailed = scored(item) && failed(item, value);
        var critical = itemIsCritical(item, profile);
        var unobserved = isNotObserved(item, value);
        result.applicable.push(item.id);
        s.applicable += 1;
        if (value === null) { result.unanswered.push(item.id); } else { s.answered += 1; }
        if (isFailed) {
          s.failed_items.push(item.id);
          if (critical) { s.critical_failures.push(item.id); }
        }
        if (unobserved) { s.not_observed.push(item.id); }
        s.earned = add(s.earned, itemEarned);
        s.possible = add(s.possible, itemPossible);
        result.items[item.id] = {
          applicable: true,
          reason: value === "na" && item.answer_type !== "text" ? "na" : unobserved ? "not_observed" : "",
          answered: value !== null, value: value, failed: isFailed, critical: critical
        };
      });
      s.exact = isZero(s.possible) ? null : mul(div(s.earned, s.possible), HUNDRED);
      s.percent = s.exact === null ? null : displayPercent(s.exact);
      earned = add(earned, s.earned);
      possible = add(possible, s.possible);
      result.sections.push(s);
    });
    result.sections.forEach(function (s) {
      Array.prototype.push.apply(result.failed_items, s.failed_items);
      Array.prototype.push.apply(result.critical_failures, s.critical_failures);
      Array.prototype.push.apply(result.not_observed, s.not_observed);
      result.applicable_count += s.applicable;
      result.answered_count += s.answered;
    });
    var overall = null, provisional = null;
    if (checklist.groups && checklist.groups.length) {
      result.groups = checklist.groups.map(function (g) { return scoreGroup(g, checklist, result.sections, profile); });
      var combined = combineGroups(result.groups, checklist, result.critical_failures.length > 0);
      overall = combined[0];
      provisional = combined[1];
    } else {
      if (!isZero(possible)) {
        if (checklist.scoring.overall === "weighted_sections") {
          var weights = {};
          checklist.sections.forEach(function (sec) { weights[sec.id] = parse(sec.weight); });
          var withPercent = result.sections.filter(function (x) { return x.exact !== null; });
          overall = div(sum(withPercent, function (x) { return mul(weights[x.id], x.exact); }),
            sum(withPercent, function (x) { return weights[x.id]; }));
        } else {
          overall = mul(div(earned, possible), HUNDRED);
        }
      }
      var percents = result.sections.filter(function (x) { return x.exact !== null; }).map(function (x) { return x.exact; });
      provisional = overall === null ? null
        : classify(overall, percents, result.critical_failures.length > 0, checklist.scoring);
      provisional = unobservedOutcome(provisional, result.not_observed.length > 0);
    }
    result.provisional_classification = provisional;
    result.complete = result.unanswered.length === 0;
    result.reason = !result.complete ? "incomplete" : provisional === null ? "nothing_scorable" : "";
    result.classification = result.reason ? null : provisional;
    result.overall_percent = overall === null ? null : displayPercent(overall);
    return result;
  }

  // ------------------------------------------------------------------------------------------ the applicable set's hash

  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2];

  /* SHA-256 of a text's UTF-8 bytes, as hex. Synchronous (crypto.subtle is not, and is missing on plain http). */
  function sha256(text) {
    var bytes = Array.prototype.slice.call(new TextEncoder().encode(text));
    var bitLength = bytes.length * 8;
    bytes.push(0x80);
    while (bytes.length % 64 !== 56) { bytes.push(0); }
    for (var s = 7; s >= 0; s--) { bytes.push(s >= 4 ? 0 : (bitLength >>> (s * 8)) & 255); }
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var w = new Array(64);
    function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }
    for (var off = 0; off < bytes.length; off += 64) {
      for (var i = 0; i < 16; i++) {
        w[i] = (bytes[off + 4 * i] << 24) | (bytes[off + 4 * i + 1] << 16) | (bytes[off + 4 * i + 2] << 8) | bytes[off + 4 * i + 3];
      }
      for (i = 16; i < 64; i++) {
        var s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        var s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
      for (i = 0; i < 64; i++) {
        var t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h = [(h[0] + a) | 0, (h[1] + b) | 0, (h[2] + c) | 0, (h[3] + d) | 0, (h[4] + e) | 0, (h[5] + f) | 0, (h[6] + g) | 0, (h[7] + hh) | 0];
    }
    return h.map(function (x) { return ("00000000" + (x >>> 0).toString(16)).slice(-8); }).join("");
  }

  /* tablet.applicable_hash: what the tablet and the server compare before a sync. */
  function applicableHash(checklist, profile) { return sha256(applicableIds(checklist, profile).join("\n")); }

  /* The choices that fail an item (a corrective action is then needed). */
  function failingChoices(item) {
    if (!scored(item)) { return []; }
    if (item.answer_type === "yes_no_na") { return ["not_met"]; }
    if (item.answer_type === "scale") { return scaleValues(item).filter(function (v) { return failed(item, v); }).map(String); }
    if (item.answer_type === "options") {
      return (item.options || []).filter(function (o) { return failed(item, o.value); }).map(function (o) { return o.value; });
    }
    return [];
  }

  /* A percentage as the server's `pct` filter writes it: Babel formats float(value) / 100 from its shortest decimal
   * digits, to one decimal, half to even ("75,5%" in Vietnamese, "75.5%" in English). JS's String() gives the same
   * shortest digits of the same double, so the same text comes out. */
  function percentText(value, lang) {
    if (value === null || value === undefined) { return "—"; }
    var text = String(value / 100);
    if (/e/i.test(text)) { text = (value / 100).toFixed(20); }
    var parts = text.split("."), frac = (parts[1] || "") + "000";
    var keep = Number(parts[0] + frac.slice(0, 3));          // tenths of a percent, rounded down
    var drop = frac.slice(3).replace(/0+$/, "");
    if (drop > "5" || (drop === "5" && keep % 2 === 1)) { keep += 1; }
    var whole = String(Math.floor(keep / 10));
    whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, lang === "vi" ? "." : ",");
    return whole + (lang === "vi" ? "," : ".") + String(keep % 10) + "%";
  }

  return {
    percentText: percentText,
    itemApplies: itemApplies, itemIsCritical: itemIsCritical, applicableIds: applicableIds, normalize: normalize,
    failed: failed, failingChoices: failingChoices, scored: scored, score: score, sha256: sha256, applicableHash: applicableHash,
    InvalidAnswer: InvalidAnswer
  };
});
