/* What the inspection form says about a typed answer, for both the online form (static/js/inspection.js) and the
 * offline one (static/js/offline.js): one function, one set of messages. The rule itself is QAEngine.normalize
 * (static/js/qa-engine.js), the server's: a value it refuses is shown at once under the box and never kept.
 */
(function (global) {
  "use strict";

  function fill(text, params) {
    Object.keys(params || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(params[name])); });
    return text;
  }

  /* "" when the server would take `raw` for `item`, else why not in the user's words. `T` holds the messages
   * value_integer, value_number, value_min, value_max, value_too_long, value_refused (placeholders {item}, {min},
   * {max}, {n}). */
  function typedProblem(item, raw, T, lang) {
    try { global.QAEngine.normalize(item, raw); } catch (e) {
      if (!(e instanceof global.QAEngine.InvalidAnswer)) { throw e; }
      var shown = function (n) { return String(n).replace(".", lang === "vi" ? "," : "."); };
      if (e.code === "not_an_integer") { return fill(T.value_integer, { item: item.id }); }
      if (e.code === "below_min") { return fill(T.value_min, { min: shown(item.min) }); }
      if (e.code === "above_max") { return fill(T.value_max, { max: shown(item.max) }); }
      if (e.code === "too_long") { return fill(T.value_too_long, { n: Math.min(item.max_length || 2000, 2000) }); }
      if (item.answer_type === "number") { return fill(T.value_number, { item: item.id }); }
      // Any other refusal (control characters in a text, an unknown option): never "" (that would send it).
      return fill(T.value_refused, { item: item.id });
    }
    return "";
  }

  global.QAForm = { typedProblem: typedProblem, fill: fill };
})(this);
