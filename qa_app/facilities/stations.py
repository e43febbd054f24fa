"""Reorganising commune health stations after the 2025 reform: which old stations become sub-stations (điểm
trạm) of which new commune's station. Pure planning (no Flask, no database) plus the plan's CSV form.

The rule, from the official conversion table (new commune ← old communes):

* each commune health station without a parent is placed in the 2025 commune that succeeded its pre-2025
  commune; an old commune split between several new ones ("nhập một phần") goes to the one the registry
  already gives the station, and is reported if that is not one of them;
* in each 2025 commune one station stays the legal station: the one whose old commune gave the new commune
  its code (the new commune keeps the code of one predecessor, normally the seat), else the one the registry
  already places in that commune, else the lowest code; every other station of the commune becomes its
  sub-station.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

PLAN_COLUMNS = ("new_commune_code", "new_commune_name", "facility_code", "facility_name", "role", "station_code",
                "old_commune_code", "note")
STATION, SUB_STATION = "station", "sub_station"


@dataclass(frozen=True)
class Station:
    """A commune health station as the registry has it."""

    code: str
    name: str
    unit_code: str  # its 2025 commune
    legacy_code: str | None  # its pre-2025 commune, if known


@dataclass(frozen=True)
class PlanRow:
    """One line of the plan: a station that stays, or one that becomes a sub-station of ``station_code``."""

    new_commune_code: str
    new_commune_name: str
    facility_code: str
    facility_name: str
    role: str
    station_code: str
    old_commune_code: str
    note: str = ""


@dataclass
class Plan:
    """The proposal, and the stations it could not place (left as they are)."""

    rows: list[PlanRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def sub_stations(self) -> list[PlanRow]:
        return [row for row in self.rows if row.role == SUB_STATION]

    @property
    def stations(self) -> list[PlanRow]:
        return [row for row in self.rows if row.role == STATION]


def plan_stations(stations: Iterable[Station], successors: Mapping[str, Sequence[str]],
                  commune_names: Mapping[str, str]) -> Plan:
    """The proposal for ``stations``; ``successors`` maps a pre-2025 commune code to its 2025 communes."""
    plan = Plan()
    by_commune: dict[str, list[Station]] = {}
    for station in sorted(stations, key=lambda s: s.code):
        new = successors.get(station.legacy_code or "", ())
        if not new:
            target = station.unit_code  # no old commune in the table: it stays where the registry has it
        elif len(new) == 1:
            target = new[0]
        elif station.unit_code in new:
            target = station.unit_code
        else:
            plan.problems.append(f"{station.code}: old commune {station.legacy_code} was split between "
                                 f"{', '.join(sorted(new))}, and the registry places the station in "
                                 f"{station.unit_code}; left unchanged")
            continue
        by_commune.setdefault(target, []).append(station)
    for commune, members in sorted(by_commune.items()):
        main = next((s for s in members if s.legacy_code == commune), None) or next(
            (s for s in members if s.unit_code == commune), None) or members[0]
        name = commune_names.get(commune, "")
        plan.rows.append(PlanRow(commune, name, main.code, main.name, STATION, main.code, main.legacy_code or "",
                                 "" if main.unit_code == commune else f"registry places it in {main.unit_code}"))
        for other in members:
            if other is main:
                continue
            note = "" if other.unit_code == commune else f"registry places it in {other.unit_code}"
            plan.rows.append(PlanRow(commune, name, other.code, other.name, SUB_STATION, main.code,
                                     other.legacy_code or "", note))
    return plan


def plan_csv(plan: Plan) -> str:
    """The plan as CSV (UTF-8 text; the caller adds a BOM for spreadsheets if it wants)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PLAN_COLUMNS)
    for row in plan.rows:
        writer.writerow([getattr(row, column) for column in PLAN_COLUMNS])
    return out.getvalue()


def read_plan(text: str) -> tuple[list[PlanRow], list[str]]:
    """A reviewed plan back from CSV; problems name their row (the header is row 1)."""
    rows: list[PlanRow] = []
    problems: list[str] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    records = list(reader)
    if not records or [c.strip() for c in records[0]] != list(PLAN_COLUMNS):
        return [], [f"row 1: the header must be {','.join(PLAN_COLUMNS)}"]
    for number, record in enumerate(records[1:], start=2):
        if not any(c.strip() for c in record):
            continue
        if len(record) != len(PLAN_COLUMNS):
            problems.append(f"row {number}: {len(record)} cells, expected {len(PLAN_COLUMNS)}")
            continue
        row = PlanRow(*[c.strip() for c in record])
        if row.role not in (STATION, SUB_STATION):
            problems.append(f"row {number}: role must be {STATION} or {SUB_STATION}, not '{row.role}'")
            continue
        if row.role == SUB_STATION and (not row.station_code or row.station_code == row.facility_code):
            problems.append(f"row {number}: a sub-station needs the code of another station")
            continue
        rows.append(row)
    return rows, problems
