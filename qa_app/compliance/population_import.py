"""Reading a population-figures CSV (pure: no Flask, no database); the format is in docs/import-formats.md.

One row per figure: ``unit, year, indicator, value, source``. ``unit`` is ``system:level:code`` as in the
user scopes (``2025:province:51``, ``pre2025:province:62``, ``2025:commune:05605``). Every problem is reported
with its row number as a spreadsheet shows it (the header is row 1); whether the unit exists is checked by
``population_services.import_population``, which writes nothing unless every row is right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ..regions.importers import N_, FileFormatError, RowError, clean, read_table
from .population import POPULATION_INDICATORS

MAX_FILE_BYTES = 2 * 1024 * 1024
COLUMNS = ("unit", "year", "indicator", "value", "source")
REQUIRED_COLUMNS = COLUMNS
MIN_YEAR, MAX_YEAR = 2000, 2100
LEVEL_DIGITS = {"province": 2, "district": 3, "commune": 5}
_UNIT = re.compile(r"^(2025|pre2025):(province|district|commune):(\d{1,5})$")


@dataclass(frozen=True)
class PopulationRow:
    """One valid row."""

    row: int
    system: str
    level: str
    code: str
    year: int
    indicator: str
    value: Decimal
    source: str


@dataclass
class PopulationFile:
    """The rows of a population CSV and every problem found in them."""

    rows: list[PopulationRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def parse_population(data: bytes) -> PopulationFile:
    """Check a population CSV completely; raises FileFormatError if it cannot be read as one at all."""
    header, data_rows = read_table(data, COLUMNS, REQUIRED_COLUMNS, MAX_FILE_BYTES)
    result = PopulationFile()
    first: dict[tuple[str, str, str, int, str], int] = {}
    for number, raw in data_rows:
        cells = {name: clean(raw[i]) if i < len(raw) else "" for i, name in enumerate(header) if name}
        row = _parse_row(number, cells, result.errors)
        if row is None:
            continue
        key = (row.system, row.level, row.code, row.year, row.indicator)
        if key in first:
            result.errors.append(RowError(number, N_("The same unit, year and indicator as row %(first)d."),
                                          {"first": first[key]}))
            continue
        first[key] = number
        result.rows.append(row)
    if not result.rows and not result.errors:
        raise FileFormatError([RowError(0, N_("The file has a header but no figure rows."))])
    return result


def _parse_row(number: int, cells: dict[str, str], errors: list[RowError]) -> PopulationRow | None:
    found: list[RowError] = []

    def problem(template: str, **params: object) -> None:
        found.append(RowError(number, template, params))

    unit = cells.get("unit", "").replace(" ", "")
    match = _UNIT.match(unit)
    system = level = code = ""
    if not match:
        problem(N_("Unit '%(value)s' must look like 2025:province:51 or pre2025:province:62 (system:level:code)."),
                value=unit)
    else:
        system, level, code = match.groups()
        if system == "2025" and level == "district":
            problem(N_("There are no districts in the 2025 units: give the province or the commune."))
        code = code.zfill(LEVEL_DIGITS[level])  # a spreadsheet drops leading zeros
        if len(code) != LEVEL_DIGITS[level]:
            problem(N_("Unit code '%(value)s' has too many digits (a province has 2, a district 3, a commune 5)."),
                    value=match.group(3))
    raw_year = cells.get("year", "")
    year = int(raw_year) if raw_year.isdigit() else None
    if year is None or not MIN_YEAR <= year <= MAX_YEAR:
        problem(N_("Year '%(value)s' must be a year from %(first)d to %(last)d."), value=raw_year, first=MIN_YEAR,
                last=MAX_YEAR)
    ident = cells.get("indicator", "")
    indicator = POPULATION_INDICATORS.get(ident)
    if indicator is None:
        problem(N_("Unknown indicator '%(value)s'; known: %(known)s."), value=ident,
                known=", ".join(POPULATION_INDICATORS))
    raw_value = cells.get("value", "").replace(",", ".").rstrip("%").strip()
    try:
        value = Decimal(raw_value)
        if not value.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        value = None
        problem(N_("Value '%(value)s' is not a number."), value=cells.get("value", ""))
    if value is not None and indicator is not None:
        if indicator.kind == "percent" and not 0 <= value <= 100:
            problem(N_("Value %(value)s must be a percentage from 0 to 100."), value=raw_value)
        elif indicator.kind == "count" and (value < 0 or value != value.to_integral_value() or value >= 10 ** 10):
            problem(N_("Value %(value)s must be a whole number of people."), value=raw_value)
    source = cells.get("source", "")
    if not source:
        problem(N_("The source is empty: say where the figure comes from (e.g. the provincial statistics "
                   "report)."))
    elif len(source) > 300:
        problem(N_("%(column)s is longer than %(max)d characters."), column="source", max=300)
    if found:
        errors.extend(found)
        return None
    assert year is not None and value is not None
    return PopulationRow(number, system, level, code, year, ident, value.quantize(Decimal("0.01")), source)
