"""Reading a high-fertility list CSV (pure: no Flask, no database); the format is in docs/import-formats.md.

One row per commune: ``commune_code, unit_system, high_fertility, valid_from, source``. A row says "from
``valid_from`` this commune is (or is no longer) in a high-fertility area". Every problem is reported with its
row number as a spreadsheet shows it (the header is row 1); checks that need the database (the commune exists,
the date comes after the commune's recorded history) are in ``regions.fertility.import_statuses``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..facilities.importers import parse_date
from .importers import N_, FileFormatError, RowError, clean, fold, read_table

MAX_FILE_BYTES = 2 * 1024 * 1024
COLUMNS = ("commune_code", "unit_system", "high_fertility", "valid_from", "source")
REQUIRED_COLUMNS = ("commune_code", "high_fertility", "valid_from")
SYSTEMS = ("2025", "pre2025")
YES = {"1", "yes", "y", "true", "x", "co"}
NO = {"0", "no", "n", "false", "khong"}


@dataclass(frozen=True)
class StatusRow:
    """One valid row: a commune's status from a date."""

    row: int
    system: str
    code: str
    high_fertility: bool
    valid_from: dt.date
    source: str


@dataclass
class StatusFile:
    """The rows of a high-fertility CSV and every problem found in them."""

    rows: list[StatusRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def parse_statuses(data: bytes) -> StatusFile:
    """Check a high-fertility CSV completely; raises FileFormatError if it cannot be read as one at all."""
    header, data_rows = read_table(data, COLUMNS, REQUIRED_COLUMNS, MAX_FILE_BYTES)
    result = StatusFile()
    first_row_of: dict[tuple[str, str], int] = {}
    for number, row in data_rows:
        cells = {name: clean(row[i]) if i < len(row) else "" for i, name in enumerate(header) if name}
        parsed = _parse_row(number, cells, result.errors)
        if parsed is None:
            continue
        # One status per commune per file: two rows would leave the reader to guess which one wins.
        key = (parsed.system, parsed.code)
        if key in first_row_of:
            result.errors.append(RowError(number, N_("Commune %(code)s is already in row %(row)d."),
                                          {"code": parsed.code, "row": first_row_of[key]}))
            continue
        first_row_of[key] = number
        result.rows.append(parsed)
    if not result.rows and not result.errors:
        raise FileFormatError([RowError(0, N_("The file has a header but no commune rows."))])
    return result


def _parse_row(number: int, cells: dict[str, str], errors: list[RowError]) -> StatusRow | None:
    found: list[RowError] = []

    def problem(template: str, **params: object) -> None:
        found.append(RowError(number, template, params))

    code = cells.get("commune_code", "")
    if code.isdigit() and len(code) < 5:
        code = code.zfill(5)  # spreadsheets drop the leading zero
    if not (code.isdigit() and len(code) == 5):
        problem(N_("'%(value)s' is not a 5-digit commune code."), value=code)
    system = cells.get("unit_system", "") or "2025"
    if system not in SYSTEMS:
        problem(N_("unit_system '%(value)s' must be 2025 or pre2025."), value=system)
    raw_flag = cells.get("high_fertility", "")
    flag = fold(raw_flag)
    if flag not in YES and flag not in NO:
        problem(N_("high_fertility '%(value)s' must be 1/0, yes/no or có/không."), value=raw_flag)
    raw_date = cells.get("valid_from", "")
    valid_from = None
    if not raw_date:
        problem(N_("%(column)s is empty."), column="valid_from")
    else:
        try:
            valid_from = parse_date(raw_date)
        except ValueError:
            problem(N_("%(column)s '%(value)s' is not a date (write YYYY-MM-DD or DD/MM/YYYY)."),
                    column="valid_from", value=raw_date)
    source = cells.get("source", "")
    if len(source) > 200:
        problem(N_("%(column)s is longer than %(max)d characters."), column="source", max=200)
    if found:
        errors.extend(found)
        return None
    assert valid_from is not None
    return StatusRow(number, system, code, flag in YES, valid_from, source)
