"""Load checklist YAML files into frozen :class:`Checklist` objects, reporting problems by line.

Pure module (no Flask, no database). The file is composed with PyYAML's safe loader into nodes, so
every value keeps the line it came from; the whole document is then checked and *every* problem is
reported at once as :class:`ChecklistError`. A checklist object is only built from a document
without problems.

The work is shared out by job: ``reading`` (YAML with lines, YAML errors in words), ``keys`` (the format's
vocabulary), ``rules`` and ``item_rules`` (every check), ``messages`` (``Problem``, ``ChecklistError`` and
the wording of a wrong value) and ``versions`` (choosing and comparing versions). This module builds the
frozen objects and is the entry point: import from here.

The format is described in ``checklists/README.md``; ``checklists/checklist.schema.json``
describes the same shape for editors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .schema import (
    DEFAULT_PROGRAMME,
    Checklist,
    Item,
    LegalBasis,
    Option,
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

# --------------------------------------------------------------------------------------------------
# Building the dataclasses (only from a document without problems)
# --------------------------------------------------------------------------------------------------
from .messages import ChecklistError, Problem, _describe
from .reading import _BAD, MAX_DEPTH, _as_date, _Document, _Loader, _tab_problems, _yaml_error
from .rules import _Validator
from .versions import ChecklistDiff, diff_checklists, format_diff, programmes_available, select_version


def _clean(value: str) -> str:
    # Block scalars (| and >) end with a newline and quoted texts may carry stray spaces.
    return value.strip()


def _text(value: Mapping[str, str]) -> Text:
    return Text(vi=_clean(value["vi"]), en=_clean(value.get("en", "")))


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
