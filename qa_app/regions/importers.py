"""Reading the official administrative unit lists as users get them (pure: no Flask, no database).

Two files are understood (see docs/import-formats.md):

* the statistics office (GSO) export of every pre-2025 commune, one row per commune with its district and
  province (``Tỉnh Thành Phố,Mã TP,Quận Huyện,Mã QH,Phường Xã,Mã PX,Cấp,Tên Tiếng Anh``);
* the July 2025 new-to-old conversion table: title rows, then one row per (new commune, old commune) pair,
  with province separator rows, ``Name (code)`` cells and a note saying whether the old commune was merged
  whole or in part.

Parsing collects every problem with its row number (as a spreadsheet counts: the first line is row 1) and
never stops at the first one; writing is the job of ``regions.services``.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# Kinds of unit by level, as the official names start ("Xã Bản Bo", "Thị xã Mường Lay").
PROVINCE_KINDS = ("Tỉnh", "Thành phố")
DISTRICT_KINDS = ("Huyện", "Quận", "Thị xã", "Thành phố")
COMMUNE_KINDS = ("Xã", "Phường", "Thị trấn", "Đặc khu")
KINDS_BY_LEVEL = {"province": PROVINCE_KINDS, "district": DISTRICT_KINDS, "commune": COMMUNE_KINDS}
CODE_LENGTH = {"province": 2, "district": 3, "commune": 5}

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_REPORTED_ERRORS = 200


# ---------------------------------------------------------------------------------------------- text


def clean(value: object) -> str:
    """NFC text with every run of whitespace (non-breaking spaces, newlines) made one space, trimmed."""
    if value is None:
        return ""
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


@functools.lru_cache(maxsize=65536)
def fold(value: object) -> str:
    """A comparison key: lower case, no diacritics, đ → d ("Thị Xã  Việt Yên" → "thi xa viet yen")."""
    text = clean(value).lower().replace("đ", "d")
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))


_ALL_KINDS = sorted(set(PROVINCE_KINDS + DISTRICT_KINDS + COMMUNE_KINDS), key=lambda k: -len(k.split()))
_FOLDED_KINDS = {kind: fold(kind).split(" ") for kind in _ALL_KINDS}


def split_kind(name: str, allowed: Iterable[str] | None = None) -> tuple[str, str]:
    """(kind, name with its kind spelled canonically) read from the name's first words, or ("", name).

    Case, spacing and missing diacritics are forgiven ("Thị Trấn X", "phường  Y", "Xa Ea Kly"), because
    the official files contain all three.
    """
    name = clean(name)
    words = name.split(" ")
    folded = fold(name).split(" ")
    for kind in _ALL_KINDS if allowed is None else sorted(allowed, key=lambda k: -len(k.split())):
        kind_words = _FOLDED_KINDS[kind]
        n = len(kind_words)
        if folded[:n] == kind_words and len(words) > n:
            return kind, " ".join([kind, *words[n:]])
    return "", name


def normalise_code(value: str, length: int) -> str | None:
    """A numeric code padded to ``length`` digits (spreadsheets drop leading zeros), or None if not a code."""
    value = clean(value).replace(" ", "")
    if value.endswith(".0"):  # a spreadsheet that turned the code into a number
        value = value[:-2]
    if not value.isdigit() or not value.isascii() or len(value) > length:
        return None
    return value.zfill(length)


# ---------------------------------------------------------------------------------------------- files


def N_(message: str) -> str:
    """Mark a message for extraction (Babel's default keyword); it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class RowError:
    """A problem with one row (``row`` 0 for the file as a whole).

    ``template`` is an English msgid with %(name)s placeholders filled from ``params``, so a page can show it
    translated (``_(error.template, **error.params)``) while the command line prints ``message``.
    """

    row: int
    template: str
    params: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def message(self) -> str:
        """The message in English."""
        return self.template % self.params if self.params else self.template

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}" if self.row else self.message


class FileFormatError(ValueError):
    """The file cannot be read at all (not UTF-8, no header, too big...); ``problems`` say why."""

    def __init__(self, problems: list[RowError]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def decode_text(data: bytes) -> str:
    """UTF-8 text with or without BOM; anything else is refused with advice on how to save the file."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileFormatError([RowError(0, N_("This is a spreadsheet workbook, not a CSV file: open it and save "
                                              "it as “CSV UTF-8 (comma delimited)”."))])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileFormatError([RowError(0, N_("The file is saved as UTF-16 (“Unicode text”): save it as “CSV "
                                              "UTF-8 (comma delimited)” instead."))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileFormatError([RowError(0, N_("The file is not UTF-8 text (first bad character on line "
                                              "%(line)d): save it as “CSV UTF-8 (comma delimited)” and try "
                                              "again."), {"line": line})]) from None
    if "\x00" in text:
        raise FileFormatError([RowError(0, N_("The file contains binary data: is it really a CSV file?"))])
    return text


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon (Excel in many European and Vietnamese locales) or tab, from the first non-empty line."""
    for line in text.splitlines():
        if line.strip():
            counts = {d: line.count(d) for d in (",", ";", "\t")}
            best = max(counts, key=lambda d: counts[d])
            return best if counts[best] else ","
    return ","


def size_text(size: int) -> str:
    """'5 MB', '100 KB': a file size limit as people read it."""
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


def read_table(data: bytes, columns: tuple[str, ...], required: tuple[str, ...],
               max_bytes: int = MAX_FILE_BYTES) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """A CSV with a header naming its columns: the header's names (folded, spaces as "_") and every non-blank
    data row with its spreadsheet row number. Raises FileFormatError naming missing, unknown and repeated
    columns, all at once, on the header's row."""
    records = read_rows(data, max_bytes)
    first = next((i for i, row in enumerate(records) if any(clean(c) for c in row)), None)
    if first is None:
        raise FileFormatError([RowError(0, N_("The file is empty."))])
    header = [fold(cell).replace(" ", "_") for cell in records[first]]
    unknown = [clean(records[first][i]) for i, name in enumerate(header) if name and name not in columns]
    missing = [name for name in required if name not in header]
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    problems = []
    if missing:
        problems.append(RowError(first + 1, N_("Missing column(s): %(columns)s."), {"columns": ", ".join(missing)}))
    if unknown:
        problems.append(RowError(first + 1, N_("Unknown column(s): %(columns)s. The columns are: %(expected)s."),
                                 {"columns": ", ".join(f"'{u}'" for u in unknown), "expected": ",".join(columns)}))
    if repeated:
        problems.append(RowError(first + 1, N_("Column(s) given twice: %(columns)s."),
                                 {"columns": ", ".join(repeated)}))
    if problems:
        raise FileFormatError(problems)
    rows = [(number, row) for number, row in enumerate(records[first + 1:], start=first + 2)
            if any(clean(c) for c in row)]
    return header, rows


def read_rows(data: bytes, max_bytes: int = MAX_FILE_BYTES) -> list[list[str]]:
    """Every record of a CSV file, as a spreadsheet numbers them (a quoted cell may span several lines)."""
    if len(data) > max_bytes:
        raise FileFormatError([RowError(0, N_("The file is larger than %(size)s: split it into several files."),
                                        {"size": size_text(max_bytes)})])
    text = decode_text(data)
    if not text.strip():
        raise FileFormatError([RowError(0, N_("The file is empty."))])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text), strict=False)
    try:
        return [list(row) for row in reader]
    except csv.Error as exc:
        raise FileFormatError([RowError(0, N_("The file is not valid CSV: %(reason)s"),
                                        {"reason": str(exc)})]) from None


def _header_map(header: list[str], names: dict[str, str]) -> dict[str, int]:
    """Column positions by our field name, matching the header cells by their folded text."""
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = names.get(fold(cell))
        if key and key not in positions:
            positions[key] = index
    return positions


def _cell(row: list[str], positions: dict[str, int], key: str) -> str:
    index = positions.get(key)
    return clean(row[index]) if index is not None and index < len(row) else ""


_NAME_CODE = re.compile(r"^(?P<name>.*?)\s*\(\s*(?P<code>\d+)\s*\)\s*$")


def split_name_code(cell: str) -> tuple[str, str | None]:
    """'Tỉnh Lai Châu (12)' → ('Tỉnh Lai Châu', '12'); a cell without a bracketed code → (cell, None)."""
    match = _NAME_CODE.match(clean(cell))
    if not match:
        return clean(cell), None
    return clean(match["name"]), match["code"]


# ---------------------------------------------------------------------------------------------- units


@dataclass
class UnitRow:
    """One unit read from a file; ``parent_code`` is the code of its parent in the same system."""

    level: str
    code: str
    name: str
    kind: str
    row: int
    name_en: str | None = None
    parent_code: str | None = None


@dataclass
class ParseResult:
    """What a unit list file holds, and everything wrong with it."""

    system: str
    units: dict[str, dict[str, UnitRow]] = field(default_factory=lambda: {"province": {}, "district": {},
                                                                         "commune": {}})
    links: list[Link] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rows_read: int = 0

    @property
    def ok(self) -> bool:
        """Whether the file can be written."""
        return not self.errors

    def count(self, level: str) -> int:
        """Units of ``level`` read."""
        return len(self.units[level])


@dataclass(frozen=True)
class Link:
    """A 2025 commune and one pre-2025 unit it took over, wholly or in part."""

    new_code: str
    old_code: str | None
    old_district_code: str | None
    whole: bool
    row: int


def _add_unit(result: ParseResult, unit: UnitRow) -> None:
    """Record a unit, reporting a code that comes back with another name or parent."""
    seen = result.units[unit.level].get(unit.code)
    if seen is None:
        result.units[unit.level][unit.code] = unit
        return
    what = {"province": "province", "district": "district", "commune": "commune"}[unit.level]
    if seen.parent_code != unit.parent_code:
        result.errors.append(RowError(unit.row, f"{what} {unit.code} ({unit.name}) is listed under "
                                                f"{seen.parent_code} in row {seen.row} but under "
                                                f"{unit.parent_code} here"))
    elif fold(seen.name) != fold(unit.name):
        result.errors.append(RowError(unit.row, f"{what} {unit.code} is called '{unit.name}' here but "
                                                f"'{seen.name}' in row {seen.row}"))
    elif unit.name_en and not seen.name_en:
        seen.name_en = unit.name_en


def _unit(result: ParseResult, level: str, raw_code: str, raw_name: str, row: int, *,
          parent_code: str | None = None, name_en: str | None = None, fallback_kind: str = "",
          label: str | None = None) -> UnitRow | None:
    """Check one unit's code, name and kind; report problems and return None if it is unusable."""
    label = label or level
    code = normalise_code(raw_code, CODE_LENGTH[level])
    name = clean(raw_name)
    ok = True
    if code is None:
        shown = clean(raw_code)
        result.errors.append(RowError(row, f"{label} code '{shown}' is not a {CODE_LENGTH[level]}-digit code"
                                      if shown else f"{label} code is missing"))
        ok = False
    if not name:
        result.errors.append(RowError(row, f"{label} name is missing"))
        return None
    kind, name = split_kind(name, KINDS_BY_LEVEL[level])
    if not kind:
        other, _ = split_kind(name)
        fallback = split_kind(f"{fallback_kind} x", KINDS_BY_LEVEL[level])[0] if fallback_kind else ""
        if fallback:
            kind = fallback
        elif other:
            result.errors.append(RowError(row, f"'{name}' is a {other}, which is not a kind of {label}"))
            ok = False
        else:
            kinds = ", ".join(KINDS_BY_LEVEL[level])
            result.errors.append(RowError(row, f"cannot tell the kind of {label} '{name}': the name should "
                                               f"start with one of {kinds}"))
            ok = False
    if not ok or code is None:
        return None
    return UnitRow(level=level, code=code, name=name, kind=kind, row=row, name_en=name_en or None,
                   parent_code=parent_code)


def _too_many(result: ParseResult) -> bool:
    return len(result.errors) >= MAX_REPORTED_ERRORS


# ---------------------------------------------------------------------------------------------- GSO list

GSO_COLUMNS = {
    "tinh thanh pho": "province_name", "tinh / thanh pho": "province_name", "tinh": "province_name",
    "ma tp": "province_code", "ma tinh": "province_code",
    "quan huyen": "district_name", "quan / huyen": "district_name", "huyen": "district_name",
    "ma qh": "district_code", "ma huyen": "district_code",
    "phuong xa": "commune_name", "phuong / xa": "commune_name", "xa": "commune_name",
    "ma px": "commune_code", "ma xa": "commune_code",
    "cap": "kind", "ten tieng anh": "name_en",
}
GSO_REQUIRED = ("province_name", "province_code", "district_name", "district_code", "commune_name",
                "commune_code")


def parse_gso(data: bytes, province: str | None = None) -> ParseResult:
    """Read the GSO pre-2025 list (provinces, districts, communes); ``province`` keeps one province only."""
    rows = read_rows(data)
    result = ParseResult(system="pre2025")
    header_index = next((i for i, row in enumerate(rows) if any(clean(c) for c in row)), None)
    if header_index is None:
        raise FileFormatError([RowError(0, N_("The file is empty."))])
    positions = _header_map(rows[header_index], GSO_COLUMNS)
    missing = [key for key in GSO_REQUIRED if key not in positions]
    if missing:
        raise FileFormatError([RowError(header_index + 1, "this is not the GSO commune list: the header has no "
                                        + ", ".join(missing) + " column (expected “Tỉnh Thành Phố, Mã TP, "
                                        "Quận Huyện, Mã QH, Phường Xã, Mã PX, Cấp, Tên Tiếng Anh”)")])
    only = normalise_code(province, 2) if province else None
    if province and only is None:
        raise FileFormatError([RowError(0, f"'{province}' is not a province code (two digits, e.g. 12)")])
    seen_communes: dict[str, tuple[int, tuple[str, ...]]] = {}
    for number, row in enumerate(rows[header_index + 1:], start=header_index + 2):
        if not any(clean(c) for c in row):
            continue
        if only and normalise_code(_cell(row, positions, "province_code"), 2) != only:
            continue
        result.rows_read += 1
        if _too_many(result):
            break
        p = _unit(result, "province", _cell(row, positions, "province_code"),
                  _cell(row, positions, "province_name"), number)
        if p is None:
            continue
        _add_unit(result, p)
        d = _unit(result, "district", _cell(row, positions, "district_code"),
                  _cell(row, positions, "district_name"), number, parent_code=p.code)
        if d is None:
            continue
        _add_unit(result, d)
        commune_code, commune_name = _cell(row, positions, "commune_code"), _cell(row, positions, "commune_name")
        if not commune_code and not commune_name:
            continue  # a district without communes (island districts such as Bạch Long Vĩ)
        c = _unit(result, "commune", commune_code, commune_name, number, parent_code=d.code,
                  name_en=_cell(row, positions, "name_en"), fallback_kind=_cell(row, positions, "kind"))
        if c is None:
            continue
        signature = (c.parent_code or "", fold(c.name))
        earlier = seen_communes.get(c.code)
        if earlier is not None and earlier[1] == signature:
            result.warnings.append(RowError(number, f"commune {c.code} repeats row {earlier[0]}; ignored"))
            continue
        if earlier is None:
            seen_communes[c.code] = (number, signature)
        _add_unit(result, c)
    if result.rows_read == 0 and not result.errors:
        result.errors.append(RowError(0, f"no row for province {only}" if only else "the file has no data rows"))
    return result


# ---------------------------------------------------------------------------------------------- conversion

CONVERSION_COLUMNS = {
    "tinh, thanh pho": "province", "tinh thanh pho": "province", "tinh moi": "province",
    "ten xa moi": "new_name", "ma xa moi": "new_code",
    "ten xa cu": "old_name", "ma xa cu": "old_code",
    "ghi chu": "note", "quan/huyen": "old_district", "quan huyen": "old_district", "huyen cu": "old_district",
    "tinh cu": "old_province",
}
CONVERSION_REQUIRED = ("province", "new_name", "new_code", "old_code")

# How the note column says an old commune was taken over; anything else is worked out from the table.
_PART_NOTES = ("mot phan", "phan con lai")
_WHOLE_NOTES = ("toan bo", "giu nguyen", "doi ten", "doi loai hinh")


def note_is_whole(note: str) -> bool | None:
    """True for a whole merge ('Nhập toàn bộ', 'Giữ nguyên', 'Đổi tên'…), False for a part, None if unclear."""
    folded = fold(note)
    if any(part in folded for part in _PART_NOTES):
        return False
    if any(whole in folded for whole in _WHOLE_NOTES):
        return True
    return None


def parse_conversion(data: bytes, province: str | None = None) -> ParseResult:
    """Read the 2025 new-to-old table: 2025 provinces and communes and their pre-2025 predecessors."""
    rows = read_rows(data)
    result = ParseResult(system="2025")
    header_index = None
    for index, row in enumerate(rows[:15]):
        if any(fold(cell) == "ma xa moi" for cell in row):
            header_index = index
            break
    if header_index is None:
        raise FileFormatError([RowError(0, "this is not the 2025 conversion table: no header row with "
                                           "“Tỉnh, thành phố, Tên Xã mới, Mã Xã mới, Tên Xã cũ, Mã Xã cũ, Ghi chú”")])
    positions = _header_map(rows[header_index], CONVERSION_COLUMNS)
    missing = [key for key in CONVERSION_REQUIRED if key not in positions]
    if missing:
        raise FileFormatError([RowError(header_index + 1, "the header has no " + ", ".join(missing) + " column")])
    only = normalise_code(province, 2) if province else None
    if province and only is None:
        raise FileFormatError([RowError(0, f"'{province}' is not a province code (two digits, e.g. 12)")])
    links: dict[tuple[str, str | None, str | None], Link] = {}
    unclear: list[tuple[tuple[str, str | None, str | None], int]] = []
    for number, row in enumerate(rows[header_index + 1:], start=header_index + 2):
        cells = [clean(c) for c in row]
        if not any(cells):
            continue
        if cells[0] and not any(cells[1:]):
            continue  # a province separator row ("LAI CHÂU")
        province_name, province_code = split_name_code(_cell(row, positions, "province"))
        if only and normalise_code(province_code or "", 2) != only:
            continue
        result.rows_read += 1
        if _too_many(result):
            break
        if province_code is None:
            result.errors.append(RowError(number, f"the province cell '{province_name}' has no code in "
                                                  "brackets, e.g. 'Tỉnh Lai Châu (12)'"))
            continue
        p = _unit(result, "province", province_code, province_name, number)
        if p is None:
            continue
        _add_unit(result, p)
        c = _unit(result, "commune", _cell(row, positions, "new_code"), _cell(row, positions, "new_name"),
                  number, parent_code=p.code, label="new commune")
        if c is None:
            continue
        _add_unit(result, c)
        raw_old = _cell(row, positions, "old_code")
        old_code = normalise_code(raw_old, 5) if raw_old else None
        if raw_old and old_code is None:
            result.errors.append(RowError(number, f"old commune code '{raw_old}' is not a 5-digit code"))
            continue
        _, old_district = split_name_code(_cell(row, positions, "old_district"))
        old_district = normalise_code(old_district or "", 3)
        note = _cell(row, positions, "note")
        whole = note_is_whole(note)
        if old_code is None and not (old_district and whole and "huyen" in fold(note)):
            # e.g. "Khu vực bãi bồi ven biển…": an area with no commune code, nothing to link.
            result.warnings.append(RowError(number, f"no old commune code for '{_cell(row, positions, 'old_name')}'"
                                                    f" (new commune {c.code}); no predecessor recorded"))
            continue
        key = (c.code, old_code, None if old_code else old_district)
        if key in links:
            result.warnings.append(RowError(number, f"old commune {old_code} → new commune {c.code} repeats "
                                                    f"row {links[key].row}; ignored"))
            continue
        links[key] = Link(c.code, old_code, key[2], bool(whole), number)
        if whole is None:
            unclear.append((key, number))
            if note:
                result.warnings.append(RowError(number, f"note '{note}' does not say whether the old commune "
                                                        "was merged whole or in part; worked out from the table"))
    # An unclear note: whole if the old commune went to this new commune only.
    successors: dict[str | None, int] = {}
    for link in links.values():
        successors[link.old_code] = successors.get(link.old_code, 0) + 1
    for key, _number in unclear:
        link = links[key]
        links[key] = Link(link.new_code, link.old_code, link.old_district_code,
                          successors.get(link.old_code, 0) <= 1, link.row)
    result.links = list(links.values())
    if result.rows_read == 0 and not result.errors:
        result.errors.append(RowError(0, f"no row for province {only}" if only else "the file has no data rows"))
    return result
