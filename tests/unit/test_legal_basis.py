"""Legal bases: cited only for the facility types they concern and while in force; validated with clear errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from qa_app.checklists.loader import ChecklistError, canonical_json, load_checklist, parse_checklist
from qa_app.checklists.schema import LegalBasis, Text

ROOT = Path(__file__).resolve().parent.parent.parent
BASE = (Path(__file__).resolve().parent / "checklists" / "demo" / "v1.yaml").read_text(encoding="utf-8")
OLD = '  - {vi: "Quyết định 1848/QĐ-TTg", en: "Decision 1848/QĐ-TTg"}\n'
SCHEMA = json.loads((ROOT / "checklists" / "checklist.schema.json").read_text(encoding="utf-8"))


def with_basis(block: str) -> str:
    assert BASE.count(OLD) == 1
    return BASE.replace(OLD, block)


def test_applies_by_type_and_dates() -> None:
    gpp = LegalBasis(Text("TT 02/2018"), ("NT",), dt.date(2018, 1, 22))
    assert gpp.applies("NT", dt.date(2018, 1, 22))
    assert not gpp.applies("NT", dt.date(2018, 1, 21))  # not before it was issued
    assert not gpp.applies("TYT", dt.date(2026, 1, 1))  # a commune station does not cite the pharmacy rules
    repealed = LegalBasis(Text("old"), (), None, dt.date(2024, 12, 31))
    assert repealed.applies("BV", dt.date(2024, 12, 31)) and not repealed.applies("BV", dt.date(2025, 1, 1))
    everywhere = LegalBasis(Text("1848"))
    assert all(everywhere.applies(t, dt.date(1990, 1, 1)) for t in ("TYT", "TTYT", "BV", "PK", "NT"))


def test_shipped_checklists_cite_the_right_texts() -> None:
    for name in ("v1.yaml", "v2.yaml"):
        checklist = load_checklist(ROOT / "checklists" / "fp-quality" / name)
        texts = [b.vi for b in checklist.legal_basis]
        # 1848/QĐ-TTg approved a Programme ("Chương trình"), not a scheme ("Đề án").
        assert "phê duyệt Chương trình" in texts[0] and "Đề án" not in " ".join(texts)
        tyt = " ".join(b.vi for b in checklist.legal_basis_for("TYT", dt.date(2026, 6, 1)))
        nt = " ".join(b.vi for b in checklist.legal_basis_for("NT", dt.date(2026, 6, 1)))
        assert "134/QĐ-BYT" in tyt and "02/2018/TT-BYT" not in tyt
        assert "02/2018/TT-BYT" in nt and "134/QĐ-BYT" not in nt
        # A 2021 inspection does not rest on texts of late 2021 and 2022.
        early = " ".join(b.vi for b in checklist.legal_basis_for("TYT", dt.date(2021, 6, 1)))
        assert "134/QĐ-BYT" not in early and "20/2021/TT-BYT" not in early and "1848/QĐ-TTg" in early


def test_extended_entries_load_and_round_trip_through_canonical_json() -> None:
    text = with_basis('  - vi: "TT 02/2018/TT-BYT"\n    facility_types: [PK]\n'
                      '    in_force_from: 2018-01-22\n    in_force_until: "2030-12-31"\n'
                      '  - {vi: "QĐ 1848/QĐ-TTg"}\n')
    checklist = parse_checklist(text, "demo/v1.yaml")
    assert checklist.legal_basis[0] == LegalBasis(Text("TT 02/2018/TT-BYT"), ("PK",), dt.date(2018, 1, 22),
                                                  dt.date(2030, 12, 31))
    again = parse_checklist(canonical_json(checklist.content), "database")
    assert again.legal_basis == checklist.legal_basis
    assert [b.vi for b in checklist.legal_basis_for("TYT", dt.date(2026, 1, 1))] == ["QĐ 1848/QĐ-TTg"]


@pytest.mark.parametrize(("block", "fragment"), [
    ('  - {vi: "x", facility_types: [XYZ]}\n', "XYZ"),
    ('  - {vi: "x", facility_types: []}\n', "at least one"),
    ('  - {vi: "x", in_force_from: "19/11/2020"}\n', "in_force_from must be a date"),
    ('  - {vi: "x", in_force_from: 2022-01-02, in_force_until: 2022-01-01}\n', "is before in_force_from"),
    ('  - {vi: "x", valid_from: 2022-01-02}\n', "unknown key 'valid_from'"),
    ('  - {en: "only English"}\n', "missing required key 'vi'"),
])
def test_bad_entries_are_reported_with_where_and_why(block: str, fragment: str) -> None:
    with pytest.raises(ChecklistError) as info:
        parse_checklist(with_basis(block), "demo/v1.yaml")
    messages = [str(p) for p in info.value.problems]
    assert any("legal_basis entry 1" in m and fragment in m for m in messages), messages
    assert all(":11:" in m for m in messages if "legal_basis" in m), messages


def test_json_schema_describes_the_extended_entry() -> None:
    entry = SCHEMA["$defs"]["legalBasis"]
    assert set(entry["properties"]) == {"vi", "en", "facility_types", "in_force_from", "in_force_until"}
    assert SCHEMA["properties"]["legal_basis"]["items"] == {"$ref": "#/$defs/legalBasis"}
