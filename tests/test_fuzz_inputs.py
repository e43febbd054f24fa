"""Hostile files, fuzzed: the indicators loader and every CSV importer, fed random bytes, random text and mutated
valid files, raise nothing but their own error type; every problem names the file and a line or row that exists;
and a refused facility import writes nothing.

(The checklist loader has its own fuzz tests in tests/unit/test_checklist_loader.py.)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_app.audit.models import AuditEntry
from qa_app.compliance.indicators import DEFAULT_PATH, IndicatorError, IndicatorSet, load_indicators, parse_indicators
from qa_app.extensions import db
from qa_app.facilities.importers import FacilityFile, parse_facilities
from qa_app.facilities.models import Facility
from qa_app.facilities.services import import_facilities
from qa_app.regions.importers import FileFormatError, ParseResult, parse_conversion, parse_gso
from qa_app.regions.models import AdminUnit
from qa_app.regions.services import import_units

from . import factories as f
from .test_importers import CONVERSION_SAMPLE, GSO_SAMPLE, fac_csv

# Deterministic (the same examples on every run, so CI never flakes) and modest, so the suite stays quick.
FUZZ = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])

INDICATORS = Path(DEFAULT_PATH).read_text(encoding="utf-8")
FACILITIES = fac_csv(
    "TYT-03430,Trạm Y tế xã Bản Bo,TYT,public,2025,03430,03430,VU;BCS,1,2015-01-01,,Bản Bo,0213 123,"
    "Lò Văn A",
    "PK-1,Phòng khám Tâm Đức,PK,non_public,pre2025,03430,,DCTC VU,0,15/06/2020,,,,",
    'NT-9,"Nhà thuốc ""Minh Châu""",NT,non_public,2025,03430,,VU,,2019-03-01,,"Bản Bo, Tam Đường",,',
)
# Pieces that break parsers: separators, quotes, line ends, BOMs, NUL, formula starts, bad UTF-8, long runs.
PIECES = st.sampled_from([
    ",", ";", "\t", '"', "'", "\n", "\r", "\r\n", "\ufeff", "\x00", "=cmd|' /C calc'!A0", "+", "-", "@",
    "Ǹ", "ệ", "e\u0302\u0323", "\u202e", "𝔘", " " * 50, "9" * 40, "-1", "2025-02-30", "31/13/2020", "NaN",
    "TYT", "public", "2025", "pre2025", "03430", "VU;BCS", ":", "- ", "{", "]", "&a", "*a", "!!", "<<: ", "#",
    "1e309", "0x10", "~", "null", "[", "|",
])
BYTE_PIECES = st.sampled_from([b"\xff", b"\xc3", b"\xe1\xba", b"\x00", b"PK\x03\x04", b"\xff\xfe", b"\x80" * 3])


def mutate(data: st.DataObject, base: str) -> str:
    """Up to four splices: a slice of ``base`` replaced by a hostile piece or random text."""
    text = base
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        start = data.draw(st.integers(0, len(text)), label="start")
        end = data.draw(st.integers(start, min(len(text), start + 30)), label="end")
        piece = data.draw(PIECES | st.text(max_size=8), label="piece")
        text = text[:start] + piece + text[end:]
    return text


def mutate_bytes(data: st.DataObject, base: bytes) -> bytes:
    """A mutated text, sometimes with bytes that are not UTF-8 spliced in."""
    raw = mutate(data, base.decode("utf-8")).encode("utf-8")
    if data.draw(st.booleans(), label="bad bytes"):
        at = data.draw(st.integers(0, len(raw)), label="at")
        raw = raw[:at] + data.draw(BYTE_PIECES | st.binary(max_size=6), label="bytes") + raw[at:]
    return raw


# ---------------------------------------------------------------------------------------------- indicators


def check_indicators(text: str, source: str = "indicators.yaml") -> IndicatorSet | None:
    """Either an indicator set or an IndicatorError whose problems all name the file and a real line."""
    try:
        return parse_indicators(text, source)
    except IndicatorError as exc:
        problems = exc.problems
    assert problems
    lines = max(1, text.count("\n") + 1)
    for problem in problems:
        assert problem.path == source
        assert isinstance(problem.line, int)
        assert 1 <= problem.line <= lines + 1, (problem, lines)
        assert problem.message.strip()
    return None


def test_the_mutations_reach_the_validator() -> None:
    # A fuzz test means something only if mutated files are refused for what they contain, not just as bad YAML.
    broken = INDICATORS.replace("2030: 90", "2030: 190", 1)
    with pytest.raises(IndicatorError) as refused:
        parse_indicators(broken, "x.yaml")
    assert any("190" in p.message or "percent" in p.message for p in refused.value.problems), refused.value
    assert check_indicators(INDICATORS) is not None


@FUZZ
@given(data=st.data())
def test_fuzz_indicators_mutated(data: st.DataObject) -> None:
    check_indicators(mutate(data, INDICATORS))


@FUZZ
@given(text=st.text(max_size=400))
def test_fuzz_indicators_random_text(text: str) -> None:
    check_indicators(text)


@FUZZ
@given(blob=st.binary(max_size=400))
def test_fuzz_indicators_random_bytes_in_a_file(blob: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "indicators.yaml"
        path.write_bytes(blob)
        try:
            load_indicators(path)
            problems = None
        except IndicatorError as exc:
            problems = exc.problems
        if problems is not None:
            assert problems
            assert all(p.path == str(path) and p.line >= 1 and p.message for p in problems)


# ---------------------------------------------------------------------------------------------- CSV importers


def records_in(raw: bytes) -> int:
    """An upper bound of the row numbers a spreadsheet could show for this file."""
    return raw.count(b"\n") + raw.count(b"\r") + 2


def check_csv(parse, raw: bytes) -> ParseResult | FacilityFile | None:
    """``parse(raw)`` returns a result whose every problem has a real row, or raises FileFormatError."""
    bound = records_in(raw)
    try:
        result = parse(raw)
    except FileFormatError as exc:
        problems = exc.problems
        result = None
    if result is None:
        assert problems
        assert all(0 <= p.row <= bound and p.message.strip() for p in problems), problems
        return None
    for problem in [*result.errors, *result.warnings]:
        assert 0 <= problem.row <= bound, problem
        assert problem.message.strip()
    return result


def test_csv_mutations_reach_the_row_checks() -> None:
    broken = FACILITIES.replace(b"2015-01-01", b"2015-02-30")
    result = check_csv(parse_facilities, broken)
    assert result is not None
    assert [e.row for e in result.errors] == [2]
    assert check_csv(parse_gso, GSO_SAMPLE.encode()).errors == []
    assert check_csv(parse_conversion, CONVERSION_SAMPLE.encode()).errors == []


@FUZZ
@given(data=st.data())
def test_fuzz_gso_list(data: st.DataObject) -> None:
    check_csv(parse_gso, mutate_bytes(data, GSO_SAMPLE.encode()))


@FUZZ
@given(data=st.data())
def test_fuzz_conversion_table(data: st.DataObject) -> None:
    check_csv(parse_conversion, mutate_bytes(data, CONVERSION_SAMPLE.encode()))


@FUZZ
@given(data=st.data())
def test_fuzz_facility_file(data: st.DataObject) -> None:
    check_csv(parse_facilities, mutate_bytes(data, FACILITIES))


@FUZZ
@given(blob=st.binary(max_size=300))
def test_fuzz_every_importer_with_random_bytes(blob: bytes) -> None:
    for parse in (parse_gso, parse_conversion, parse_facilities):
        check_csv(parse, blob)


# ---------------------------------------------------------------------------------------------- database


def _counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Facility, AdminUnit,
                                                                                       AuditEntry))


@FUZZ
@given(data=st.data())
def test_fuzz_imports_write_all_or_nothing(app: Flask, data: st.DataObject) -> None:
    """A refused facility file writes nothing; an accepted unit or facility file imports without a database error."""
    with app.app_context():
        if not db.session.scalar(sa.select(sa.func.count()).select_from(AdminUnit)):
            f.two_districts()
            db.session.commit()
        before = _counts()
        try:
            raw = mutate_bytes(data, FACILITIES)
            parsed = check_csv(parse_facilities, raw)
            if parsed is not None:
                report = import_facilities(parsed, None, source="fuzz.csv")
                if not report.ok:
                    assert not db.session.new
                    assert not db.session.dirty
                    assert _counts() == before
                    for problem in report.errors:
                        assert 0 <= problem.row <= records_in(raw)
            kind = data.draw(st.sampled_from(["gso", "conversion"]), label="unit file")
            sample, parse = (GSO_SAMPLE, parse_gso) if kind == "gso" else (CONVERSION_SAMPLE, parse_conversion)
            units = check_csv(parse, mutate_bytes(data, sample.encode()))
            if units is not None and units.ok:
                import_units(units, source="fuzz.csv")
                db.session.flush()
        finally:
            db.session.rollback()
        assert _counts() == before
