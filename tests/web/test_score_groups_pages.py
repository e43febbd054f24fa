"""Score group results on the form, the review page, the running-score JSON and the minutes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.auth.models import User
from qa_app.extensions import db
from qa_app.inspections import services
from qa_app.inspections.models import Inspection
from qa_app.minutes.models import Minutes

from .. import inspection_fixtures as fx
from ..factories import login
from .test_minutes import text_of

GROUPED = """\
schema: 1
code: grouped
version: 1
status: published
title: {vi: "Bảng kiểm có hai phần", en: "Two-part checklist"}
effective_from: 2021-01-01
facility_types: [TYT, NT]
scoring: {overall: pooled, meets_min: 90, conditional_min: 80, section_min: 50, validity_months: 24,
          corrective_days: 30}
groups:
  - id: readiness
    title: {vi: "Mức độ sẵn sàng", en: "Readiness"}
    sections: [R2, R1]
    aggregation: mean_of_sections
    meets_min: 75
    conditional_min: 60
  - id: clinical
    title: {vi: "Thực hành lâm sàng", en: "Clinical practice"}
    sections: [C]
    meets_min: 100
    conditional_min: 100
sections:
  - id: R2
    title: {vi: "Trang thiết bị", en: "Equipment"}
    items:
      - {id: R2-1, text: {vi: "Có bàn khám phụ khoa", en: "Gynaecological examination table"}}
      - {id: R2-2, text: {vi: "Có đèn khám", en: "Examination lamp"}}
  - id: R1
    title: {vi: "Nhân lực", en: "Staff"}
    items:
      - {id: R1-1, text: {vi: "Có người được đào tạo", en: "A trained provider"}}
  - id: C
    title: {vi: "Quan sát thủ thuật", en: "Observed procedure"}
    instructions: {vi: "Quan sát ít nhất một ca, không can thiệp.", en: "Watch at least one client, without stepping in."}
    items:
      - {id: C-1, text: {vi: "Rửa tay trước thủ thuật", en: "Hand hygiene before the procedure"}}
      - {id: C-2, text: {vi: "Tư vấn sau thủ thuật", en: "Counselling after the procedure"}}
"""


def grouped_world(app: Flask, tmp_path: Path) -> dict[str, int]:
    root = tmp_path / "checklists"
    (root / "grouped").mkdir(parents=True)
    (root / "grouped" / "v1.yaml").write_text(GROUPED, encoding="utf-8")
    return fx.build_world(app, root)


def test_group_results_on_the_form_review_page_json_and_minutes(app: Flask, client: FlaskClient,
                                                                 tmp_path: Path) -> None:
    world = grouped_world(app, tmp_path)
    inspection_id = fx.start(app, world["tyt"], world["sup"])
    login(client, world["sup"])
    form = client.get(f"/inspections/{inspection_id}/form?lang=en").get_data(as_text=True)
    assert "Results by part" in form and 'data-group="readiness"' in form
    assert '<p class="sec-instructions" data-section-instructions>Watch at least one client, without stepping in.</p>' in form
    # The clinical part fails one step: readiness meets, clinical does not, so the inspection does not meet,
    # though 4 of 5 items (80%) are met overall.
    fx.submit_complete(app, inspection_id, world["sup"], failing=("C-2",))
    login(client, world["rev"])
    page = client.get(f"/review/inspections/{inspection_id}?lang=en").get_data(as_text=True)
    assert 'data-group="readiness" data-group-class="meets"' in page
    assert 'data-group="clinical" data-group-class="does_not_meet"' in page
    assert "only if every part meets its own threshold" in page
    vi = client.get(f"/review/inspections/{inspection_id}?lang=vi").get_data(as_text=True)
    assert "Kết quả theo nhóm tiêu chí" in vi
    with app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        assert inspection.classification == "does_not_meet"
        groups = services.current_score(inspection).groups
        assert [(g.group_id, g.classification) for g in groups] == [("readiness", "meets"),
                                                                    ("clinical", "does_not_meet")]
        services.approve(inspection, db.session.get(User, world["rev"]))
        db.session.commit()
        pdf = db.session.scalar(sa.select(Minutes.pdf).where(Minutes.inspection_id == inspection_id))
    text = text_of(pdf)
    assert "- Mức độ sẵn sàng: 100% – Đạt chuẩn" in text
    assert "- Thực hành lâm sàng: 50% – Không đạt" in text
    assert "Quan sát ít nhất một ca, không can thiệp." in text  # instructions printed in the annex
    # Section rows in the checklist's order (R2 before R1), not by id.
    assert text.index("Trang thiết bị") < text.index("Nhân lực")
    # The facilities export carries the group results stored at submission.
    login(client, world["admin"])
    export = client.get(f"/compliance/export/facilities.csv?date={dt.date.today().isoformat()}&lang=en")
    body = export.get_data(as_text=True)
    assert "Score groups" in body.splitlines()[0]
    assert "readiness 100% Meets the standard; clinical 50% Does not meet" in body


def test_running_score_json_has_the_groups(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    world = grouped_world(app, tmp_path)
    inspection_id = fx.start(app, world["tyt"], world["sup"], on=dt.date.today())
    with app.app_context():
        from qa_app.inspections.present import score_json

        body = score_json(services.current_score(db.session.get(Inspection, inspection_id)))
    assert body["groups"] == {"readiness": {"percent": None, "classification": None, "applicable": True},
                              "clinical": {"percent": None, "classification": None, "applicable": True}}
