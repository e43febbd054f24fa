"""The rules a checklist document must follow: the keys of each part, the allowed values, and the checks
across parts (scoring groups, sections, dates, the file name). Every problem is collected, never only the
first. Item-level rules are in ``checklists.item_rules``. Pure: no Flask, no database."""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Any

from .item_rules import _ItemRules
from .keys import (
    CODE_RE,
    DATE_RE,
    FILE_NAME_RE,
    FORMAT_VERSION,
    GROUP_OPTIONAL,
    GROUP_REQUIRED,
    ID_RE,
    LEGAL_BASIS_OPTIONAL,
    MAX_CODE_LENGTH,
    MAX_TITLE_LENGTH,
    OVERALL_METHODS,
    SCORING_OPTIONAL,
    SCORING_REQUIRED,
    SECTION_OPTIONAL,
    SECTION_REQUIRED,
    TEXT_OPTIONAL,
    TEXT_REQUIRED,
    TOP_OPTIONAL,
    TOP_REQUIRED,
)
from .messages import _FOREIGN_KEYS, _describe, _id_of, _is_int, _is_number, _number_hint, _show
from .reading import _BAD, LineChecker, PathKey, _as_date, _Document
from .schema import (
    FACILITY_TYPES,
    GROUP_AGGREGATIONS,
    GROUP_RULES,
    PROGRAMMES,
    SERVICES,
    STATUSES,
)


class _Validator(_ItemRules, LineChecker):
    """Checks a whole document and collects every problem (never stops at the first)."""

    def __init__(self, doc: _Document, data: dict[Any, Any], file_name: str | None) -> None:
        super().__init__(doc)
        self.data = data
        self.file_name = file_name

    # -- helpers -------------------------------------------------------------------------------

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

