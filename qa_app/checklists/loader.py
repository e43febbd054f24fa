"""Load checklist YAML files into frozen :class:`Checklist` objects, reporting problems by line.

Pure module (no Flask, no database). The file is composed with PyYAML's safe loader into nodes, so
every value keeps the line it came from; the whole document is then checked and *every* problem is
reported at once as :class:`ChecklistError`. A checklist object is only built from a document
without problems.

The format is described in ``checklists/README.md``; ``checklists/checklist.schema.json``
describes the same shape for editors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import yaml

from .schema import (
    ANSWER_TYPES,
    DEFAULT_PROGRAMME,
    FACILITY_TYPES,
    GROUP_AGGREGATIONS,
    GROUP_RULES,
    PROGRAMMES,
    SERVICES,
    STATUSES,
    VERIFICATION_METHODS,
    Checklist,
    Item,
    Option,
    LegalBasis,
    ScaleLevel,
    ScoreGroup,
    ScoringRules,
    Section,
    Text,
)

__all__ = [
    "ChecklistDiff",
    "ChecklistError",
    "Problem",
    "canonical_json",
    "diff_checklists",
    "format_diff",
    "load_checklist",
    "load_directory",
    "parse_checklist",
    "programmes_available",
    "select_version",
]

FORMAT_VERSION = 1
CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
# Section and item ids end up in URLs, form field names and the database: keep to safe characters.
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
FILE_NAME_RE = re.compile(r"v([0-9]+)\.yaml")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Lengths of the database columns the values are copied into (checklist_version.code, title_*).
MAX_CODE_LENGTH = 64
MAX_TITLE_LENGTH = 300
OVERALL_METHODS: tuple[str, ...] = ("pooled", "weighted_sections")
CRITICAL_VALUES: tuple[str, ...] = ("never", "always")
INFORMATIONAL_ANSWER_TYPES: tuple[str, ...] = ("number", "text")

TOP_REQUIRED = (
    "schema",
    "code",
    "version",
    "status",
    "title",
    "effective_from",
    "facility_types",
    "scoring",
    "sections",
)
TOP_OPTIONAL = ("description", "legal_basis", "programme", "groups")
SCORING_REQUIRED = (
    "overall",
    "meets_min",
    "conditional_min",
    "section_min",
    "validity_months",
    "corrective_days",
)
SCORING_OPTIONAL = ("groups_rule",)
GROUP_REQUIRED = ("id", "title", "sections", "meets_min", "conditional_min")
GROUP_OPTIONAL = ("aggregation", "section_min", "floor", "weight", "applies_to")
SECTION_REQUIRED = ("id", "title", "items")
SECTION_OPTIONAL = ("weight", "applies_to", "applies_if_offers", "instructions", "informational")
ITEM_REQUIRED = ("id", "text")
ITEM_OPTIONAL = (
    "guidance",
    "verification",
    "answer",
    "weight",
    "applies_to",
    "applies_if_offers",
    "critical",
    "allow_na",
    "allow_not_observed",
    "scale",
    "pass_min",
    "unit",
    "finding_below",
    "integer",
    "min",
    "max",
    "max_length",
    "informational",
    "options",
)
TEXT_REQUIRED = ("vi",)
TEXT_OPTIONAL = ("en",)
# A legal_basis entry is a text that may also say where and when it applies.
LEGAL_BASIS_OPTIONAL = ("facility_types", "in_force_from", "in_force_until")

# Nesting and size limits: the format is at most ~8 levels deep, and aliases could otherwise
# expand a small file into millions of values ("billion laughs").
MAX_DEPTH = 40
MAX_VALUES = 200_000

# Characters refused inside strings: control characters (C0 except tab/newline/CR, DEL, C1), the
# Unicode line/paragraph separators, surrogates and U+FFFE/U+FFFF. None belongs in checklist
# text, and they would not survive the round trip through the canonical JSON stored in the
# database (PyYAML refuses or folds them when the stored JSON is parsed again).
_BAD_CHAR_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]"
)
# Line breaks as PyYAML counts them, so that our line numbers agree with its marks.
_LINE_BREAK_RE = re.compile("\r\n|[\n\r\x85\u2028\u2029]")

PathKey = tuple[Any, ...]


@dataclass(frozen=True)
class Problem:
    """One problem in a checklist file, located by file and line (1-based)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ChecklistError(Exception):
    """A checklist file (or folder) has problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = list(problems)

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle their args by default, which here is the joined message, not the list.
        return (self.__class__, (self.problems,))


# --------------------------------------------------------------------------------------------------
# YAML → plain values with lines
# --------------------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe loader that also reads JSON-style exponents (``1e+16``) as floats.

    The registry re-parses the canonical JSON stored in the database with :func:`parse_checklist`;
    ``json.dumps`` writes large and small floats as ``1e+16`` / ``1e-05``, which YAML 1.1 would read
    as strings.
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


class _Bad:
    """Placeholder for a value that could not be read (already reported); checks skip it."""

    def __repr__(self) -> str:
        return "<unreadable>"


_BAD = _Bad()
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Document:
    """Plain Python values built from composed YAML nodes, with the line of every value and key."""

    def __init__(self) -> None:
        self.lines: dict[PathKey, int] = {}
        self.key_lines: dict[PathKey, int] = {}
        self.problems: list[tuple[int, str]] = []
        self._budget = MAX_VALUES
        self._constructor = _Loader("")

    def convert(self, node: yaml.Node, path: PathKey = (), stack: tuple[int, ...] = ()) -> Any:
        """Return the value of ``node`` (``_BAD`` where unreadable), recording lines by path."""
        line = node.start_mark.line + 1
        self.lines[path] = line
        self._budget -= 1
        if self._budget == 0:
            self.problems.append(
                (line, "the document has too many values (aliases expanding too much?)")
            )
        if self._budget <= 0:
            return _BAD
        if len(path) > MAX_DEPTH:
            self.problems.append((line, f"values are nested more than {MAX_DEPTH} levels deep"))
            return _BAD
        if id(node) in stack:
            self.problems.append(
                (line, "an alias refers to a value that contains it (recursive alias)")
            )
            return _BAD
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, line)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                self.problems.append((line, f"unsupported YAML tag {node.tag!r}: use a plain list"))
                return _BAD
            inner = (*stack, id(node))
            return [self.convert(child, (*path, i), inner) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP_TAG:
                self.problems.append(
                    (line, f"unsupported YAML tag {node.tag!r}: use a plain mapping")
                )
                return _BAD
            return self._mapping(node, path, (*stack, id(node)))
        self.problems.append(
            (line, "unreadable YAML value")
        )  # pragma: no cover - no other node kinds
        return _BAD

    def _scalar(self, node: yaml.ScalarNode, line: int) -> Any:
        try:
            value = self._constructor.construct_object(node, deep=True)
        except Exception as exc:  # noqa: BLE001 - PyYAML raises ValueError etc. for e.g. 2025-13-45
            self.problems.append((line, f"cannot read the value {node.value!r}: {_exc_text(exc)}"))
            return _BAD
        if isinstance(value, str):
            return self._string(value, line)
        return value

    def _string(self, value: str, line: int) -> Any:
        bad = _BAD_CHAR_RE.search(value)
        if bad:
            self.problems.append(
                (
                    line,
                    f"text contains the control character U+{ord(bad.group()):04X}, "
                    f"which is not allowed",
                )
            )
            return _BAD
        # NFC so that "Đạt" typed with combining marks and precomposed compare, hash and sort alike.
        return unicodedata.normalize("NFC", value)

    def _mapping(self, node: yaml.MappingNode, path: PathKey, stack: tuple[int, ...]) -> Any:
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    (key_line, "a key must be a plain word, not a list or mapping")
                )
                continue
            if key_node.tag == _MERGE_TAG:
                self.problems.append(
                    (key_line, "merge keys (<<) are not supported: write the keys out")
                )
                continue
            key = self._scalar(key_node, key_line)
            if key is _BAD:
                continue
            if key in first_line:
                # PyYAML silently keeps the last of duplicate keys; an editor's copy-paste slip
                # must not silently change a published checklist.
                self.problems.append(
                    (
                        key_line,
                        f"duplicate key {_show(key)} (already given at line {first_line[key]})",
                    )
                )
                continue
            first_line[key] = key_line
            self.key_lines[(*path, key)] = key_line
            result[key] = self.convert(value_node, (*path, key), stack)
        return result


def _exc_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in _LINE_BREAK_RE.finditer(text))
    return starts


def _line_of_offset(text: str, offset: int) -> int:
    return sum(1 for start in _line_starts(text)[1:] if start <= offset) + 1


def _tab_problems(text: str) -> list[tuple[int, str]]:
    found = []
    starts = _line_starts(text)
    for number, start in enumerate(starts, 1):
        end = starts[number] if number < len(starts) else len(text)
        line = text[start:end]
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip():
            found.append(
                (number, "tab character in the indentation: YAML indentation must use spaces")
            )
    return found


# Parser complaints that, in a hand-written checklist, almost always mean a line is indented wrongly.
_INDENT_PROBLEMS = ("expected <block end>", "mapping values are not allowed here", "did not find expected key",
                    "expected <block mapping start>", "did not find expected '-' indicator")
# A key opening a nested block ("items:", "- scale:"), and a "key:" at the start of a line (after an optional "- ").
_OPENER_RE = re.compile(r"^(\s*)(?:-\s+)?([A-Za-z_][\w-]*):\s*(?:#.*)?$")
_KEY_RE = re.compile(r"^(\s*)(-\s+)?([A-Za-z_][\w-]*):")
# "key: some text: more" on one line: an unquoted value that itself contains ": ".
_COLON_VALUE_RE = re.compile(r"^\s*(?:-\s+)?[A-Za-z_][\w-]*:\s+[^'\"\s\[{#][^#]*?:(?:\s|$)")


def _indentation_hint(text: str, number: int) -> str | None:
    """Plain words for an indentation mistake at line ``number`` (1-based), or None if the line is not a key/item."""
    lines = _LINE_BREAK_RE.split(text)
    if not 1 <= number <= len(lines):
        return None
    line = lines[number - 1]
    indent = len(line) - len(line.lstrip(" "))
    above = [(n, lines[n - 1]) for n in range(number - 1, 0, -1)
             if lines[n - 1].strip() and not lines[n - 1].lstrip().startswith("#")]
    opener = next(((n, m.group(2)) for n, text_line in above if (m := _OPENER_RE.match(text_line))), None)
    under = f" under '{opener[1]}:' of line {opener[0]}" if opener else ""
    stripped = line.lstrip(" ")
    if stripped.startswith("-"):
        sibling = next(((n, len(t) - len(t.lstrip(" "))) for n, t in above if t.lstrip(" ").startswith("-")), None)
        where = (f", at the same column as the entry on line {sibling[0]} ({sibling[1]} spaces, not {indent})"
                 if sibling and sibling[1] != indent else "")
        return f"check the indentation of line {number} (items must be indented{under}{where})"
    key = _KEY_RE.match(line)
    if key is None:
        return f"check the indentation of line {number} and of the lines above it"
    # The key it most likely belongs beside: the nearest column among the keys above (the deeper one on a tie,
    # then the closer line), e.g. 'title' typed 2 spaces in belongs with the section's keys at 4.
    candidates = []
    for n, text_line in above:
        previous = _KEY_RE.match(text_line)
        if previous is not None:
            column = len(previous.group(1)) + len(previous.group(2) or "")
            candidates.append((abs(column - indent), -column, number - n, n, column, previous.group(3)))
    if candidates:
        _distance, _deeper, _closer, n, column, name = min(candidates)
        if column != indent:
            return (f"check the indentation of line {number} ('{key.group(3)}' must start at the same column as "
                    f"'{name}' on line {n}: {column} spaces, not {indent})")
    return f"check the indentation of line {number} (keys must be indented{under})"


def _yaml_error(exc: yaml.YAMLError, text: str) -> tuple[int, str]:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        parts = [p for p in (exc.context, exc.problem) if p]
        raw = ", ".join(parts)
        lines = _LINE_BREAK_RE.split(text)
        current = lines[line - 1] if 1 <= line <= len(lines) else ""
        if exc.problem and "mapping values are not allowed" in exc.problem and _COLON_VALUE_RE.match(current):
            return line, (f"not valid YAML: the value on line {line} contains ': '; put the whole value in "
                          f"quotes [YAML: {raw}]")
        if exc.problem and any(p in exc.problem for p in _INDENT_PROBLEMS):
            hint = _indentation_hint(text, line)
            if hint:
                # The parser's own words last, for whoever knows YAML; the hint first, for everyone else.
                return line, f"not valid YAML: {hint} [YAML: {raw}]"
        return line, "not valid YAML: " + raw
    position = getattr(exc, "position", None)
    line = _line_of_offset(text, position) if isinstance(position, int) else 1
    reason = getattr(exc, "reason", None) or _exc_text(exc)
    character = getattr(exc, "character", None)
    if isinstance(character, int):
        reason = f"{reason} (U+{character:04X})"
    return line, f"not valid YAML: {reason}"


# --------------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------------


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"true/false ({_show(value)})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        short = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {short!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, dt.datetime):
        return f"the date and time {value.isoformat()}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    return f"a {type(value).__name__} value"


_QUOTED_NUMBER_RE = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")
_DECIMAL_COMMA_RE = re.compile(r"\s*[+-]?[0-9]+,[0-9]+\s*")


def _number_hint(value: Any) -> str:
    """A suggestion when a number was written as text: quoted ("2") or with a decimal comma (1,5)."""
    if not isinstance(value, str):
        return ""
    if _QUOTED_NUMBER_RE.fullmatch(value):
        return f" (remove the quotes: write {value.strip()})"
    if _DECIMAL_COMMA_RE.fullmatch(value):
        return f" (use a decimal point, not a comma: write {value.strip().replace(',', '.')})"
    return ""


# Keys of XLSForm (ODK, KoboToolbox), the form format most health-survey editors know, and what this format
# says instead.
_FOREIGN_KEYS = {
    "relevant": "applies_to (facility types) or applies_if_offers (services) say when an item applies",
    "required": "every applicable item must be answered; allow_na and allow_not_observed say which other "
                "answers are allowed",
    "constraint": "for numbers use integer, min and max; for text max_length",
    "constraint_message": "the messages for integer, min and max are built in",
    "hint": "guidance is the help shown with an item",
    "label": "text is an item's question (label is for scale levels)",
    "type": "answer says the answer type (yes_no_na, scale, number, text)",
    "choices": "scale lists the levels of a graded item",
    "calculation": "scores are computed from the file's scoring and groups",
}


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        candidate = value.get("id")
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


class _Validator:
    """Checks a whole document and collects every problem (never stops at the first)."""

    def __init__(self, doc: _Document, data: dict[Any, Any], file_name: str | None) -> None:
        self.doc = doc
        self.data = data
        self.file_name = file_name
        self.problems: list[tuple[int, str]] = []

    # -- helpers -------------------------------------------------------------------------------

    def line(self, path: PathKey, at_key: bool = False) -> int:
        if at_key and path in self.doc.key_lines:
            return self.doc.key_lines[path]
        while path not in self.doc.lines and path:
            path = path[:-1]
        return self.doc.lines.get(path, 1)

    def err(self, path: PathKey, message: str, at_key: bool = False) -> None:
        self.problems.append((self.line(path, at_key), message))

    def mapping(
        self,
        value: Any,
        path: PathKey,
        label: str,
        required: tuple[str, ...],
        optional: tuple[str, ...],
    ) -> dict[Any, Any] | None:
        if value is _BAD:
            return None
        if not isinstance(value, dict):
            self.err(path, f"{label} must be a mapping (key: value), not {_describe(value)}")
            return None
        known = required + optional
        for key in value:
            if key not in known:
                hint = ""
                if isinstance(key, str) and key in _FOREIGN_KEYS:
                    hint = f" ('{key}' is an XLSForm key: here {_FOREIGN_KEYS[key]})"
                elif isinstance(key, str):
                    close = difflib.get_close_matches(key, known, n=1)
                    if close:
                        hint = f" (did you mean '{close[0]}'?)"
                self.err((*path, key), f"{label}: unknown key {_show(key)}{hint}", at_key=True)
        for key in required:
            if key not in value:
                self.err(path, f"{label}: missing required key '{key}'")
        return value

    def text(self, value: Any, path: PathKey, label: str, max_length: int | None = None) -> None:
        mapping = self.mapping(value, path, label, TEXT_REQUIRED, TEXT_OPTIONAL)
        if mapping is None:
            return
        for lang in ("vi", "en"):
            if lang not in mapping or mapping[lang] is _BAD:
                continue
            string = mapping[lang]
            if not isinstance(string, str):
                self.err((*path, lang), f"{label}: '{lang}' must be text, not {_describe(string)}")
            elif lang == "vi" and not string.strip():
                self.err((*path, lang), f"{label}: the Vietnamese text ('vi') is empty")
            elif max_length is not None and len(string) > max_length:
                self.err((*path, lang), f"{label}: '{lang}' is longer than {max_length} characters")

    def legal_basis_entry(self, value: Any, path: PathKey, label: str) -> None:
        """A text, optionally limited to facility types and to the dates the text is in force."""
        mapping = self.mapping(value, path, label, TEXT_REQUIRED, TEXT_OPTIONAL + LEGAL_BASIS_OPTIONAL)
        if mapping is None:
            return
        for lang in ("vi", "en"):
            string = mapping.get(lang, "")
            if string is _BAD:
                continue
            if not isinstance(string, str):
                self.err((*path, lang), f"{label}: '{lang}' must be text, not {_describe(string)}")
            elif lang == "vi" and "vi" in mapping and not string.strip():
                self.err((*path, lang), f"{label}: the Vietnamese text ('vi') is empty")
        if "facility_types" in mapping:
            self.codes(mapping["facility_types"], (*path, "facility_types"), f"{label} facility_types",
                       FACILITY_TYPES, "facility type", non_empty=True)
        dates = {}
        for key in LEGAL_BASIS_OPTIONAL[1:]:
            if key not in mapping or mapping[key] is _BAD:
                continue
            raw = mapping[key]
            parsed = _as_date(raw)
            if parsed is None:
                self.err((*path, key), f"{label}: {key} must be a date like 2021-11-26, not {_describe(raw)}")
            else:
                dates[key] = parsed
        if len(dates) == 2 and dates["in_force_from"] > dates["in_force_until"]:
            self.err((*path, "in_force_until"), f"{label}: in_force_until ({dates['in_force_until']}) is before "
                                                f"in_force_from ({dates['in_force_from']})")

    def codes(
        self,
        value: Any,
        path: PathKey,
        label: str,
        allowed: tuple[str, ...],
        kind: str,
        non_empty: bool = False,
    ) -> tuple[str, ...] | None:
        """Check a list of codes; return the valid ones (None if the value is not a list)."""
        if value is _BAD:
            return None
        if not isinstance(value, list):
            self.err(path, f"{label} must be a list of {kind} codes, not {_describe(value)}")
            return None
        if non_empty and not value:
            self.err(path, f"{label} must list at least one {kind}")
        valid: list[str] = []
        for index, code in enumerate(value):
            if code is _BAD:
                continue
            if not isinstance(code, str):
                self.err((*path, index), f"{label}: {_describe(code)} is not a {kind} code")
            elif code not in allowed:
                hint = difflib.get_close_matches(code, allowed, n=1)
                known = f"did you mean '{hint[0]}'?" if hint else "known: " + ", ".join(allowed)
                self.err((*path, index), f"{label}: unknown {kind} '{code}' ({known})")
            elif code in valid:
                self.err((*path, index), f"{label}: '{code}' is listed twice")
            else:
                valid.append(code)
        return tuple(valid)

    def positive_number(self, value: Any, path: PathKey, label: str) -> None:
        if value is _BAD:
            return
        if not _is_number(value) or value <= 0:
            self.err(path, f"{label} must be a positive number, not {_describe(value)}{_number_hint(value)}")

    def positive_int(self, value: Any, path: PathKey, label: str) -> None:
        if value is _BAD:
            return
        if not _is_int(value) or value <= 0:
            self.err(path, f"{label} must be a positive whole number, not {_describe(value)}{_number_hint(value)}")

    def boolean(self, value: Any, path: PathKey, label: str) -> None:
        if value is not _BAD and not isinstance(value, bool):
            self.err(path, f"{label} must be true or false, not {_describe(value)}")

    def choice(self, value: Any, path: PathKey, label: str, allowed: tuple[str, ...]) -> bool:
        if value is _BAD:
            return False
        if not isinstance(value, str) or value not in allowed:
            self.err(path, f"{label} must be one of {', '.join(allowed)}, not {_describe(value)}")
            return False
        return True

    # -- the document --------------------------------------------------------------------------

    def run(self) -> list[tuple[int, str]]:
        top = self.mapping(self.data, (), "the checklist", TOP_REQUIRED, TOP_OPTIONAL)
        assert top is not None  # the caller checked that the document is a mapping
        if "schema" in top and top["schema"] is not _BAD:
            schema = top["schema"]
            if not (_is_int(schema) and schema == FORMAT_VERSION):
                self.err(
                    ("schema",),
                    f"schema must be {FORMAT_VERSION} (the only format version), "
                    f"not {_describe(schema)}",
                )
        if "code" in top and top["code"] is not _BAD:
            code = top["code"]
            if (
                not isinstance(code, str)
                or not CODE_RE.fullmatch(code)
                or len(code) > MAX_CODE_LENGTH
            ):
                self.err(
                    ("code",),
                    f"code must be lowercase letters, digits and dashes (starting with a "
                    f"letter or digit, at most {MAX_CODE_LENGTH} characters), "
                    f"not {_describe(code)}",
                )
        if "version" in top:
            self.positive_int(top["version"], ("version",), "version")
        self.file_name_matches(top)
        if "status" in top:
            self.choice(top["status"], ("status",), "status", STATUSES)
        if "title" in top:
            self.text(top["title"], ("title",), "title", MAX_TITLE_LENGTH)
        if "description" in top:
            self.text(top["description"], ("description",), "description")
        if "effective_from" in top:
            self.date(top["effective_from"], ("effective_from",))
        if "programme" in top:
            self.choice(top["programme"], ("programme",), "programme", PROGRAMMES)
        if "legal_basis" in top:
            basis = top["legal_basis"]
            if isinstance(basis, list):
                for index, entry in enumerate(basis):
                    self.legal_basis_entry(entry, ("legal_basis", index), f"legal_basis entry {index + 1}")
            elif basis is not _BAD:
                self.err(
                    ("legal_basis",), f"legal_basis must be a list of texts, not {_describe(basis)}"
                )
        types: tuple[str, ...] | None = None
        if "facility_types" in top:
            types = self.codes(
                top["facility_types"],
                ("facility_types",),
                "facility_types",
                FACILITY_TYPES,
                "facility type",
                non_empty=True,
            )
        overall = None
        if "scoring" in top:
            overall = self.scoring(top["scoring"])
        if "sections" in top:
            self.sections(top["sections"], types, overall)
        if "groups" in top:
            self.groups(top["groups"], types, top.get("sections"))
        return self.problems

    def percentage(self, value: Any, path: PathKey, label: str) -> bool:
        if value is _BAD:
            return False
        if not _is_number(value) or not 0 <= value <= 100:
            self.err(path, f"{label} must be a percentage between 0 and 100, not {_describe(value)}"
                           f"{_number_hint(value)}")
            return False
        return True

    def groups(self, value: Any, types: tuple[str, ...] | None, sections: Any) -> None:
        path: PathKey = ("groups",)
        if value is _BAD:
            return
        if not isinstance(value, list) or not value:
            self.err(path, f"groups must be a non-empty list of score groups, not {_describe(value)}")
            return
        known = [s.get("id") for s in sections if isinstance(s, dict)] if isinstance(sections, list) else []
        owner: dict[str, str] = {}
        group_lines: dict[str, int] = {}
        for index, raw in enumerate(value):
            where = (*path, index)
            group_id = _id_of(raw)
            label = f"group {group_id}" if group_id else f"group #{index + 1}"
            group = self.mapping(raw, where, label, GROUP_REQUIRED, GROUP_OPTIONAL)
            if group is None:
                continue
            if "id" in group:
                self.ident(group["id"], (*where, "id"), label, group_lines, "group")
            if "title" in group:
                self.text(group["title"], (*where, "title"), f"{label} title")
            if "aggregation" in group:
                self.choice(group["aggregation"], (*where, "aggregation"), f"{label}: aggregation",
                            GROUP_AGGREGATIONS)
            for key in ("meets_min", "conditional_min", "section_min", "floor"):
                if key in group:
                    self.percentage(group[key], (*where, key), f"{label}: {key}")
            meets, conditional = group.get("meets_min"), group.get("conditional_min")
            if _is_number(meets) and _is_number(conditional) and conditional > meets:
                self.err((*where, "conditional_min"),
                         f"{label}: conditional_min ({conditional}) must not be above meets_min ({meets})")
            if "weight" in group:
                self.positive_number(group["weight"], (*where, "weight"), f"{label}: weight")
            self.applies_to(group, where, label, types, None, "the checklist's facility_types")
            members = group.get("sections")
            if members is _BAD or "sections" not in group:
                continue
            if not isinstance(members, list) or not members:
                self.err((*where, "sections"), f"{label}: sections must be a non-empty list of section ids, "
                                               f"not {_describe(members)}")
                continue
            for member_index, section_id in enumerate(members):
                at = (*where, "sections", member_index)
                if section_id not in known:
                    hint = difflib.get_close_matches(str(section_id), [str(k) for k in known], n=1)
                    extra = f" (did you mean '{hint[0]}'?)" if hint else ""
                    self.err(at, f"{label}: unknown section {_show(section_id)}{extra}")
                elif section_id in owner:
                    self.err(at, f"{label}: section {section_id} already belongs to group {owner[section_id]}: "
                                 f"a section is in exactly one group")
                else:
                    owner[section_id] = str(group_id)
        missing = [str(k) for k in known if k not in owner and isinstance(k, str)]
        if missing:
            self.err(path, f"groups: every section must belong to a group; not in any group: {', '.join(missing)}",
                     at_key=True)

    def file_name_matches(self, top: dict[Any, Any]) -> None:
        if self.file_name is None:
            return
        match = FILE_NAME_RE.fullmatch(self.file_name)
        version = top.get("version")
        valid_version = _is_int(version) and version > 0
        if match is None or (valid_version and self.file_name != f"v{version}.yaml"):
            wanted = f"v{version}.yaml" if valid_version else "v<version>.yaml"
            shown = f"version {version}" if valid_version else "the version"
            self.err(
                ("version",),
                f"the file name '{self.file_name}' does not match {shown}: a checklist "
                f"version must be in a file named {wanted}",
            )

    def date(self, value: Any, path: PathKey) -> None:
        if value is _BAD:
            return
        if isinstance(value, dt.datetime):
            self.err(
                path,
                f"effective_from must be a date like 2025-01-01 without a time, "
                f"not {_describe(value)}",
            )
            return
        if isinstance(value, dt.date):
            return
        # A quoted ISO date is accepted too: it is what the canonical JSON in the database holds.
        if isinstance(value, str) and DATE_RE.fullmatch(value):
            try:
                dt.date.fromisoformat(value)
                return
            except ValueError:
                pass
        self.err(path, f"effective_from must be a date like 2025-01-01, not {_describe(value)}")

    def scoring(self, value: Any) -> str | None:
        path = ("scoring",)
        scoring = self.mapping(value, path, "scoring", SCORING_REQUIRED, SCORING_OPTIONAL)
        if scoring is None:
            return None
        overall = None
        if "overall" in scoring and self.choice(
            scoring["overall"], (*path, "overall"), "scoring.overall", OVERALL_METHODS
        ):
            overall = scoring["overall"]
        for key in ("meets_min", "conditional_min", "section_min"):
            if key in scoring and scoring[key] is not _BAD:
                threshold = scoring[key]
                if not _is_number(threshold) or not 0 <= threshold <= 100:
                    self.err(
                        (*path, key),
                        f"scoring.{key} must be a percentage between 0 and 100, "
                        f"not {_describe(threshold)}{_number_hint(threshold)}",
                    )
        meets, conditional = scoring.get("meets_min"), scoring.get("conditional_min")
        if _is_number(meets) and _is_number(conditional) and conditional > meets:
            self.err(
                (*path, "conditional_min"),
                f"scoring.conditional_min ({conditional}) must not be "
                f"above scoring.meets_min ({meets})",
            )
        for key in ("validity_months", "corrective_days"):
            if key in scoring:
                self.positive_int(scoring[key], (*path, key), f"scoring.{key}")
        if "groups_rule" in scoring:
            self.choice(scoring["groups_rule"], (*path, "groups_rule"), "scoring.groups_rule", GROUP_RULES)
            if "groups" not in self.data:
                self.err((*path, "groups_rule"), "scoring.groups_rule needs 'groups' (the score groups it combines)",
                         at_key=True)
        return overall

    def sections(self, value: Any, types: tuple[str, ...] | None, overall: str | None) -> None:
        path: PathKey = ("sections",)
        if value is _BAD:
            return
        if not isinstance(value, list):
            self.err(path, f"sections must be a list of sections, not {_describe(value)}")
            return
        if not value:
            self.err(path, "sections is empty: a checklist needs at least one section")
        section_lines: dict[str, int] = {}
        item_lines: dict[str, int] = {}
        for index, section in enumerate(value):
            self.section(section, (*path, index), index, types, overall, section_lines, item_lines)

    def section(
        self,
        value: Any,
        path: PathKey,
        index: int,
        types: tuple[str, ...] | None,
        overall: str | None,
        section_lines: dict[str, int],
        item_lines: dict[str, int],
    ) -> None:
        section_id = _id_of(value)
        label = f"section {section_id}" if section_id else f"section #{index + 1}"
        section = self.mapping(value, path, label, SECTION_REQUIRED, SECTION_OPTIONAL)
        if section is None:
            return
        if "id" in section:
            self.ident(section["id"], (*path, "id"), label, section_lines, "section")
        if "title" in section:
            self.text(section["title"], (*path, "title"), f"{label} title")
        if "weight" in section:
            self.positive_number(section["weight"], (*path, "weight"), f"{label}: weight")
        elif overall == "weighted_sections":
            self.err(
                path,
                f"{label}: missing key 'weight', required when scoring.overall is "
                f"weighted_sections",
            )
        section_types = self.applies_to(
            section, path, label, types, None, "the checklist's facility_types"
        )
        if section_types and types is not None and not set(section_types) & set(types):
            self.err(
                (*path, "applies_to"),
                f"{label} can never apply: its applies_to "
                f"({', '.join(section_types)}) shares no type with the "
                f"checklist's facility_types ({', '.join(types)})",
            )
        if "applies_if_offers" in section:
            self.codes(section["applies_if_offers"], (*path, "applies_if_offers"), f"{label}: applies_if_offers",
                       SERVICES, "service")
        if "instructions" in section:
            self.text(section["instructions"], (*path, "instructions"), f"{label} instructions")
        if "informational" in section:
            self.boolean(section["informational"], (*path, "informational"), f"{label}: informational")
        if "items" not in section or section["items"] is _BAD:
            return
        items = section["items"]
        if not isinstance(items, list):
            self.err(
                (*path, "items"), f"{label}: items must be a list of items, not {_describe(items)}"
            )
            return
        if not items:
            self.err((*path, "items"), f"{label} has no items")
        for item_index, item in enumerate(items):
            self.item(
                item,
                (*path, "items", item_index),
                label,
                item_index,
                types,
                section_types,
                item_lines,
            )

    def ident(self, value: Any, path: PathKey, label: str, seen: dict[str, int], kind: str) -> bool:
        if value is _BAD:
            return False
        if not isinstance(value, str) or not ID_RE.fullmatch(value):
            self.err(
                path,
                f"{label}: id must be letters, digits, '.', '_' or '-' (starting with a letter "
                f"or digit), not {_describe(value)}",
            )
            return False
        line = self.line(path)
        if value in seen:
            self.err(path, f"duplicate {kind} id '{value}' at lines {seen[value]} and {line}")
            return False
        seen[value] = line
        return True

    def applies_to(
        self,
        mapping: dict[Any, Any],
        path: PathKey,
        label: str,
        types: tuple[str, ...] | None,
        parent: tuple[str, ...] | None,
        parent_name: str,
    ) -> tuple[str, ...]:
        """Check ``applies_to``; return its valid types (empty when absent or unusable)."""
        if "applies_to" not in mapping:
            return ()
        found = self.codes(
            mapping["applies_to"],
            (*path, "applies_to"),
            f"{label}: applies_to",
            FACILITY_TYPES,
            "facility type",
        )
        if not found:
            return ()
        if types is not None:
            outside = [t for t in found if t not in types]
            if outside:
                self.err(
                    (*path, "applies_to"),
                    f"{label}: applies_to names {', '.join(outside)}, which "
                    f"the checklist's facility_types ({', '.join(types)}) "
                    f"does not include",
                )
        if parent:
            outside = [t for t in found if t not in parent]
            if outside:
                self.err(
                    (*path, "applies_to"),
                    f"{label}: applies_to names {', '.join(outside)}, which "
                    f"{parent_name} ({', '.join(parent)}) does not include",
                )
        return found

    def item(
        self,
        value: Any,
        path: PathKey,
        section_label: str,
        index: int,
        types: tuple[str, ...] | None,
        section_types: tuple[str, ...],
        item_lines: dict[str, int],
    ) -> None:
        item_id = _id_of(value)
        label = f"item {item_id}" if item_id else f"item #{index + 1} of {section_label}"
        item = self.mapping(value, path, label, ITEM_REQUIRED, ITEM_OPTIONAL)
        if item is None:
            return
        if "id" in item:
            self.ident(item["id"], (*path, "id"), label, item_lines, "item")
        if "text" in item:
            self.text(item["text"], (*path, "text"), f"{label} text")
        if "guidance" in item:
            self.text(item["guidance"], (*path, "guidance"), f"{label} guidance")
        if "verification" in item:
            self.codes(
                item["verification"],
                (*path, "verification"),
                f"{label}: verification",
                VERIFICATION_METHODS,
                "verification method",
            )
        answer: str | None = "yes_no_na"
        if "answer" in item:
            valid = self.choice(item["answer"], (*path, "answer"), f"{label}: answer", ANSWER_TYPES)
            answer = item["answer"] if valid else None
        if "weight" in item:
            self.positive_number(item["weight"], (*path, "weight"), f"{label}: weight")
        if "allow_na" in item:
            self.boolean(item["allow_na"], (*path, "allow_na"), f"{label}: allow_na")
        if "allow_not_observed" in item:
            self.boolean(item["allow_not_observed"], (*path, "allow_not_observed"), f"{label}: allow_not_observed")
            if answer in INFORMATIONAL_ANSWER_TYPES:
                self.err((*path, "allow_not_observed"),
                         f"{label}: allow_not_observed is for scored items (yes_no_na or scale), not {answer}",
                         at_key=True)
        item_types = self.applies_to(
            item, path, label, types, section_types or None, f"{section_label}'s applies_to"
        )
        offers: tuple[str, ...] = ()
        if "applies_if_offers" in item:
            offers = (
                self.codes(
                    item["applies_if_offers"],
                    (*path, "applies_if_offers"),
                    f"{label}: applies_if_offers",
                    SERVICES,
                    "service",
                )
                or ()
            )
        critical, when_offers = self.critical(item, path, label)
        self.scale(item, path, label, answer)
        if "unit" in item:
            if answer is not None and answer != "number":
                self.err(
                    (*path, "unit"),
                    f"{label}: unit is only for number items (answer: number), not {answer}",
                    at_key=True,
                )
            self.text(item["unit"], (*path, "unit"), f"{label} unit")
        self.item_constraints(item, path, label, answer)
        # An item that can never apply is dead weight; a critical one gives a false sense of safety.
        if types is not None:
            effective = (
                set(item_types or section_types or types) & set(section_types or types) & set(types)
            )
            if not effective:
                kind = "critical item" if critical not in (None, "never") else "item"
                self.err(
                    path,
                    f"{kind} {item_id or label} can never apply: no facility type is in its "
                    f"applies_to, its section's applies_to and the checklist's facility_types "
                    f"at once",
                )
        if critical not in (None, "never") and answer in INFORMATIONAL_ANSWER_TYPES:
            self.err(
                (*path, "critical"),
                f"{label}: a {answer} item is informational (not scored) and cannot be critical",
            )
        if (
            critical == "when_offers"
            and when_offers
            and offers
            and not set(when_offers) & set(offers)
        ):
            self.err(
                (*path, "critical"),
                f"{label} is never critical: it is critical only when the "
                f"facility offers {', '.join(when_offers)}, but it applies only "
                f"when the facility offers {', '.join(offers)}",
            )

    def item_constraints(self, item: dict[Any, Any], path: PathKey, label: str, answer: str | None) -> None:
        """integer/min/max (numbers), max_length (text), finding_below (scale), informational."""
        only = {"integer": "number", "min": "number", "max": "number", "max_length": "text",
                "finding_below": "scale", "options": "options"}
        for key, wanted in only.items():
            if key == "finding_below" and answer == "options":
                continue
            if key in item and answer is not None and answer != wanted:
                self.err((*path, key), f"{label}: {key} is only for {wanted} items (answer: {wanted}), not {answer}",
                         at_key=True)
        if "integer" in item:
            self.boolean(item["integer"], (*path, "integer"), f"{label}: integer")
        bounds = {}
        for key in ("min", "max"):
            if key in item and item[key] is not _BAD:
                if not _is_number(item[key]):
                    self.err((*path, key), f"{label}: {key} must be a number, not {_describe(item[key])}"
                                           f"{_number_hint(item[key])}")
                else:
                    bounds[key] = item[key]
        if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
            self.err((*path, "max"), f"{label}: max ({bounds['max']}) is below min ({bounds['min']})")
        if "max_length" in item:
            value = item["max_length"]
            if value is not _BAD and (not _is_int(value) or not 1 <= value <= 2000):
                self.err((*path, "max_length"),
                         f"{label}: max_length must be a whole number from 1 to 2000, not {_describe(value)}")
        if "finding_below" in item and item["finding_below"] is not _BAD and answer == "scale":
            value = item["finding_below"]
            levels = [lvl.get("value") for lvl in item.get("scale", []) if isinstance(lvl, dict)] \
                if isinstance(item.get("scale"), list) else []
            if not _is_int(value):
                self.err((*path, "finding_below"),
                         f"{label}: finding_below must be a whole number, not {_describe(value)}")
            elif levels and value not in levels:
                self.err((*path, "finding_below"),
                         f"{label}: finding_below {value} is not one of the scale values "
                         f"({', '.join(str(v) for v in levels)})")
        if "finding_below" in item and item["finding_below"] is not _BAD and answer == "options":
            if not _is_number(item["finding_below"]):
                self.err((*path, "finding_below"),
                         f"{label}: finding_below must be a score, not {_describe(item['finding_below'])}"
                         f"{_number_hint(item['finding_below'])}")
        if answer == "options":
            self.options(item, path, label)
        if "informational" in item:
            self.boolean(item["informational"], (*path, "informational"), f"{label}: informational")
            if item["informational"] is True and item.get("critical", "never") != "never":
                self.err((*path, "critical"), f"{label}: an informational item is not scored and cannot be critical")

    def options(self, item: dict[Any, Any], path: PathKey, label: str) -> None:
        """answer: options: a list of {value, label, score (a number >= 0, or null: left out)}."""
        if "options" not in item:
            self.err(path, f"{label}: an options item needs 'options', the list of its answers with their scores")
            return
        raw = item["options"]
        where = (*path, "options")
        if raw is _BAD:
            return
        if not isinstance(raw, list) or len(raw) < 2:
            self.err(where, f"{label}: options must be a list of at least two answers, not {_describe(raw)}")
            return
        seen: dict[str, int] = {}
        scores: list[float] = []
        for index, option in enumerate(raw):
            option_label = f"{label} option {index + 1}"
            mapping = self.mapping(option, (*where, index), option_label, ("value", "label", "score"),
                                   ("descriptor",))
            if mapping is None:
                continue
            if "value" in mapping and mapping["value"] is not _BAD:
                value = mapping["value"]
                if not isinstance(value, str) or not ID_RE.fullmatch(value) or value in ("na", "not_observed"):
                    self.err((*where, index, "value"),
                             f"{option_label}: value must be a word of letters, digits, '.', '_' or '-' (not 'na' "
                             f"or 'not_observed'), not {_describe(value)}")
                elif value in seen:
                    self.err((*where, index, "value"), f"{label}: option '{value}' is listed twice")
                else:
                    seen[value] = index
            if "label" in mapping:
                self.text(mapping["label"], (*where, index, "label"), f"{option_label} label")
            if "descriptor" in mapping:
                self.text(mapping["descriptor"], (*where, index, "descriptor"), f"{option_label} descriptor")
            if "score" in mapping and mapping["score"] is not _BAD:
                score = mapping["score"]
                if score is None:
                    continue
                if not _is_number(score) or score < 0:
                    self.err((*where, index, "score"),
                             f"{option_label}: score must be a number >= 0, or null to leave the answer out of the "
                             f"score, not {_describe(score)}{_number_hint(score)}")
                else:
                    scores.append(score)
        if not any(s > 0 for s in scores):
            self.err(where, f"{label}: at least one option must have a score above 0")

    def critical(
        self, item: dict[Any, Any], path: PathKey, label: str
    ) -> tuple[str | None, tuple[str, ...]]:
        if "critical" not in item:
            return "never", ()
        value = item["critical"]
        where = (*path, "critical")
        if value is _BAD:
            return None, ()
        if isinstance(value, str) and value in CRITICAL_VALUES:
            return value, ()
        if isinstance(value, dict):
            mapping = self.mapping(value, where, f"{label}: critical", ("when_offers",), ())
            if mapping is None or "when_offers" not in mapping:
                return None, ()
            services = self.codes(
                mapping["when_offers"],
                (*where, "when_offers"),
                f"{label}: critical when_offers",
                SERVICES,
                "service",
                non_empty=True,
            )
            return "when_offers", services or ()
        self.err(
            where,
            f"{label}: critical must be never, always or {{when_offers: [services]}}, "
            f"not {_describe(value)}",
        )
        return None, ()

    def scale(self, item: dict[Any, Any], path: PathKey, label: str, answer: str | None) -> None:
        if answer is not None and answer != "scale":
            for key in ("scale", "pass_min"):
                if key in item:
                    self.err(
                        (*path, key),
                        f"{label}: {key} is only for scale items (answer: scale), not {answer}",
                        at_key=True,
                    )
            return
        if answer is None:
            return
        if "scale" not in item:
            self.err(path, f"{label}: a scale item needs 'scale', the list of its levels")
            return
        levels = item["scale"]
        where = (*path, "scale")
        if levels is _BAD:
            return
        if not isinstance(levels, list):
            self.err(where, f"{label}: scale must be a list of levels, not {_describe(levels)}")
            return
        if len(levels) < 2:
            self.err(where, f"{label}: scale needs at least two levels, lowest first")
        values: list[int] = []
        for index, level in enumerate(levels):
            level_label = f"{label} scale level {index + 1}"
            mapping = self.mapping(level, (*where, index), level_label, ("value", "label"), ("descriptor",))
            if mapping is None:
                continue
            if "label" in mapping:
                self.text(mapping["label"], (*where, index, "label"), f"{level_label} label")
            if "descriptor" in mapping:
                self.text(mapping["descriptor"], (*where, index, "descriptor"), f"{level_label} descriptor")
            if "value" not in mapping or mapping["value"] is _BAD:
                continue
            number = mapping["value"]
            if not _is_int(number):
                self.err(
                    (*where, index, "value"),
                    f"{level_label}: value must be a whole number, not {_describe(number)}{_number_hint(number)}",
                )
            elif number in values:
                self.err((*where, index, "value"), f"{label}: scale value {number} is used twice")
            else:
                if values and number < values[-1]:
                    self.err(
                        (*where, index, "value"),
                        f"{label}: scale levels must go from lowest to "
                        f"highest ({number} comes after {values[-1]})",
                    )
                values.append(number)
        if "pass_min" in item and item["pass_min"] is not _BAD:
            pass_min = item["pass_min"]
            if not _is_int(pass_min):
                self.err(
                    (*path, "pass_min"),
                    f"{label}: pass_min must be a whole number, not {_describe(pass_min)}{_number_hint(pass_min)}",
                )
            elif values and pass_min not in values:
                self.err(
                    (*path, "pass_min"),
                    f"{label}: pass_min {pass_min} is not one of the scale "
                    f"values ({', '.join(map(str, values))})",
                )
            elif len(values) >= 2 and pass_min == min(values):
                self.err(
                    (*path, "pass_min"),
                    f"{label}: pass_min {pass_min} is the lowest level, so the "
                    f"item could never fail",
                )


# --------------------------------------------------------------------------------------------------
# Building the dataclasses (only from a document without problems)
# --------------------------------------------------------------------------------------------------


def _clean(value: str) -> str:
    # Block scalars (| and >) end with a newline and quoted texts may carry stray spaces.
    return value.strip()


def _text(value: Mapping[str, str]) -> Text:
    return Text(vi=_clean(value["vi"]), en=_clean(value.get("en", "")))


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and DATE_RE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _legal_basis(value: Mapping[str, Any]) -> LegalBasis:
    return LegalBasis(text=_text(value), facility_types=tuple(value.get("facility_types", ())),
                      in_force_from=_as_date(value.get("in_force_from")),
                      in_force_until=_as_date(value.get("in_force_until")))


def _build(
    data: dict[str, Any], doc: _Document, source: str, content: dict[str, Any], sha256: str
) -> Checklist:
    sections = []
    for s_index, raw_section in enumerate(data["sections"]):
        items = []
        for i_index, raw in enumerate(raw_section["items"]):
            critical = raw.get("critical", "never")
            when_offers: tuple[str, ...] = ()
            if isinstance(critical, dict):
                when_offers = tuple(critical["when_offers"])
                critical = "when_offers"
            answer = raw.get("answer", "yes_no_na")
            scale = tuple(
                ScaleLevel(level["value"], _text(level["label"]),
                           _text(level["descriptor"]) if "descriptor" in level else None)
                for level in raw.get("scale", ())
            )
            pass_min = raw.get("pass_min")
            if answer == "scale" and pass_min is None:
                pass_min = max(level.value for level in scale)
            items.append(
                Item(
                    id=raw["id"],
                    section_id=raw_section["id"],
                    text=_text(raw["text"]),
                    guidance=_text(raw["guidance"]) if "guidance" in raw else Text(""),
                    verification=tuple(raw.get("verification", ())),
                    answer_type=answer,
                    weight=float(raw.get("weight", 1)),
                    applies_to=tuple(raw.get("applies_to", ())),
                    applies_if_offers=tuple(raw.get("applies_if_offers", ())),
                    critical=critical,
                    critical_when_offers=when_offers,
                    allow_na=raw.get("allow_na", True),
                    allow_not_observed=raw.get("allow_not_observed", False),
                    scale=scale,
                    pass_min=pass_min,
                    unit=_text(raw["unit"]) if "unit" in raw else None,
                    line=doc.lines.get(("sections", s_index, "items", i_index), 0),
                    finding_below=raw.get("finding_below"),
                    integer=raw.get("integer", False),
                    min=float(raw["min"]) if "min" in raw else None,
                    max=float(raw["max"]) if "max" in raw else None,
                    max_length=raw.get("max_length"),
                    informational=raw.get("informational", False) or raw_section.get("informational", False),
                    options=tuple(
                        Option(o["value"], _text(o["label"]),
                               None if o["score"] is None else float(o["score"]),
                               _text(o["descriptor"]) if "descriptor" in o else None)
                        for o in raw.get("options", ())
                    ),
                )
            )
        sections.append(
            Section(
                id=raw_section["id"],
                title=_text(raw_section["title"]),
                weight=float(raw_section.get("weight", 1)),
                items=tuple(items),
                applies_to=tuple(raw_section.get("applies_to", ())),
                line=doc.lines.get(("sections", s_index), 0),
                applies_if_offers=tuple(raw_section.get("applies_if_offers", ())),
                instructions=_text(raw_section["instructions"]) if "instructions" in raw_section else None,
                informational=raw_section.get("informational", False),
            )
        )
    groups = []
    for g_index, raw_group in enumerate(data.get("groups", ())):
        groups.append(ScoreGroup(
            id=raw_group["id"],
            title=_text(raw_group["title"]),
            sections=tuple(raw_group["sections"]),
            aggregation=raw_group.get("aggregation", "pooled"),
            meets_min=float(raw_group["meets_min"]),
            conditional_min=float(raw_group["conditional_min"]),
            section_min=float(raw_group.get("section_min", 0)),
            floor=float(raw_group.get("floor", 0)),
            weight=float(raw_group.get("weight", 1)),
            applies_to=tuple(raw_group.get("applies_to", ())),
            line=doc.lines.get(("groups", g_index), 0),
        ))
    if groups:
        group_of = {sid: g for g in groups for sid in g.sections}
        sections = [dataclasses.replace(sec, group_id=group_of[sec.id].id,
                                        group_applies_to=group_of[sec.id].applies_to) for sec in sections]
    scoring = data["scoring"]
    return Checklist(
        code=data["code"],
        version=data["version"],
        status=data["status"],
        title=_text(data["title"]),
        effective_from=dt.date.fromisoformat(content["effective_from"]),
        legal_basis=tuple(_legal_basis(t) for t in data.get("legal_basis", ())),
        facility_types=tuple(data["facility_types"]),
        scoring=ScoringRules(
            meets_min=float(scoring["meets_min"]),
            conditional_min=float(scoring["conditional_min"]),
            section_min=float(scoring["section_min"]),
            overall=scoring["overall"],
            validity_months=scoring["validity_months"],
            corrective_days=scoring["corrective_days"],
            groups_rule=scoring.get("groups_rule", "all_groups_meet"),
        ),
        sections=tuple(sections),
        sha256=sha256,
        source=source,
        description=_text(data["description"]) if "description" in data else None,
        programme=data.get("programme", DEFAULT_PROGRAMME),
        groups=tuple(groups),
        content=content,
    )


def _canonical_content(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _canonical_content(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical_content(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def canonical_json(content: Mapping[str, Any]) -> str:
    """The canonical JSON text of checklist content, the input of its SHA-256."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------


@dataclass
class _Parsed:
    checklist: Checklist | None
    problems: list[Problem]
    code_line: int = 1
    version_line: int = 1


def _parse(text: str, source: str, file_name: str | None = None) -> _Parsed:
    def problems_of(found: list[tuple[int, str]]) -> list[Problem]:
        unique = dict.fromkeys((max(line, 1), message) for line, message in found)
        return [
            Problem(source, line, message) for line, message in sorted(unique, key=lambda p: p[0])
        ]

    found = _tab_problems(text)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        line, message = _yaml_error(exc, text)
        # A tab in the indentation usually is the syntax error: one message for that line is enough.
        if not any(tab_line == line for tab_line, _ in found):
            found.append((line, message))
        return _Parsed(None, problems_of(found))
    except RecursionError:
        return _Parsed(
            None, problems_of([*found, (1, f"values are nested more than {MAX_DEPTH} levels deep")])
        )
    if node is None:
        return _Parsed(
            None,
            problems_of(
                [
                    *found,
                    (1, "the file is empty: a checklist is a mapping starting with 'schema: 1'"),
                ]
            ),
        )
    doc = _Document()
    data = doc.convert(node)
    found.extend(doc.problems)
    if not isinstance(data, dict):
        if data is not _BAD:
            found.append(
                (
                    node.start_mark.line + 1,
                    f"the top level of a checklist must be a mapping (key: "
                    f"value), not {_describe(data)}",
                )
            )
        return _Parsed(None, problems_of(found))
    validator = _Validator(doc, data, file_name)
    found.extend(validator.run())
    parsed = _Parsed(None, [], validator.line(("code",)), validator.line(("version",)))
    if found:
        parsed.problems = problems_of(found)
        return parsed
    content = _canonical_content(data)
    sha256 = hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()
    parsed.checklist = _build(data, doc, source, content, sha256)
    return parsed


def parse_checklist(text: str, source: str) -> Checklist:
    """Parse checklist YAML (or its canonical JSON) named ``source``; raise ChecklistError."""
    parsed = _parse(text, source)
    if parsed.problems or parsed.checklist is None:
        raise ChecklistError(parsed.problems)
    return parsed.checklist


def _read(path: Path) -> tuple[str | None, list[Problem]]:
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem(source, 1, f"cannot read the file: {exc.strerror or exc}")]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [
            Problem(
                source,
                line,
                f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x}): save it as UTF-8",
            )
        ]


def _load(path: Path) -> _Parsed:
    text, problems = _read(path)
    if text is None:
        return _Parsed(None, problems)
    return _parse(text, str(path), file_name=path.name)


def load_checklist(path: str | Path) -> Checklist:
    """Load one checklist file ``.../v<N>.yaml``; raise ChecklistError listing every problem."""
    parsed = _load(Path(path))
    if parsed.problems or parsed.checklist is None:
        raise ChecklistError(parsed.problems)
    return parsed.checklist


def load_directory(root: str | Path) -> tuple[list[Checklist], list[Problem]]:
    """Load every ``<code>/v<N>.yaml`` under ``root``; return the valid checklists, all problems."""
    root = Path(root)
    if not root.is_dir():
        return [], [Problem(str(root), 1, "the checklists folder does not exist")]
    problems: list[Problem] = []
    loaded: list[tuple[Path, _Parsed]] = []
    for path in sorted(root.glob("*/v*.yaml")):
        parsed = _load(path)
        problems.extend(parsed.problems)
        if parsed.checklist is not None:
            loaded.append((path, parsed))
    rejected: set[Path] = set()
    by_key: dict[tuple[str, int], list[tuple[Path, _Parsed]]] = {}
    for path, parsed in loaded:
        checklist = parsed.checklist
        assert checklist is not None
        if path.parent.name != checklist.code:
            problems.append(
                Problem(
                    str(path),
                    parsed.code_line,
                    f"the file is in folder '{path.parent.name}' but its code is "
                    f"'{checklist.code}': a checklist's files live in a folder named "
                    f"after its code",
                )
            )
            rejected.add(path)
        by_key.setdefault((checklist.code, checklist.version), []).append((path, parsed))
    for (code, version), entries in by_key.items():
        if len(entries) < 2:
            continue
        names = ", ".join(str(p) for p, _ in entries)
        for path, parsed in entries:
            problems.append(
                Problem(
                    str(path),
                    parsed.version_line,
                    f"checklist '{code}' version {version} is defined by more than one "
                    f"file ({names})",
                )
            )
            rejected.add(path)
    checklists = [
        p.checklist for path, p in loaded if path not in rejected and p.checklist is not None
    ]
    checklists.sort(key=lambda c: (c.code, c.version))
    return checklists, problems


# --------------------------------------------------------------------------------------------------
# Choosing a version, comparing versions
# --------------------------------------------------------------------------------------------------


def select_version(
    candidates: Iterable[Checklist],
    facility_type: str,
    on: dt.date,
    programme: str = DEFAULT_PROGRAMME,
) -> Checklist | None:
    """The version an inspection on ``on`` of a facility of this type uses in ``programme``.

    Only checklists of that programme compete, so registering a campaign checklist for the same
    facility types never changes what routine supervision uses (and the other way round).
    """
    best: dict[str, Checklist] = {}
    for checklist in candidates:
        if checklist.status != "published" or checklist.effective_from > on:
            continue
        if checklist.programme != programme:
            continue
        if facility_type not in checklist.facility_types:
            continue
        current = best.get(checklist.code)
        # Within one checklist the highest effective version supersedes the older ones.
        if current is None or checklist.version > current.version:
            best[checklist.code] = checklist
    if not best:
        return None
    # Across checklists (if several cover the type), the most recently effective one; the code
    # breaks ties (version numbers of different checklists are not comparable) so that the choice
    # never depends on the order the candidates arrive in.
    return min(best.values(), key=lambda c: (-c.effective_from.toordinal(), c.code))


@dataclass
class ChecklistDiff:
    """Differences between two versions: items by id, sections, scoring rules, checklist fields."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # (item id, names of the fields that changed, e.g. ["text", "weight", "section"])
    changed: list[tuple[str, list[str]]] = field(default_factory=list)
    sections_added: list[str] = field(default_factory=list)
    sections_removed: list[str] = field(default_factory=list)
    sections_changed: list[tuple[str, list[str]]] = field(default_factory=list)
    # (rule name, old value, new value)
    scoring_changed: list[tuple[str, Any, Any]] = field(default_factory=list)
    # top-level fields: title, description, status, effective_from, legal_basis, facility_types
    checklist_changed: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Whether the two versions have the same content (apart from the version number)."""
        return not any(getattr(self, f.name) for f in dataclasses.fields(self))


# Item fields compared by the diff, under the names editors know from the YAML file.
_ITEM_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("text", ("text",)),
    ("guidance", ("guidance",)),
    ("verification", ("verification",)),
    ("answer", ("answer_type",)),
    ("weight", ("weight",)),
    ("applies_to", ("applies_to",)),
    ("applies_if_offers", ("applies_if_offers",)),
    ("critical", ("critical", "critical_when_offers")),
    ("allow_na", ("allow_na",)),
    ("allow_not_observed", ("allow_not_observed",)),
    ("scale", ("scale",)),
    ("pass_min", ("pass_min",)),
    ("unit", ("unit",)),
    ("finding_below", ("finding_below",)),
    ("integer", ("integer",)),
    ("min", ("min",)),
    ("max", ("max",)),
    ("max_length", ("max_length",)),
    ("informational", ("informational",)),
    ("options", ("options",)),
    ("section", ("section_id",)),
)
_SCORING_FIELDS = (
    "overall",
    "meets_min",
    "conditional_min",
    "section_min",
    "validity_months",
    "corrective_days",
    "groups_rule",
)
_CHECKLIST_FIELDS = (
    "programme",
    "title",
    "description",
    "status",
    "effective_from",
    "legal_basis",
    "facility_types",
    "groups",
)


def programmes_available(
    candidates: Iterable[Checklist], facility_type: str, on: dt.date
) -> dict[str, Checklist]:
    """Each programme that has a published checklist for this type on ``on``, with the version it uses."""
    pool = list(candidates)
    found: dict[str, Checklist] = {}
    for programme in PROGRAMMES:  # in the documented order, routine first
        chosen = select_version(pool, facility_type, on, programme)
        if chosen is not None:
            found[programme] = chosen
    return found


def diff_checklists(old: Checklist, new: Checklist) -> ChecklistDiff:
    """Compare two versions of a checklist: items and sections by id, scoring rules, fields."""
    diff = ChecklistDiff()
    old_items = {item.id: item for item in old.items}
    new_items = {item.id: item for item in new.items}
    diff.added = [i for i in new_items if i not in old_items]
    diff.removed = [i for i in old_items if i not in new_items]
    for item_id, after in new_items.items():
        before = old_items.get(item_id)
        if before is None:
            continue
        fields = [
            name
            for name, attrs in _ITEM_FIELDS
            if any(getattr(before, a) != getattr(after, a) for a in attrs)
        ]
        if fields:
            diff.changed.append((item_id, fields))
    old_sections = {s.id: s for s in old.sections}
    new_sections = {s.id: s for s in new.sections}
    diff.sections_added = [s for s in new_sections if s not in old_sections]
    diff.sections_removed = [s for s in old_sections if s not in new_sections]
    for section_id, after_s in new_sections.items():
        before_s = old_sections.get(section_id)
        if before_s is None:
            continue
        fields = [
            name
            for name in ("title", "weight", "applies_to", "applies_if_offers", "instructions", "informational")
            if getattr(before_s, name) != getattr(after_s, name)
        ]
        kept_before = [i.id for i in before_s.items if i.id in {j.id for j in after_s.items}]
        kept_after = [i.id for i in after_s.items if i.id in {j.id for j in before_s.items}]
        if kept_before != kept_after:
            fields.append("item order")
        if fields:
            diff.sections_changed.append((section_id, fields))
    if [s for s in old_sections if s in new_sections] != [
        s for s in new_sections if s in old_sections
    ]:
        diff.checklist_changed.append("section order")
    for name in _SCORING_FIELDS:
        before_v, after_v = getattr(old.scoring, name), getattr(new.scoring, name)
        if before_v != after_v:
            diff.scoring_changed.append((name, before_v, after_v))
    diff.checklist_changed[:0] = [
        name for name in _CHECKLIST_FIELDS if getattr(old, name) != getattr(new, name)
    ]
    return diff


_LABELS = {
    "en": {
        "added": "Items added",
        "removed": "Items removed",
        "changed": "Items changed",
        "sections_added": "Sections added",
        "sections_removed": "Sections removed",
        "sections_changed": "Sections changed",
        "scoring_changed": "Scoring rules changed",
        "checklist_changed": "Checklist fields changed",
        "none": "none",
        "same": "No differences.",
    },
    "vi": {
        "added": "Tiêu chí thêm mới",
        "removed": "Tiêu chí bị bỏ",
        "changed": "Tiêu chí thay đổi",
        "sections_added": "Phần thêm mới",
        "sections_removed": "Phần bị bỏ",
        "sections_changed": "Phần thay đổi",
        "scoring_changed": "Quy tắc chấm điểm thay đổi",
        "checklist_changed": "Thông tin chung thay đổi",
        "none": "không có",
        "same": "Không có khác biệt.",
    },
}


def _fmt_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def format_diff(diff: ChecklistDiff, locale: str = "en") -> str:
    """Human-readable text of a diff, in English or Vietnamese ('vi')."""
    labels = _LABELS["vi" if locale.startswith("vi") else "en"]
    lines: list[str] = []
    # The three item lines are always printed, so a reader sees "none" rather than wondering.
    for key in ("added", "removed"):
        ids: list[str] = getattr(diff, key)
        lines.append(f"{labels[key]} ({len(ids)}): {', '.join(ids) if ids else labels['none']}")
    lines.append(
        f"{labels['changed']} ({len(diff.changed)}){':' if diff.changed else ': ' + labels['none']}"
    )
    lines.extend(f"  {item_id}: {', '.join(fields)}" for item_id, fields in diff.changed)
    for key in ("sections_added", "sections_removed"):
        ids = getattr(diff, key)
        if ids:
            lines.append(f"{labels[key]} ({len(ids)}): {', '.join(ids)}")
    if diff.sections_changed:
        lines.append(f"{labels['sections_changed']} ({len(diff.sections_changed)}):")
        lines.extend(f"  {sid}: {', '.join(fields)}" for sid, fields in diff.sections_changed)
    if diff.scoring_changed:
        lines.append(f"{labels['scoring_changed']}:")
        lines.extend(
            f"  {name}: {_fmt_value(a)} → {_fmt_value(b)}" for name, a, b in diff.scoring_changed
        )
    if diff.checklist_changed:
        lines.append(f"{labels['checklist_changed']}: {', '.join(diff.checklist_changed)}")
    if diff.is_empty:
        lines.append(labels["same"])
    return "\n".join(lines)
