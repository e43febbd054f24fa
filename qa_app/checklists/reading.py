"""Reading a checklist file: YAML composed into plain values that remember the line each came from, and
YAML's own errors turned into a line and a hint a checklist author can act on (tabs, indentation, a colon
inside a value). Pure: no Flask, no database. Used by ``checklists.loader``."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

import yaml

from .keys import DATE_RE
from .messages import _show

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


class LineChecker:
    """Collects problems located by line: the line of a value is found from its path in a composed document
    (the nearest ancestor's when the value itself has none). The checklist validator builds on it; any other
    YAML file read with ``_Document`` can check its values the same way."""

    def __init__(self, doc: _Document) -> None:
        self.doc = doc
        self.problems: list[tuple[int, str]] = []

    def line(self, path: PathKey, at_key: bool = False) -> int:
        if at_key and path in self.doc.key_lines:
            return self.doc.key_lines[path]
        while path not in self.doc.lines and path:
            path = path[:-1]
        return self.doc.lines.get(path, 1)

    def err(self, path: PathKey, message: str, at_key: bool = False) -> None:
        self.problems.append((self.line(path, at_key), message))


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
