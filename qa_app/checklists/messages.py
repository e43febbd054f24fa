"""How the checklist loader reports problems: :class:`Problem` (file, line, message), :class:`ChecklistError`
holding them all, and the helpers that word a wrong value (what it is, what it looks like, a likely
slip such as a quoted number or a decimal comma). Pure: no Flask, no database."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any, TypeGuard


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


