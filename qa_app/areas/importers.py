"""Reading a service-area CSV (pure: no Flask, no database); the format is in docs/import-formats.md.

One row per area: ``area_code, name, owner_code, commune_codes, valid_from, valid_to``. Commune codes are
the 5-digit 2025 codes, separated by spaces, semicolons or "|" (a comma would need quoting). Every problem
is reported with its row number as a spreadsheet shows it (the header is row 1); checks that need the
database (communes exist, one province, owner exists, no overlap with another area) are in
``areas.services.import_areas``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from ..facilities.importers import parse_date
from ..regions.importers import N_, FileFormatError, RowError, clean, read_table

MAX_FILE_BYTES = 2 * 1024 * 1024
COLUMNS = ("area_code", "name", "owner_code", "commune_codes", "valid_from", "valid_to")
REQUIRED_COLUMNS = ("area_code", "name", "commune_codes", "valid_from")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$")
_SEPARATORS = re.compile(r"[\s;|]+")


@dataclass
class AreaRow:
    """One valid row: an area and its communes' 2025 codes."""

    row: int
    code: str
    name: str
    owner_code: str | None
    commune_codes: tuple[str, ...]
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass
class AreaFile:
    """The rows of an area CSV and every problem found in them."""

    rows: list[AreaRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def split_codes(value: str) -> list[str]:
    """Commune codes of one cell; 4-digit codes get their leading zero back (spreadsheets drop it)."""
    return [code.zfill(5) if code.isdigit() and len(code) < 5 else code
            for code in _SEPARATORS.split(clean(value)) if code]


def parse_areas(data: bytes) -> AreaFile:
    """Check an area CSV completely; raises FileFormatError if it cannot be read as one at all."""
    header, data_rows = read_table(data, COLUMNS, REQUIRED_COLUMNS, MAX_FILE_BYTES)
    result = AreaFile()
    first_row_of: dict[str, int] = {}
    commune_rows: dict[str, int] = {}
    for number, row in data_rows:
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
        for code in parsed.commune_codes:
            # A commune belongs to one area at a time: the drill-down and the coverage groups depend on it.
            if code in commune_rows:
                result.errors.append(RowError(number, N_("Commune %(code)s is already in the area of row %(row)d."),
                                              {"code": code, "row": commune_rows[code]}))
            else:
                commune_rows[code] = number
        result.rows.append(parsed)
    if not result.rows and not result.errors:
        raise FileFormatError([RowError(0, N_("The file has a header but no area rows."))])
    return result


def _parse_row(number: int, cells: dict[str, str], errors: list[RowError]) -> AreaRow | None:
    found: list[RowError] = []

    def problem(template: str, **params: object) -> None:
        found.append(RowError(number, template, params))

    code, name, owner = cells.get("area_code", ""), cells.get("name", ""), cells.get("owner_code", "")
    if not code:
        problem(N_("The code is empty."))
    elif not _CODE.match(code):
        problem(N_("Code '%(code)s' may contain only letters, digits and . _ / -"), code=code)
    if not name:
        problem(N_("The name is empty."))
    elif len(name) > 200:
        problem(N_("%(column)s is longer than %(max)d characters."), column="name", max=200)
    communes = split_codes(cells.get("commune_codes", ""))
    if not communes:
        problem(N_("An area needs at least one commune code."))
    for commune in communes:
        if not (commune.isdigit() and len(commune) == 5):
            problem(N_("'%(value)s' is not a 5-digit commune code."), value=commune)
    dates: dict[str, dt.date | None] = {}
    for column in ("valid_from", "valid_to"):
        raw = cells.get(column, "")
        dates[column] = None
        if not raw:
            if column == "valid_from":
                problem(N_("%(column)s is empty."), column=column)
            continue
        try:
            dates[column] = parse_date(raw)
        except ValueError:
            problem(N_("%(column)s '%(value)s' is not a date (write YYYY-MM-DD or DD/MM/YYYY)."), column=column,
                    value=raw)
    valid_from, valid_to = dates["valid_from"], dates["valid_to"]
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        problem(N_("valid_to is before valid_from."))
    if len(set(communes)) != len(communes):
        problem(N_("A commune code is listed twice."))
    if found:
        errors.extend(found)
        return None
    assert valid_from is not None
    return AreaRow(number, code, name, owner or None, tuple(communes), valid_from, valid_to)
