"""The rules of one checklist item: its keys, answer type, options and scale, constraints and what makes it
critical. A mixin of ``checklists.rules._Validator`` (it uses the validator's ``err``, ``mapping``, ``text``
and the other document-level helpers). Pure: no Flask, no database."""

from __future__ import annotations

from typing import Any

from .keys import CRITICAL_VALUES, ID_RE, INFORMATIONAL_ANSWER_TYPES, ITEM_OPTIONAL, ITEM_REQUIRED
from .messages import _describe, _id_of, _is_int, _is_number, _number_hint
from .reading import _BAD, PathKey
from .schema import (
    ANSWER_TYPES,
    SERVICES,
    VERIFICATION_METHODS,
)


class _ItemRules:
    """Item-level checks, mixed into the document validator."""

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


