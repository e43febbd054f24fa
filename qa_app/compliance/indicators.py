"""Compliance indicators and targets as configuration: load and validate the YAML, interpolate targets.

Pure module (no Flask, no database). The YAML is composed into nodes so that every value keeps its
line; the whole document is checked and every problem is reported at once as :class:`IndicatorError`.
Nothing is returned from a document with a problem. The format is described in ``docs/indicators.md``.
The objects built (indicators, plans, targets) are defined in :mod:`.indicator_set`.
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path
from typing import Any

import yaml

from ..checklists.loader import Problem  # the same "file:line: message" as a checklist problem
from ..checklists.reading import LineChecker
from ..checklists.schema import (
    CLASSIFICATIONS,
    PROGRAMMES,
    SERVICES,
    Text,
)

# The indicators and plans themselves (re-exported: this module is where callers find them).
from .indicator_set import (
    COUNTED_TYPES,
    OWNERSHIPS,
    Filters,
    Indicator,
    IndicatorError,
    IndicatorSet,
    ProvinceKey,
    ProvincePlan,
    target_at,
)

__all__ = [
    "DEFAULT_PATH",
    "Filters",
    "Indicator",
    "IndicatorError",
    "IndicatorSet",
    "Problem",
    "ProvincePlan",
    "load_indicators",
    "load_indicators_cached",
    "parse_indicators",
    "parse_province",
    "target_at",
]

DEFAULT_PATH = Path(__file__).resolve().parent / "indicators.yaml"
FORMAT_VERSION = 1
SYSTEMS: tuple[str, ...] = ("pre2025", "2025")
MIN_YEAR, MAX_YEAR = 2000, 2100

TOP_KEYS = ("schema", "indicators", "provinces")
# A monitoring indicator (stock-outs, expired stock, coverage of private facilities) has no target: lower or
# higher is not a plan's commitment, so "targets" is optional.
INDICATOR_REQUIRED = ("id", "title", "measure")
INDICATOR_OPTIONAL = ("definition", "source", "filters", "baseline", "validity_months", "targets")
OVERRIDE_KEYS = ("measure", "filters", "baseline", "targets", "validity_months")
# What makes a counted facility "meet" the indicator (see docs/indicators.md, "Measures"). At least one of the
# rule keys must be given; several are all required together.
MEASURE_RULES = ("classifications", "items_met", "items_not_met", "ever_assessed")
MEASURE_KEYS = (*MEASURE_RULES, "requires_services", "denominator")
DENOMINATORS = ("all", "assessed")
FILTER_KEYS = ("facility_types", "ownership", "high_fertility", "programmes")
# An item id as checklists write it (A1, C8, E12); the item's existence is checked against the registered
# checklists by the compliance module, not here (this module knows no checklist).
ITEM_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
BASELINE_KEYS = ("year", "value")
PROVINCE_REQUIRED = ("system", "code")
PROVINCE_OPTIONAL = ("name", "plan", "overrides", "indicators", "population_targets")

# --------------------------------------------------------------------------------------------------
# YAML with lines
# --------------------------------------------------------------------------------------------------

PathKey = tuple[Any, ...]
_BAD = object()


class _Document:
    """Plain values from composed YAML nodes, with the line of every value and key."""

    def __init__(self) -> None:
        self.lines: dict[PathKey, int] = {}
        self.key_lines: dict[PathKey, int] = {}
        self.problems: list[tuple[int, str]] = []
        self._constructor = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, path: PathKey = ()) -> Any:
        line = node.start_mark.line + 1
        self.lines[path] = line
        if len(path) > 20:
            self.problems.append((line, "values are nested too deeply"))
            return _BAD
        if isinstance(node, yaml.ScalarNode):
            try:
                return self._constructor.construct_object(node, deep=True)
            except Exception:  # noqa: BLE001 - PyYAML raises various errors for unreadable scalars
                self.problems.append((line, f"cannot read the value {node.value!r}"))
                return _BAD
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(child, (*path, i)) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            first: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key_line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    self.problems.append((key_line, "a key must be a plain word or number"))
                    continue
                key = self.convert(key_node, (*path, "<key>"))
                if key is _BAD:
                    continue
                if key in first:
                    self.problems.append((key_line, f"duplicate key {key!r} (already given at line {first[key]})"))
                    continue
                first[key] = key_line
                self.key_lines[(*path, key)] = key_line
                result[key] = self.convert(value_node, (*path, key))
            return result
        self.problems.append((line, "unreadable YAML value"))  # pragma: no cover
        return _BAD


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Validator(LineChecker):
    """Checks a whole document and collects every problem (by line, as the checklist validator does)."""

    def mapping(self, value: Any, path: PathKey, label: str, required: tuple[str, ...],
                optional: tuple[str, ...]) -> dict[Any, Any] | None:
        if value is _BAD:
            return None
        if not isinstance(value, dict):
            self.err(path, f"{label} must be a mapping (key: value)")
            return None
        known = required + optional
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.err((*path, key), f"{label}: unknown key '{key}'{hint}; allowed: {', '.join(known)}",
                         at_key=True)
        for key in required:
            if key not in value:
                self.err(path, f"{label}: missing required key '{key}'")
        return value

    def text(self, value: Any, path: PathKey, label: str) -> Text | None:
        data = self.mapping(value, path, label, ("vi",), ("en",))
        if data is None:
            return None
        ok = True
        for key in ("vi", "en"):
            if key in data and (not isinstance(data[key], str) or (key == "vi" and not data[key].strip())):
                self.err((*path, key), f"{label}.{key} must be a non-empty text")
                ok = False
        return Text(vi=data.get("vi", ""), en=data.get("en", "")) if ok and "vi" in data else None

    def codes(self, value: Any, path: PathKey, label: str, allowed: tuple[str, ...],
              kind: str) -> tuple[str, ...] | None:
        if not isinstance(value, list) or not value:
            self.err(path, f"{label} must be a non-empty list")
            return None
        result = []
        for i, code in enumerate(value):
            if code not in allowed:
                self.err((*path, i), f"{label}: unknown {kind} {code!r}; known: {', '.join(allowed)}")
            elif code in result:
                self.err((*path, i), f"{label}: {code!r} is listed twice")
            else:
                result.append(code)
        return tuple(result) if len(result) == len(value) else None

    def year(self, value: Any, path: PathKey, label: str, at_key: bool = False) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool) or not MIN_YEAR <= value <= MAX_YEAR:
            self.err(path, f"{label}: {value!r} is not a year (write e.g. 2025, between {MIN_YEAR} and {MAX_YEAR})",
                     at_key=at_key)
            return None
        return value

    def percent(self, value: Any, path: PathKey, label: str) -> float | None:
        if not _is_number(value) or not 0 <= value <= 100:
            self.err(path, f"{label}: {value!r} must be a percentage between 0 and 100")
            return None
        return float(value)

    # -- parts -----------------------------------------------------------------------------------

    def targets(self, value: Any, path: PathKey, label: str) -> dict[int, float] | None:
        if not isinstance(value, dict) or not value:
            self.err(path, f"{label}: targets must be a mapping of year: percentage, e.g. 2025: 75")
            return None
        result: dict[int, float] = {}
        ok = True
        for key, target in value.items():
            year = self.year(key, (*path, key), f"{label}: target year", at_key=True)
            pct = self.percent(target, (*path, key), f"{label}: target for {key}")
            if year is None or pct is None:
                ok = False
            else:
                result[year] = pct
        return result if ok else None

    def measure(self, value: Any, path: PathKey, label: str, partial: bool) -> dict[str, Any] | None:
        data = self.mapping(value, path, f"{label}: measure", (), MEASURE_KEYS)
        if data is None:
            return None
        result: dict[str, Any] = {}
        ok = True
        if not partial and not any(key in data for key in MEASURE_RULES):
            self.err(path, f"{label}: measure needs at least one of {', '.join(MEASURE_RULES)}")
            ok = False
        if "classifications" in data:
            found = self.codes(data["classifications"], (*path, "classifications"), f"{label}: classifications",
                               CLASSIFICATIONS, "classification")
            ok &= found is not None
            result["classifications"] = found
        if "requires_services" in data:
            services = data["requires_services"]
            found = () if services == [] else self.codes(
                services, (*path, "requires_services"), f"{label}: requires_services", SERVICES, "service")
            ok &= found is not None
            result["requires_services"] = found
        for key in ("items_met", "items_not_met"):
            if key in data:
                found = self.items(data[key], (*path, key), f"{label}: {key}")
                ok &= found is not None
                result[key] = found
        if "ever_assessed" in data:
            if data["ever_assessed"] is not True:
                self.err((*path, "ever_assessed"), f"{label}: ever_assessed can only be true (leave it out otherwise)")
                ok = False
            result["ever_assessed"] = True
        if "denominator" in data:
            if data["denominator"] not in DENOMINATORS:
                self.err((*path, "denominator"),
                         f"{label}: denominator must be one of {', '.join(DENOMINATORS)}, not {data['denominator']!r}")
                ok = False
            result["denominator"] = data["denominator"]
        return result if ok else None

    def items(self, value: Any, path: PathKey, label: str) -> tuple[str, ...] | None:
        if not isinstance(value, list) or not value:
            self.err(path, f"{label} must be a non-empty list of checklist item ids, e.g. [C2, D3, E6]")
            return None
        result: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item or not set(item) <= ITEM_ID_CHARS or not item[0].isalpha():
                self.err((*path, i), f"{label}: {item!r} is not a checklist item id (capital letters and digits, "
                                     "e.g. E6)")
            elif item in result:
                self.err((*path, i), f"{label}: {item!r} is listed twice")
            else:
                result.append(item)
        return tuple(result) if len(result) == len(value) else None

    def filters(self, value: Any, path: PathKey, label: str) -> dict[str, Any] | None:
        data = self.mapping(value, path, f"{label}: filters", (), FILTER_KEYS)
        if data is None:
            return None
        result: dict[str, Any] = {}
        ok = True
        if "facility_types" in data:
            # A mobile team is not a facility: no indicator may count it.
            found = self.codes(data["facility_types"], (*path, "facility_types"), f"{label}: facility_types",
                               COUNTED_TYPES, "facility type")
            ok &= found is not None
            result["facility_types"] = found
        if "ownership" in data:
            found = self.codes(data["ownership"], (*path, "ownership"), f"{label}: ownership", OWNERSHIPS,
                               "ownership")
            ok &= found is not None
            result["ownership"] = found
        if "programmes" in data:
            found = self.codes(data["programmes"], (*path, "programmes"), f"{label}: programmes", PROGRAMMES,
                               "programme")
            ok &= found is not None
            result["programmes"] = tuple(p for p in PROGRAMMES if p in (found or ()))
        if "high_fertility" in data:
            flag = data["high_fertility"]
            # "any" says in so many words that a plan covers every station (Bắc Giang), rather than leaving
            # the reader to guess what an empty value means.
            if flag == "any":
                flag = None
            if flag is not None and not isinstance(flag, bool):
                self.err((*path, "high_fertility"), f"{label}: high_fertility must be true, false or any")
                ok = False
            result["high_fertility"] = flag
        return result if ok else None

    def baseline(self, value: Any, path: PathKey, label: str) -> dict[str, Any] | None:
        data = self.mapping(value, path, f"{label}: baseline", ("year",), ("value",))
        if data is None:
            return None
        year = self.year(data.get("year"), (*path, "year"), f"{label}: baseline year") if "year" in data else None
        pct = None
        if data.get("value") is not None:
            pct = self.percent(data["value"], (*path, "value"), f"{label}: baseline value")
            if pct is None:
                return None
        return {"baseline_year": year, "baseline_value": pct} if year is not None else None

    def validity(self, value: Any, path: PathKey, label: str) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 120:
            self.err(path, f"{label}: validity_months must be a whole number of months between 1 and 120")
            return None
        return value

    def check_baseline_order(self, fields: dict[str, Any], path: PathKey, label: str) -> None:
        year, targets = fields.get("baseline_year"), fields.get("targets")
        if year is not None and targets and year >= min(y for y, _ in targets):
            self.err((*path, "baseline", "year"),
                     f"{label}: the baseline year {year} must come before the first target year")

    def indicator(self, value: Any, path: PathKey, province: ProvinceKey | None) -> Indicator | None:
        data = self.mapping(value, path, "indicator", INDICATOR_REQUIRED, INDICATOR_OPTIONAL)
        if data is None:
            return None
        ident = data.get("id")
        label = f"indicator '{ident}'" if isinstance(ident, str) else "indicator"
        ok = True
        if not isinstance(ident, str) or not ident.replace("_", "").isalnum() or not ident[:1].isalpha():
            self.err((*path, "id"), f"{label}: id must be a word of letters, digits and _ (e.g. tyt_methods_ready)")
            ok = False
        fields: dict[str, Any] = {}
        title = self.text(data.get("title"), (*path, "title"), f"{label}: title") if "title" in data else None
        ok &= title is not None
        definition = (self.text(data["definition"], (*path, "definition"), f"{label}: definition")
                      if "definition" in data else Text(vi=""))
        ok &= definition is not None
        shared, shared_ok = self.shared_fields(data, path, label, partial=False)
        ok &= shared_ok
        fields.update(shared)
        if "filters" in fields:
            fields["filters"] = Filters(**(fields["filters"] or {}))
        if "source" in data and not isinstance(data["source"], str):
            self.err((*path, "source"), f"{label}: source must be a text")
            ok = False
        self.check_baseline_order(fields, path, label)
        if not ok or any(key not in data for key in INDICATOR_REQUIRED):
            return None
        return Indicator(id=ident, title=title, definition=definition or Text(vi=""),
                         source=data.get("source", ""), province=province, **fields)

    def override(self, value: Any, path: PathKey, label: str) -> dict[str, Any] | None:
        data = self.mapping(value, path, label, (), OVERRIDE_KEYS)
        if data is None:
            return None
        fields, ok = self.shared_fields(data, path, label, partial=True)
        return fields if ok else None

    def shared_fields(self, data: dict[str, Any], path: PathKey, label: str,
                      *, partial: bool) -> tuple[dict[str, Any], bool]:
        """The fields an indicator and a province override both carry, checked; ``filters`` stays a dict."""
        fields: dict[str, Any] = {}
        ok = True
        if "measure" in data:
            measure = self.measure(data["measure"], (*path, "measure"), label, partial=partial)
            ok &= measure is not None
            fields.update(measure or {})
        if "filters" in data:
            filters = self.filters(data["filters"], (*path, "filters"), label)
            ok &= filters is not None
            fields["filters"] = filters
        if "targets" in data:
            targets = self.targets(data["targets"], (*path, "targets"), label)
            ok &= targets is not None
            fields["targets"] = tuple(sorted((targets or {}).items()))
        if "baseline" in data:
            baseline = self.baseline(data["baseline"], (*path, "baseline"), label)
            ok &= baseline is not None
            fields.update(baseline or {})
        if "validity_months" in data:
            months = self.validity(data["validity_months"], (*path, "validity_months"), label)
            ok &= months is not None
            fields["validity_months"] = months
        return fields, ok

    def province(self, value: Any, path: PathKey, national: dict[str, Indicator],
                 declared: set[str]) -> ProvincePlan | None:
        data = self.mapping(value, path, "province", PROVINCE_REQUIRED, PROVINCE_OPTIONAL)
        if data is None:
            return None
        system, code = data.get("system"), data.get("code")
        ok = True
        if "system" in data and system not in SYSTEMS:
            self.err((*path, "system"), f"province: system must be one of {', '.join(SYSTEMS)}, not {system!r}")
            ok = False
        if "code" in data and not (isinstance(code, str) and len(code) == 2 and code.isdigit()):
            self.err((*path, "code"), f"province: code must be two digits in quotes, e.g. \"24\", not {code!r}")
            ok = False
        key = (system, code)
        label = f"province {system}:{code}"
        overrides: dict[str, dict[str, Any]] = {}
        raw = data.get("overrides", {})
        if not isinstance(raw, dict):
            self.err((*path, "overrides"), f"{label}: overrides must be a mapping of indicator id: changes")
            ok = False
            raw = {}
        for ident, changes in raw.items():
            if ident not in national:
                if ident in declared:  # declared but invalid: already reported there
                    ok = False
                    continue
                close = difflib.get_close_matches(str(ident), sorted(declared), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.err((*path, "overrides", ident), f"{label}: overrides unknown indicator '{ident}'{hint}",
                         at_key=True)
                ok = False
                continue
            fields = self.override(changes, (*path, "overrides", ident), f"{label}: override of '{ident}'")
            if fields is None:
                ok = False
                continue
            merged = {"baseline_year": national[ident].baseline_year, "targets": national[ident].targets, **fields}
            if "targets" in fields:
                merged["targets"] = tuple(sorted({**dict(national[ident].targets), **dict(fields["targets"])}.items()))
            self.check_baseline_order(merged, (*path, "overrides", ident), f"{label}: override of '{ident}'")
            overrides[ident] = fields
        own: list[Indicator] = []
        extra = data.get("indicators", [])
        if not isinstance(extra, list):
            self.err((*path, "indicators"), f"{label}: indicators must be a list")
            ok = False
            extra = []
        seen = set(declared)
        for i, item in enumerate(extra):
            indicator = self.indicator(item, (*path, "indicators", i), key if ok else None)
            ident = item.get("id") if isinstance(item, dict) else None
            if isinstance(ident, str) and ident in seen:
                self.err((*path, "indicators", i, "id"), f"{label}: duplicate indicator id '{ident}'")
                ok = False
            seen.add(ident)
            if indicator is None:
                ok = False
            else:
                own.append(indicator)
        population = self.population_targets(data.get("population_targets", {}), (*path, "population_targets"),
                                             label)
        ok &= population is not None
        for text_key in ("name", "plan"):
            if text_key in data and not isinstance(data[text_key], str):
                self.err((*path, text_key), f"{label}: {text_key} must be a text")
                ok = False
        if not ok:
            return None
        return ProvincePlan(system=system, code=code, name=data.get("name", ""), plan=data.get("plan", ""),
                            overrides=overrides, indicators=tuple(own), population_targets=population or {})

    def population_targets(self, value: Any, path: PathKey, label: str) -> dict[str, tuple] | None:
        """A plan's targets on reported population figures: percentage indicators only (a count has none)."""
        from .population import POPULATION_INDICATORS

        if not isinstance(value, dict):
            self.err(path, f"{label}: population_targets must be a mapping of indicator id: targets")
            return None
        allowed = tuple(i for i, ind in POPULATION_INDICATORS.items() if ind.kind == "percent")
        result: dict[str, tuple] = {}
        ok = True
        for ident, targets in value.items():
            if ident not in allowed:
                self.err((*path, ident), f"{label}: population_targets: unknown population indicator '{ident}'; "
                                         f"known: {', '.join(allowed)}", at_key=True)
                ok = False
                continue
            found = self.targets(targets, (*path, ident), f"{label}: population target '{ident}'")
            if found is None:
                ok = False
            else:
                result[ident] = tuple(sorted(found.items()))
        return result if ok else None

    def run(self, data: dict[Any, Any]) -> tuple[tuple[Indicator, ...], dict[ProvinceKey, ProvincePlan]]:
        self.mapping(data, (), "the file", ("schema", "indicators"), ("provinces",))
        if "schema" in data and data["schema"] != FORMAT_VERSION:
            self.err(("schema",), f"schema must be {FORMAT_VERSION}, not {data['schema']!r}")
        raw = data.get("indicators", [])
        if not isinstance(raw, list) or not raw:
            self.err(("indicators",), "indicators must be a non-empty list")
            raw = []
        national: dict[str, Indicator] = {}
        seen: dict[str, int] = {}
        for i, item in enumerate(raw):
            indicator = self.indicator(item, ("indicators", i), None)
            ident = item.get("id") if isinstance(item, dict) else None
            if isinstance(ident, str):
                if ident in seen:
                    self.err(("indicators", i, "id"),
                             f"duplicate indicator id '{ident}' (already defined at line {seen[ident]})")
                    continue
                seen[ident] = self.line(("indicators", i, "id"))
            if indicator is not None:
                national[indicator.id] = indicator
        provinces: dict[ProvinceKey, ProvincePlan] = {}
        raw_p = data.get("provinces", [])
        if not isinstance(raw_p, list):
            self.err(("provinces",), "provinces must be a list")
            raw_p = []
        first: dict[ProvinceKey, int] = {}
        for i, item in enumerate(raw_p):
            plan = self.province(item, ("provinces", i), national, set(seen))
            if isinstance(item, dict):
                key = (item.get("system"), item.get("code"))
                if key in first:
                    self.err(("provinces", i), f"province {key[0]}:{key[1]} has two plans (the other at line "
                                               f"{first[key]}): put everything in one")
                    continue
                first[key] = self.line(("provinces", i))
            if plan is not None:
                provinces[(plan.system, plan.code)] = plan
        return tuple(national.values()), provinces


def parse_indicators(text: str, source: str) -> IndicatorSet:
    """Parse the indicators YAML named ``source``; raise IndicatorError listing every problem."""
    def fail(found: list[tuple[int, str]]) -> IndicatorError:
        unique = sorted(dict.fromkeys((max(line, 1), msg) for line, msg in found), key=lambda p: p[0])
        return IndicatorError([Problem(source, line, msg) for line, msg in unique])

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise fail([((mark.line + 1) if mark else 1, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")]) \
            from None
    if node is None:
        raise fail([(1, "the file is empty: it must start with 'schema: 1' and list indicators")])
    doc = _Document()
    data = doc.convert(node)
    if not isinstance(data, dict):
        raise fail([*doc.problems, (1, "the top level must be a mapping with schema, indicators and provinces")])
    validator = _Validator(doc)
    indicators, provinces = validator.run(data)
    found = doc.problems + validator.problems
    if found:
        raise fail(found)
    return IndicatorSet(indicators=indicators, provinces=provinces, source=source)


def parse_province(data: Any, national: IndicatorSet, source: str) -> ProvincePlan:
    """Check one province plan given as plain values (a plan stored in the database, or a form's result).

    The same checks as a ``provinces`` entry of the file (the validator is shared), against the national
    indicators of ``national``; raise IndicatorError naming ``source`` (plain values have no lines).
    """
    doc = _Document()
    validator = _Validator(doc)
    declared = {ind.id: ind for ind in national.indicators}
    plan = validator.province(data, (), declared, set(declared))
    if validator.problems or plan is None:
        found = validator.problems or [(1, "the plan cannot be read")]
        raise IndicatorError([Problem(source, 0, msg) for _line, msg in dict.fromkeys(found)])
    return plan


def load_indicators(path: str | Path = DEFAULT_PATH) -> IndicatorSet:
    """Load and validate an indicators file; raise IndicatorError listing every problem, load nothing."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise IndicatorError([Problem(str(path), 1, f"cannot read the file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise IndicatorError([Problem(str(path), 1, "the file is not UTF-8 text: save it as UTF-8")]) from None
    return parse_indicators(text, str(path))


@functools.lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int) -> IndicatorSet:
    return load_indicators(path)


def load_indicators_cached(path: str | Path = DEFAULT_PATH) -> IndicatorSet:
    """Load once per file version (keyed by modification time), so each request does not re-parse."""
    path = Path(path)
    return _cached(str(path), path.stat().st_mtime_ns)
