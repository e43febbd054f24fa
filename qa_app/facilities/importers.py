"""Reading a facility list CSV (pure: no Flask, no database); the format is in docs/import-formats.md.

Every cell is checked and every problem reported with its row number as a spreadsheet shows it (the header
is row 1). Checks that need the database (unit codes, scope, existing facilities) are in
``facilities.services.import_facilities``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from ..checklists.schema import FACILITY_TYPES, SERVICES
from ..regions.importers import N_, FileFormatError, RowError, clean, fold, read_table, size_text

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_REPORTED_ERRORS = 500

COLUMNS = ("code", "name", "type", "ownership", "unit_system", "unit_code", "legacy_unit_code", "services",
           "high_fertility", "active_from", "active_to", "address", "phone", "head_name")
REQUIRED_COLUMNS = ("code", "name", "type", "ownership", "unit_code", "active_from")
LENGTHS = {"code": 32, "name": 200, "address": 300, "phone": 40, "head_name": 120}

_OWNERSHIP = {
    "public": "public", "cong lap": "public", "nha nuoc": "public",
    "non_public": "non_public", "non-public": "non_public", "non public": "non_public", "private": "non_public",
    "ngoai cong lap": "non_public", "tu nhan": "non_public",
}
_SYSTEMS = {"2025": "2025", "new": "2025", "moi": "2025", "pre2025": "pre2025", "pre-2025": "pre2025",
            "old": "pre2025", "cu": "pre2025", "truoc 2025": "pre2025"}
_TRUE = {"1", "yes", "y", "true", "x", "co"}
_FALSE = {"0", "no", "n", "false", "khong", ""}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


@dataclass
class FacilityRow:
    """One valid row of a facility CSV, ready to be matched against the database."""

    row: int
    code: str
    name: str
    type: str
    ownership: str
    unit_system: str
    unit_code: str
    legacy_unit_code: str | None
    services: tuple[str, ...]
    high_fertility: bool
    active_from: dt.date
    active_to: dt.date | None
    address: str
    phone: str
    head_name: str


@dataclass
class FacilityFile:
    """The rows of a facility CSV and every problem found in them."""

    rows: list[FacilityRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rows_read: int = 0


def parse_date(value: str) -> dt.date:
    """YYYY-MM-DD or DD/MM/YYYY (also D/M/YYYY and dashes or dots), as Vietnamese spreadsheets write dates."""
    value = clean(value)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", value)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    raise ValueError(value)


def _unit_code(value: str) -> str | None:
    """A unit code as text; a spreadsheet drops leading zeros, so 4 digits are a commune, 1 digit a province."""
    value = clean(value).replace(" ", "")
    if value.endswith(".0"):
        value = value[:-2]
    if not value.isdigit() or not value.isascii():
        return None
    if len(value) == 4:
        return value.zfill(5)
    if len(value) == 1:
        return value.zfill(2)
    return value if len(value) in (2, 3, 5) else None


def parse_facilities(data: bytes) -> FacilityFile:
    """Check a facility CSV completely; raises FileFormatError if it cannot be read as such at all."""
    if len(data) > MAX_FILE_BYTES:
        raise FileFormatError([RowError(0, N_("The file is larger than %(size)s: split it into several files."),
                                        {"size": size_text(MAX_FILE_BYTES)})])
    header, data_rows = read_table(data, COLUMNS, REQUIRED_COLUMNS, MAX_FILE_BYTES)
    if not data_rows:
        raise FileFormatError([RowError(0, N_("The file has a header but no facility rows."))])
    if len(data_rows) > MAX_ROWS:
        raise FileFormatError([RowError(0, N_("The file has %(rows)d facility rows; at most %(max)d can be "
                                              "imported at once: split it into several files."),
                                        {"rows": len(data_rows), "max": MAX_ROWS})])
    result = FacilityFile(rows_read=len(data_rows))
    first_row_of: dict[str, int] = {}
    for number, row in data_rows:
        if len(result.errors) >= MAX_REPORTED_ERRORS:
            result.errors.append(RowError(0, N_("More than %(max)d problems: checking stopped here."),
                                          {"max": MAX_REPORTED_ERRORS}))
            break
        if len(row) > len(header) and any(clean(c) for c in row[len(header):]):
            result.errors.append(RowError(number, N_("%(cells)d cells but the header has %(columns)d columns (a "
                                                     "comma or semicolon inside a value must be quoted)."),
                                          {"cells": len(row), "columns": len(header)}))
            continue
        cells = {name: clean(row[i]) if i < len(row) else "" for i, name in enumerate(header) if name}
        parsed = _parse_row(number, cells, result.errors)
        if parsed is None:
            continue
        key = parsed.code.upper()
        if key in first_row_of:
            result.errors.append(RowError(number, N_("Duplicate code '%(code)s' in file rows %(first)d and "
                                                     "%(second)d."),
                                          {"code": parsed.code, "first": first_row_of[key], "second": number}))
            continue
        first_row_of[key] = number
        result.rows.append(parsed)
    return result


def _parse_row(number: int, cells: dict[str, str], errors: list[RowError]) -> FacilityRow | None:
    """Check one row's cells; report every problem in it and return None if there was any."""
    found: list[RowError] = []

    def problem(template: str, **params: object) -> None:
        found.append(RowError(number, template, params))

    code = cells.get("code", "")
    name = cells.get("name", "")
    if not code:
        problem(N_("The code is empty."))
    elif not _CODE.match(code):
        problem(N_("Code '%(code)s' may contain only letters, digits and . _ / -"), code=code)
    if not name:
        problem(N_("The name is empty."))
    for column, limit in LENGTHS.items():
        if len(cells.get(column, "")) > limit:
            problem(N_("%(column)s is longer than %(max)d characters."), column=column, max=limit)

    raw_type = cells.get("type", "")
    type_ = raw_type.upper()
    if not raw_type:
        problem(N_("The type is empty."))
    elif type_ not in FACILITY_TYPES:
        problem(N_("Unknown type '%(value)s' (use one of %(choices)s)."), value=raw_type,
                choices=", ".join(FACILITY_TYPES))
    raw_ownership = cells.get("ownership", "")
    ownership = _OWNERSHIP.get(fold(raw_ownership))
    if not raw_ownership:
        problem(N_("The ownership is empty."))
    elif ownership is None:
        problem(N_("Unknown ownership '%(value)s' (use public or non_public)."), value=raw_ownership)
    if type_ == "TYT" and ownership == "non_public":
        problem(N_("A commune health station (TYT) must be public."))

    raw_system = cells.get("unit_system", "") or "2025"
    system = _SYSTEMS.get(fold(raw_system))
    if system is None:
        problem(N_("Unknown unit_system '%(value)s' (use 2025 or pre2025)."), value=raw_system)
    raw_unit = cells.get("unit_code", "")
    unit_code = _unit_code(raw_unit)
    if not raw_unit:
        problem(N_("The unit_code is empty."))
    elif unit_code is None:
        problem(N_("unit_code '%(value)s' is not a unit code (2, 3 or 5 digits)."), value=raw_unit)
    raw_legacy = cells.get("legacy_unit_code", "")
    legacy = _unit_code(raw_legacy) if raw_legacy else None
    if raw_legacy and legacy is None:
        problem(N_("legacy_unit_code '%(value)s' is not a unit code (3 or 5 digits)."), value=raw_legacy)

    services: list[str] = []
    for token in re.split(r"[;,\s]+", cells.get("services", "")):
        if not token:
            continue
        if token.upper() not in SERVICES:
            problem(N_("Unknown service '%(value)s' (use %(choices)s)."), value=token, choices=", ".join(SERVICES))
        elif token.upper() not in services:
            services.append(token.upper())

    raw_flag = cells.get("high_fertility", "")
    flag = fold(raw_flag)
    if flag not in _TRUE and flag not in _FALSE:
        problem(N_("high_fertility '%(value)s' must be 1/0, yes/no or có/không."), value=raw_flag)

    dates: dict[str, dt.date | None] = {}
    for column in ("active_from", "active_to"):
        raw = cells.get(column, "")
        dates[column] = None
        if not raw:
            if column == "active_from":
                problem(N_("active_from is empty (the date the facility started, e.g. 2015-01-01)."))
            continue
        try:
            dates[column] = parse_date(raw)
        except ValueError:
            problem(N_("%(column)s '%(value)s' is not a date (write YYYY-MM-DD or DD/MM/YYYY)."), column=column,
                    value=raw)
    start, end = dates["active_from"], dates["active_to"]
    if start and end and end < start:
        problem(N_("active_to %(end)s is before active_from %(start)s."), end=f"{end:%d/%m/%Y}",
                start=f"{start:%d/%m/%Y}")

    if found:
        errors.extend(found)
        return None
    if system is None or unit_code is None or ownership is None or start is None:  # pragma: no cover
        raise AssertionError("narrowed by the checks above")
    return FacilityRow(row=number, code=code, name=name, type=type_, ownership=ownership, unit_system=system,
                       unit_code=unit_code, legacy_unit_code=legacy, services=tuple(services),
                       high_fertility=flag in _TRUE, active_from=start, active_to=end,
                       address=cells.get("address", ""), phone=cells.get("phone", ""),
                       head_name=cells.get("head_name", ""))
