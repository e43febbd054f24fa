"""Imported population figures: bad rows refused with their row numbers and nothing written; the figures shown
beside the facility indicators with the plan's targets, labelled as reported, not measured."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.audit.models import AuditEntry
from qa_app.compliance.cli import indicators_cli
from qa_app.compliance.plan_models import PopulationFigure
from qa_app.compliance.population_import import parse_population
from qa_app.compliance.population_services import import_population
from qa_app.extensions import db
from qa_app.regions.importers import FileFormatError
from tests.compliance_fixtures import AS_OF, Dataset, build_lai_chau, build_plan_provinces
from tests.factories import login

GOOD = ("unit,year,indicator,value,source\n"
        "pre2025:province:62,2024,mcpr,\"48,5\",Báo cáo thống kê dân số tỉnh Kon Tum 2024\n"
        "pre2025:province:24,2020,couples_no_method,28.4,Kế hoạch 1848 của tỉnh Bắc Giang\n"
        "pre2025:province:62,2024,adolescent_pregnancies,312,Báo cáo thống kê dân số tỉnh Kon Tum 2024\n")


@pytest.fixture
def data(app: Flask) -> Dataset:
    return build_plan_provinces(app, build_lai_chau(app))


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(PopulationFigure)) or 0


def test_bad_rows_are_refused_with_their_row_numbers_and_nothing_is_written(app: Flask, data: Dataset) -> None:
    bad = GOOD + ("2025:district:123,2024,mcpr,50,x\n"          # row 5: no districts in 2025
                  "pre2025:province:62,24,mcpr,50,x\n"          # row 6: not a year
                  "pre2025:province:62,2024,cpr,50,x\n"         # row 7: unknown indicator
                  "pre2025:province:62,2023,mcpr,150,x\n"       # row 8: not a percentage
                  "pre2025:province:62,2023,adolescent_pregnancies,3.5,x\n"  # row 9: not a whole number
                  "pre2025:province:62,2022,mcpr,45,\n"         # row 10: no source
                  "pre2025:province:62,2024,mcpr,49,again\n"    # row 11: same as row 2
                  "pre2025:province:99,2024,mcpr,49,x\n")       # row 12: no such unit (checked in the database)
    parsed = parse_population(bad.encode())
    assert [e.row for e in parsed.errors] == [5, 6, 7, 8, 9, 10, 11]
    assert "row 11: The same unit, year and indicator as row 2." in [str(e) for e in parsed.errors]
    with app.app_context():
        report = import_population(parsed)
        assert not report.ok
        assert [e.row for e in report.errors] == [5, 6, 7, 8, 9, 10, 11, 12]
        db.session.rollback()
        assert _count() == 0
        # Only the database check failing (an unknown unit): still nothing written.
        report = import_population(parse_population((GOOD + "pre2025:province:99,2024,mcpr,49,x\n").encode()))
        assert [str(e) for e in report.errors] == ["row 5: No unit pre2025:province:99."]
        db.session.rollback()
        assert _count() == 0
    with pytest.raises(FileFormatError, match="Missing column"):
        parse_population(b"unit,year,indicator,value\npre2025:province:62,2024,mcpr,50\n")


def test_cli_import_then_dashboard_shows_reported_figures_with_targets(app: Flask, client: FlaskClient,
                                                                        data: Dataset, tmp_path: Path) -> None:
    path = tmp_path / "population.csv"
    path.write_text(GOOD + "pre2025:province:99,2024,mcpr,49,x\n", encoding="utf-8")
    refused = app.test_cli_runner().invoke(indicators_cli, ["import-population", str(path)])
    assert refused.exit_code == 1 and "row 5: No unit pre2025:province:99." in refused.output
    path.write_text(GOOD, encoding="utf-8")
    done = app.test_cli_runner().invoke(indicators_cli, ["import-population", str(path)])
    assert done.exit_code == 0, done.output
    with app.app_context():
        assert _count() == 3
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "population.imported"))
        assert entry.details["created"] == 3
    login(client, data.users["admin"])
    html = client.get(f"/compliance/?date={AS_OF.isoformat()}&unit={data.units['kon_tum']}").get_data(as_text=True)
    section = html[html.index('class="cmp-population"'):html.index("</section>", html.index('class="cmp-population"'))]
    assert "số liệu báo cáo, không phải kết quả kiểm tra" in section
    mcpr = section[section.index('data-population="mcpr"'):]
    mcpr = mcpr[:mcpr.index("</tr>")]
    # Kon Tum's plan: mCPR above 50 % by 2025; the 2024 report says 48.5 %: not reached.
    assert "48,5" in mcpr and "Chỉ tiêu 2025: 50" in mcpr and "chưa đạt" in mcpr
    assert "312" in section


def test_upload_page_imports_all_or_nothing_within_the_managers_region(app: Flask, client: FlaskClient,
                                                                       data: Dataset) -> None:
    import io

    def upload(text: str):
        return client.post("/compliance/plans/population",
                           data={"file": (io.BytesIO(text.encode()), "population.csv")},
                           content_type="multipart/form-data")

    login(client, data.users["manager"])  # pre-2025 Lai Châu
    assert client.get("/compliance/plans/population").status_code == 200
    # Lai Châu's own figure is fine, Kon Tum's is outside the manager's region: refused by row, nothing written.
    mixed = ("unit,year,indicator,value,source\n"
             "pre2025:province:12,2024,mcpr,65,Báo cáo thống kê Lai Châu\n"
             "pre2025:province:62,2024,mcpr,48,Báo cáo thống kê Kon Tum\n")
    refused = upload(mixed)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "<td>3</td><td>Không có đơn vị pre2025:province:62.</td>" in text
    with app.app_context():
        assert _count() == 0
    assert upload(mixed.rsplit("\n", 2)[0] + "\n").status_code == 302
    with app.app_context():
        assert _count() == 1
