"""Answer types: validate and normalise raw answers, and say what an answer is worth.

Pure module (no Flask, no database). Raw answers arrive from HTML forms (strings), the JSON API
(strings, numbers) or stored JSON; every path goes through :func:`normalize_answer`, so the value
that is stored, scored and printed is always the same canonical one.

Canonical values, per answer type:

* ``yes_no_na``: ``"met"``, ``"not_met"`` or ``"na"``;
* ``scale``: an ``int`` that is one of the item's levels, or ``"na"``;
* ``number``: an ``int`` or a finite ``float``, or ``"na"``;
* ``text``: a stripped, NFC-normalised ``str`` of at most :data:`MAX_TEXT_LENGTH` characters
  (``"na"`` is just text here: a supervisor writes what was found).

``None`` always means "unanswered".
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType

from qa_app.checklists.schema import MET, NA, NOT_MET, NOT_OBSERVED, Item

Value = str | int | float
MAX_TEXT_LENGTH = 2000
# Integers beyond 2**53 cannot round-trip through JSON numbers in a browser (IEEE doubles).
MAX_SAFE_INTEGER = 2**53
# ASCII digits only: int()/float() also accept "1_000", "nan", "inf" and non-ASCII digits, none of
# which a supervisor means as a number.
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# C0 controls other than tab, newline and carriage return: PostgreSQL rejects NUL in text and
# ReportLab renders the others as garbage in the signed minutes.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class AnswerError(ValueError):
    """An answer that is not valid for its item; ``item_id`` and ``code`` let the UI localise it."""

    def __init__(self, item_id: str, message: str, code: str = "invalid") -> None:
        super().__init__(f"item {item_id}: {message}")
        self.item_id = item_id
        self.code = code


@dataclass(frozen=True)
class AnswerType:
    """One answer type: how to normalise a non-blank raw answer and what the value is worth."""

    name: str
    scored: bool
    # Called with a raw answer that is neither None nor blank; returns the canonical value.
    normalize: Callable[[Item, object], Value]
    # Share of the item's weight earned (None: earns nothing and counts nothing, e.g. N/A).
    fraction: Callable[[Item, Value], Fraction | None]
    # Whether the value is a failure (used for critical items and the list of findings).
    failed: Callable[[Item, Value], bool]
    # Whether the value is an explicit "not applicable".
    is_na: Callable[[Item, Value], bool]


def is_blank(raw: object) -> bool:
    """Whether a raw answer means "unanswered" (None, or a string of only whitespace)."""
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _check_na(item: Item) -> str:
    if not item.allow_na:
        raise AnswerError(item.id, "N/A is not allowed for this item", "na_not_allowed")
    return NA


def _is_na_token(raw: object) -> bool:
    return isinstance(raw, str) and raw.strip().lower() == NA


def _is_not_observed_token(raw: object) -> bool:
    return isinstance(raw, str) and raw.strip().lower() == NOT_OBSERVED


def _check_not_observed(item: Item) -> str:
    if not item.allow_not_observed:
        raise AnswerError(item.id, "'not observed' is not allowed for this item", "not_observed_not_allowed")
    return NOT_OBSERVED


def _parse_number(item: Item, raw: object) -> int | float:
    """Parse an int, a float or a numeric string into an int or a finite float."""
    # bool is an int subclass, but True is never a count or a scale level.
    if isinstance(raw, bool):
        raise AnswerError(item.id, f"expected a number, got {raw!r}", "not_a_number")
    if isinstance(raw, numbers.Integral):
        value: int | float = int(raw)
    elif isinstance(raw, numbers.Real):
        value = float(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if not _NUMBER_RE.fullmatch(text):
            raise AnswerError(item.id, f"expected a number, got {raw!r}", "not_a_number")
        try:
            is_int = text.lstrip("+-").isdigit()
            value = int(text) if is_int else float(text)
        except ValueError:  # more digits than int() accepts
            raise AnswerError(item.id, "number is too large", "out_of_range") from None
    else:
        raise AnswerError(item.id, f"expected a number, got {type(raw).__name__}", "not_a_number")
    if isinstance(value, float) and not math.isfinite(value):
        raise AnswerError(item.id, f"expected a finite number, got {raw!r}", "not_a_number")
    if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
        raise AnswerError(item.id, "number is too large", "out_of_range")
    return value


# --- yes_no_na ------------------------------------------------------------------------------


def _normalize_yes_no_na(item: Item, raw: object) -> Value:
    if _is_not_observed_token(raw):
        return _check_not_observed(item)
    if not isinstance(raw, str) or raw.strip().lower() not in (MET, NOT_MET, NA):
        raise AnswerError(
            item.id, f"expected one of {MET}, {NOT_MET}, {NA}; got {raw!r}", "invalid_choice"
        )
    value = raw.strip().lower()
    return _check_na(item) if value == NA else value


def _fraction_yes_no_na(item: Item, value: Value) -> Fraction | None:
    if value == MET:
        return Fraction(1)
    if value == NOT_MET:
        return Fraction(0)
    if value in (NA, NOT_OBSERVED):
        return None
    raise AnswerError(item.id, f"not a normalised yes_no_na value: {value!r}", "invalid_choice")


def _failed_yes_no_na(item: Item, value: Value) -> bool:
    return value == NOT_MET


# --- scale ----------------------------------------------------------------------------------


def _scale_values(item: Item) -> tuple[int, ...]:
    # The loader guarantees levels; without them the schema's own defaults (0..1) apply.
    return tuple(sorted(level.value for level in item.scale)) or (0, 1)


def _normalize_scale(item: Item, raw: object) -> Value:
    if _is_na_token(raw):
        return _check_na(item)
    if _is_not_observed_token(raw):
        return _check_not_observed(item)
    number = _parse_number(item, raw)
    if isinstance(number, float):
        if not number.is_integer():
            raise AnswerError(
                item.id, f"expected a whole scale level, got {raw!r}", "invalid_choice"
            )
        number = int(number)
    allowed = _scale_values(item)
    if number not in allowed:
        levels = ", ".join(str(v) for v in allowed)
        raise AnswerError(
            item.id,
            f"expected one of the scale levels {levels} or na; got {raw!r}",
            "invalid_choice",
        )
    return number


def _check_scale_value(item: Item, value: Value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in _scale_values(item):
        raise AnswerError(item.id, f"not a normalised scale value: {value!r}", "invalid_choice")
    return value


def _fraction_scale(item: Item, value: Value) -> Fraction | None:
    if value in (NA, NOT_OBSERVED):
        return None
    level = _check_scale_value(item, value)
    low, high = item.scale_min, item.scale_max
    if high == low:  # a one-level scale: the only possible answer is the top
        return Fraction(1)
    return Fraction(level - low, high - low)


def _failed_scale(item: Item, value: Value) -> bool:
    if value in (NA, NOT_OBSERVED):
        return False
    level = _check_scale_value(item, value)
    if item.finding_below is not None:
        return level < item.finding_below
    pass_min = item.pass_min if item.pass_min is not None else item.scale_max
    return level < pass_min


# --- options (a score per option) -----------------------------------------------------------


def _option(item: Item, value: object) -> object:
    for option in item.options:
        if option.value == value:
            return option
    return None


def _normalize_options(item: Item, raw: object) -> Value:
    if _is_na_token(raw):
        return _check_na(item)
    if _is_not_observed_token(raw):
        return _check_not_observed(item)
    text = raw.strip() if isinstance(raw, str) else raw
    if _option(item, text) is None:
        allowed = ", ".join(o.value for o in item.options)
        raise AnswerError(item.id, f"expected one of {allowed}; got {raw!r}", "invalid_choice")
    return text  # type: ignore[return-value]


def _fraction_options(item: Item, value: Value) -> Fraction | None:
    if value in (NA, NOT_OBSERVED):
        return None
    option = _option(item, value)
    if option is None:
        raise AnswerError(item.id, f"not a normalised option: {value!r}", "invalid_choice")
    if option.score is None:  # e.g. "did not apply on the day": left out of the score
        return None
    top = Fraction(repr(item.options_max)) if isinstance(item.options_max, float) else Fraction(item.options_max)
    score = Fraction(repr(option.score)) if isinstance(option.score, float) else Fraction(option.score)
    return score / top if top else Fraction(0)


def _failed_options(item: Item, value: Value) -> bool:
    if value in (NA, NOT_OBSERVED):
        return False
    option = _option(item, value)
    if option is None or option.score is None:
        return False
    limit = item.finding_below if item.finding_below is not None else item.options_max
    return option.score < limit


# --- number and text (informational) --------------------------------------------------------


def _normalize_number(item: Item, raw: object) -> Value:
    if _is_na_token(raw):
        return _check_na(item)
    value = _parse_number(item, raw)
    # The file's constraints: a count of clients is a whole number within its range (refuses -3, 2.5 and 1e3 when
    # the item says integer, min 0, max 500).
    if item.integer:
        if isinstance(value, float):
            if not value.is_integer() or isinstance(raw, str) and not raw.strip().lstrip("+-").isdigit():
                raise AnswerError(item.id, f"expected a whole number, got {raw!r}", "not_an_integer")
            value = int(value)
    if item.min is not None and value < item.min:
        raise AnswerError(item.id, f"the number must be at least {_plain(item.min)}, got {raw!r}", "below_min")
    if item.max is not None and value > item.max:
        raise AnswerError(item.id, f"the number must be at most {_plain(item.max)}, got {raw!r}", "above_max")
    return value


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _normalize_text(item: Item, raw: object) -> Value:
    if not isinstance(raw, str):
        raise AnswerError(item.id, f"expected text, got {type(raw).__name__}", "not_text")
    # NFC so that the same Vietnamese word typed on different keyboards (precomposed "ệ" or
    # "e" + combining marks) is stored, compared and counted the same; CRLF from <textarea>.
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").strip()
    if _CONTROL_RE.search(text):
        raise AnswerError(item.id, "text contains control characters", "invalid_text")
    limit = min(item.max_length or MAX_TEXT_LENGTH, MAX_TEXT_LENGTH)
    if len(text) > limit:
        raise AnswerError(item.id, f"text is longer than {limit} characters", "too_long")
    return text


def _no_fraction(item: Item, value: Value) -> Fraction | None:
    return None


def _never_failed(item: Item, value: Value) -> bool:
    return False


def _is_na_value(item: Item, value: Value) -> bool:
    return value == NA


def _text_is_never_na(item: Item, value: Value) -> bool:
    return False


ANSWER_TYPE_REGISTRY: Mapping[str, AnswerType] = MappingProxyType(
    {
        "yes_no_na": AnswerType(
            "yes_no_na",
            True,
            _normalize_yes_no_na,
            _fraction_yes_no_na,
            _failed_yes_no_na,
            _is_na_value,
        ),
        "scale": AnswerType(
            "scale", True, _normalize_scale, _fraction_scale, _failed_scale, _is_na_value
        ),
        "number": AnswerType(
            "number", False, _normalize_number, _no_fraction, _never_failed, _is_na_value
        ),
        "options": AnswerType(
            "options", True, _normalize_options, _fraction_options, _failed_options, _is_na_value
        ),
        "text": AnswerType(
            "text", False, _normalize_text, _no_fraction, _never_failed, _text_is_never_na
        ),
    }
)


def answer_type(item: Item) -> AnswerType:
    """Return the registered answer type of ``item`` (AnswerError if unknown)."""
    try:
        return ANSWER_TYPE_REGISTRY[item.answer_type]
    except KeyError:
        raise AnswerError(
            item.id, f"unknown answer type {item.answer_type!r}", "unknown_type"
        ) from None


def normalize_answer(item: Item, raw: object) -> Value | None:
    """Validate ``raw`` for ``item`` and return its canonical value (None if unanswered)."""
    if is_blank(raw):
        return None
    return answer_type(item).normalize(item, raw)


def is_na(item: Item, value: Value | None) -> bool:
    """Whether the normalised ``value`` is an explicit N/A for ``item``."""
    return value is not None and answer_type(item).is_na(item, value)


def item_value_fraction(item: Item, value: Value | None) -> Fraction | None:
    """Share of the weight a normalised value earns: None for N/A, unanswered or informational."""
    if value is None:
        return None
    return answer_type(item).fraction(item, value)


def is_not_observed(item: Item, value: Value | None) -> bool:
    """Whether the normalised ``value`` is "not observed" (only scored items can have it)."""
    return value == NOT_OBSERVED and item.answer_type in ("yes_no_na", "scale", "options")


def item_failed(item: Item, value: Value | None) -> bool:
    """Whether a normalised value fails the item (not_met; a scale value below pass_min)."""
    if value is None:
        return False
    return answer_type(item).failed(item, value)
