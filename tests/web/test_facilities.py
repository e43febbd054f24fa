"""Facility registry: status on a date, the scoped list, the facility page and the CSV import page."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.audit.models import AuditEntry
from qa_app.auth.models import User
from qa_app.extensions import db
from qa_app.facilities.models import Facility
from qa_app.facilities.status import facility_status, first_valid_date
from qa_app.regions.models import AdminUnit
from tests.compliance_fixtures import designate

from .. import facility_fixtures as ff
from .. import factories as f
from ..factories import login

TODAY = dt.date.today()


def get(model, id_):
    return db.session.get(model, id_)


def names_listed(html: str) -> list[str]:
    return re.findall(r'<td class="fac-name"><a href="/facilities/\d+">([^<]+)</a>', html)


@pytest.fixture
def ids(app: Flask) -> dict[str, int]:
    return ff.region(app)


# ---------------------------------------------------------------------------------------------- status


def test_status_rules(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        fa, fb, pk = get(Facility, ids["f_a"]), get(Facility, ids["f_b"]), get(Facility, ids["pk_a"])
        sup = get(User, ids["sup_a"])
        v24 = ff.checklist_version(24)
        old = ff.inspection(fa, v24, sup, dt.date(2023, 3, 15), classification="conditional", percent=85)
        # Expired after 24 months: valid through 14/03/2025, not assessed from 15/03/2025.
        assert facility_status(fa.id, dt.date(2025, 3, 14)).status == "conditional"
        expired = facility_status(fa.id, dt.date(2025, 3, 15))
        assert (expired.status, expired.inspection_id) == ("not_assessed", None)
        assert (expired.last_approved_id, expired.last_approved_date) == (old.id, dt.date(2023, 3, 15))
        # Not yet inspected on the day before.
        assert facility_status(fa.id, dt.date(2023, 3, 14)).status == "not_assessed"
        # Latest approved wins; a later self-assessment, a submitted and a returned inspection never count.
        newer = ff.inspection(fa, v24, sup, dt.date(2024, 1, 10), classification="does_not_meet", percent=60)
        ff.inspection(fa, v24, sup, dt.date(2024, 2, 1), kind="self", classification="meets")
        ff.inspection(fa, v24, sup, dt.date(2024, 3, 1), status="submitted", classification="meets")
        ff.inspection(fa, v24, sup, dt.date(2024, 3, 2), status="returned")
        ff.inspection(fa, v24, sup, dt.date(2024, 3, 3), status="draft")
        status = facility_status(fa.id, dt.date(2024, 6, 1))
        assert (status.status, status.inspection_id, status.inspection_date) == (
            "does_not_meet", newer.id, dt.date(2024, 1, 10))
        # The checklist's own validity window applies (12 months here).
        v12 = ff.checklist_version(12, version=2)
        short = ff.inspection(fb, v12, sup, dt.date(2024, 1, 10))
        assert facility_status(fb.id, dt.date(2025, 1, 9)).status == "meets"
        assert facility_status(fb.id, dt.date(2025, 1, 10)).status == "not_assessed"
        # No validity in the checklist: 24 months by default.
        v_default = ff.checklist_version(None, version=3)
        ff.inspection(pk, v_default, sup, dt.date(2024, 1, 10), classification="conditional")
        # A correction of an approved inspection replaces it.
        corrected = ff.inspection(fb, v12, sup, dt.date(2024, 1, 10), classification="does_not_meet",
                                  supersedes=short)
        assert corrected.id > short.id
        many = facility_status([fa.id, fb.id, pk.id], dt.date(2024, 12, 31))
        assert {k: v.status for k, v in many.items()} == {
            fa.id: "does_not_meet", fb.id: "does_not_meet", pk.id: "conditional"}
        assert facility_status([pk.id], dt.date(2026, 1, 9))[pk.id].status == "conditional"
        assert facility_status([pk.id], dt.date(2026, 1, 10))[pk.id].status == "not_assessed"
        with pytest.raises(LookupError):
            facility_status(999, TODAY)


def test_status_month_end(app: Flask, ids: dict[str, int]) -> None:
    with app.app_context():
        fa, sup = get(Facility, ids["f_a"]), get(User, ids["sup_a"])
        ff.inspection(fa, ff.checklist_version(6), sup, dt.date(2023, 8, 31))
        # 31/08 + 6 months has no 31st: the window runs to the end of February.
        assert facility_status(fa.id, dt.date(2024, 2, 29)).status == "meets"
        assert facility_status(fa.id, dt.date(2024, 3, 1)).status == "not_assessed"


@pytest.mark.parametrize(("on", "months", "first"), [
    (dt.date(2025, 3, 14), 24, dt.date(2023, 3, 15)),
    (dt.date(2025, 3, 15), 24, dt.date(2023, 3, 16)),
    (dt.date(2024, 2, 29), 6, dt.date(2023, 8, 30)),
    (dt.date(2024, 3, 1), 6, dt.date(2023, 9, 2)),
    (dt.date(2025, 1, 31), 1, dt.date(2025, 1, 1)),
    (dt.date(2025, 12, 31), 12, dt.date(2025, 1, 1)),
    (dt.date(2025, 1, 10), 13, dt.date(2023, 12, 11)),
])
def test_first_valid_date(on: dt.date, months: int, first: dt.date) -> None:
    assert first_valid_date(on, months) == first


# ---------------------------------------------------------------------------------------------- list


def test_list_requires_login(client: FlaskClient, ids: dict[str, int]) -> None:
    assert client.get("/facilities/").status_code == 302
    assert client.get(f"/facilities/{ids['f_a']}").status_code == 302


def test_list_scope(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    expected = {
        "rev_a": ["Phòng khám Đa khoa Tâm Đức", "Trạm Y tế xã Bản Giang"],
        "rev_b": ["Trạm Y tế xã Mường So"],
        "mgr": ["Phòng khám Đa khoa Tâm Đức", "Trạm Y tế xã Bản Giang", "Trạm Y tế xã Mường So"],
        "admin": ["Phòng khám Đa khoa Tâm Đức", "Trạm Y tế xã Bản Giang", "Trạm Y tế xã Mường So"],
    }
    for who, names in expected.items():
        login(client, ids[who])
        html = client.get("/facilities/").get_data(as_text=True)
        assert names_listed(html) == names, who
    # District A's reviewer sees nothing of district B, not even in the unit filter.
    login(client, ids["rev_a"])
    html = client.get("/facilities/").get_data(as_text=True)
    for hidden in ("Mường So", "Khổng Lào", "Phong Thổ", f'value="{ids["n2"]}"', f'value="{ids["d2"]}"'):
        assert hidden not in html
    assert f'value="{ids["d1"]}"' in html
    assert f'value="{ids["n1"]}"' in html
    # Filtering by B's unit (by editing the URL) shows nothing of B.
    html = client.get(f"/facilities/?unit={ids['n2']}").get_data(as_text=True)
    assert "Mường So" not in html


def test_list_filters_and_search(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    with app.app_context():
        sup = get(User, ids["sup_a"])
        v = ff.checklist_version()
        ff.inspection(get(Facility, ids["f_a"]), v, sup, TODAY - dt.timedelta(days=40), classification="conditional")
        ff.inspection(get(Facility, ids["f_b"]), v, sup, TODAY - dt.timedelta(days=800))  # expired
        db.session.commit()
    login(client, ids["mgr"])

    def listed(query: str) -> list[str]:
        response = client.get("/facilities/?" + query)
        assert response.status_code == 200
        return names_listed(response.get_data(as_text=True))

    assert listed("type=PK") == ["Phòng khám Đa khoa Tâm Đức"]
    assert listed("ownership=public") == ["Trạm Y tế xã Bản Giang", "Trạm Y tế xã Mường So"]
    assert listed("status=conditional") == ["Trạm Y tế xã Bản Giang"]
    assert listed("status=not_assessed") == ["Phòng khám Đa khoa Tâm Đức", "Trạm Y tế xã Mường So"]
    assert listed("status=meets") == []
    assert listed(f"unit={ids['d2']}") == ["Trạm Y tế xã Mường So"]  # pre-2025 district
    assert listed(f"unit={ids['n1']}") == ["Phòng khám Đa khoa Tâm Đức", "Trạm Y tế xã Bản Giang"]  # 2025 commune
    assert listed(f"unit={ids['province']}&type=TYT") == ["Trạm Y tế xã Bản Giang", "Trạm Y tế xã Mường So"]
    assert listed("q=Mường") == ["Trạm Y tế xã Mường So"]
    assert listed("q=TYT-0345") == ["Trạm Y tế xã Mường So"]
    assert listed("q=%25") == []  # a LIKE wildcard is searched for literally
    # Unknown filter values are ignored rather than failing.
    assert len(listed("type=XYZ&status=bogus&unit=abc&page=zero")) == 3
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
    if sqlite:
        # Case and accents do not matter.
        assert listed("q=BẢN GIANG") == ["Trạm Y tế xã Bản Giang"]
        assert listed("q=tram y te xa muong") == ["Trạm Y tế xã Mường So"]
        assert listed("q=tam duc") == ["Phòng khám Đa khoa Tâm Đức"]
    html = client.get("/facilities/?status=conditional").get_data(as_text=True)
    assert "badge-conditional" in html
    assert (TODAY - dt.timedelta(days=40)).strftime("%d/%m/%Y") in html


def test_list_pagination(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    with app.app_context():
        n1, c1 = get(AdminUnit, ids["n1"]), get(AdminUnit, ids["c1"])
        for i in range(117):
            f.facility(f"NT-{i:03d}", f"Nhà thuốc {i:03d}", n1, c1, type_="NT", ownership="non_public",
                       services=("VU", "BCS"))
        db.session.commit()
    login(client, ids["rev_a"])
    first = client.get("/facilities/?type=NT").get_data(as_text=True)
    assert len(names_listed(first)) == 50
    assert "117 cơ sở" in first  # the default language is Vietnamese
    assert "trang 1/3" in first
    assert 'href="/facilities/?page=2&amp;type=NT"' in first
    last = client.get("/facilities/?type=NT&page=3").get_data(as_text=True)
    assert names_listed(last) == [f"Nhà thuốc {i:03d}" for i in range(100, 117)]
    # Past the last page: the last page.
    assert names_listed(client.get("/facilities/?type=NT&page=99").get_data(as_text=True))[-1] == "Nhà thuốc 116"


# ---------------------------------------------------------------------------------------------- facility page


def test_facility_page(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    with app.app_context():
        fa, sup = get(Facility, ids["f_a"]), get(User, ids["sup_a"])
        fa.phone, fa.head_name, fa.high_fertility = "0213 3870 123", "Lò Văn Hùng <b>", True
        v = ff.checklist_version()
        approved = ff.inspection(fa, v, sup, TODAY - dt.timedelta(days=60), classification="conditional",
                                 percent=84.25)
        self_check = ff.inspection(fa, v, sup, TODAY - dt.timedelta(days=10), kind="self", status="submitted")
        draft = ff.inspection(fa, v, sup, TODAY, status="draft")
        ff.action(approved, "E3", TODAY - dt.timedelta(days=2), text="Bổ sung que thử thai")
        ff.action(approved, "B7", TODAY + dt.timedelta(days=20), text="Sửa bồn rửa tay")
        ff.action(approved, "A1", TODAY - dt.timedelta(days=5), text="Đã xong", status="done")
        db.session.commit()
        ids.update(approved=approved.id, self_check=self_check.id, draft=draft.id)
    login(client, ids["sup_a"])
    response = client.get(f"/facilities/{ids['f_a']}?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Trạm Y tế xã Bản Giang" in html
    assert "TYT-03430" in html
    assert "Xã Bản Bo, Tỉnh Lai Châu" in html
    assert "Xã Bản Giang, Huyện Tam Đường, Tỉnh Lai Châu" in html
    assert "Lò Văn Hùng &lt;b&gt;" in html
    assert 'href="tel:02133870123"' in html
    # The facility's old flag says high-fertility, but its commune has no designation: "No", as the indicators
    # count it.
    assert re.search(r"High-fertility area</dt><dd>No<", html)
    assert "Commune health station" in html
    assert "IUD" in html
    assert "Injectable" in html
    # Status from the approved external inspection, with its link.
    assert 'class="badge badge-conditional">Conditional' in html
    assert f'href="/inspections/{ids["approved"]}"' in html
    # History: all three, newest first, self-assessment marked.
    history = html.split('id="history-h"')[1]
    positions = [history.index(f'/inspections/{ids[k]}"') for k in ("draft", "self_check", "approved")]
    assert positions == sorted(positions)
    assert "Self-assessment" in history
    # One rounding everywhere: half up to one decimal, so 84.25 shows as 84.3 (not the float 84.2).
    assert "84.3" in history and "84.2" not in history
    # Once its commune is designated, the page says so.
    with app.app_context():
        designate(get(AdminUnit, get(Facility, ids["f_a"]).unit_id))
        db.session.commit()
    again = client.get(f"/facilities/{ids['f_a']}?lang=en").get_data(as_text=True)
    assert re.search(r"High-fertility area</dt><dd>Yes<", again)
    # Open actions only, overdue marked.
    actions = html.split('id="actions-h"')[1].split('id="history-h"')[0]
    assert "Bổ sung que thử thai" in actions
    assert "Sửa bồn rửa tay" in actions
    assert "Đã xong" not in actions
    assert actions.count("Overdue") == 1
    # The start form for a supervisor.
    assert 'action="/inspections/start"' in html
    assert f'name="facility_id" value="{ids["f_a"]}"' in html
    assert 'name="kind"' in html
    assert 'name="inspection_date"' in html
    assert 'name="csrf_token"' in html


def test_start_button_only_for_supervisors_and_admins(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    for who, visible in (("sup_a", True), ("admin", True), ("rev_a", False), ("mgr", False)):
        login(client, ids[who])
        html = client.get(f"/facilities/{ids['f_a']}").get_data(as_text=True)
        assert ('action="/inspections/start"' in html) is visible, who


def test_facility_page_outside_scope_is_404(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["rev_a"])
    assert client.get(f"/facilities/{ids['f_b']}").status_code == 404
    assert client.get("/facilities/99999").status_code == 404
    assert client.get(f"/facilities/{ids['f_a']}").status_code == 200
    login(client, ids["rev_b"])
    assert client.get(f"/facilities/{ids['f_a']}").status_code == 404
    assert client.get(f"/facilities/{ids['pk_a']}").status_code == 404


def test_status_not_assessed_message(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["rev_b"])
    html = client.get(f"/facilities/{ids['f_b']}?lang=en").get_data(as_text=True)
    assert "badge-not_assessed" in html
    assert "No approved external inspection yet." in html


# ---------------------------------------------------------------------------------------------- import page

HEADER = ("code,name,type,ownership,unit_system,unit_code,legacy_unit_code,services,high_fertility,"
          "active_from,active_to,address,phone,head_name\n")


def upload(client: FlaskClient, body: str | bytes, name: str = "facilities.csv"):
    data = body.encode() if isinstance(body, str) else body
    return client.post("/facilities/import?lang=en", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize(("who", "status"), [("sup_a", 403), ("rev_a", 403), ("mgr", 200), ("admin", 200)])
def test_import_page_permissions(app: Flask, client: FlaskClient, ids: dict[str, int], who: str,
                                 status: int) -> None:
    login(client, ids[who])
    assert client.get("/facilities/import").status_code == status
    assert client.get("/facilities/import/template.csv").status_code == status
    if status == 403:
        assert upload(client, HEADER + "X,Y,TYT,public,2025,03430,,VU,1,2015-01-01,,,,\n").status_code == 403


def test_import_page_anonymous(client: FlaskClient) -> None:
    assert client.get("/facilities/import").status_code == 302


def test_import_link_on_list_for_managers(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["mgr"])
    assert "/facilities/import" in client.get("/facilities/").get_data(as_text=True)
    login(client, ids["sup_a"])
    assert "/facilities/import" not in client.get("/facilities/").get_data(as_text=True)


def test_import_template_is_a_valid_file(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["mgr"])
    template = client.get("/facilities/import/template.csv").data
    assert template.startswith("\ufeff".encode())
    response = upload(client, template)
    assert response.status_code == 200, response.get_data(as_text=True)
    # The example is the fixture's own station: it is found again and updated.
    assert "Created: 0, updated: 1, unchanged: 0." in response.get_data(as_text=True)


def count_facilities(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Facility))


def test_import_errors_listed_and_nothing_written(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["mgr"])
    body = HEADER + (
        "TYT-NEW,Trạm Y tế mới,TYT,public,2025,03430,,VU,1,2015-01-01,,,,\n"          # 2 fine
        "PK-2,Phòng khám <script>,X<b>Z,non_public,2025,03430,,VU,0,2015-01-01,,,,\n"  # 3 unknown type
        "TYT-X,Trạm X,TYT,non_public,2025,03430,,VU,1,2015-01-01,,,,\n"               # 4 TYT public
        "TYT-Y,Trạm Y,TYT,public,2025,54321,,VU,1,2015-01-01,,,,\n"                   # 5 unknown unit
        "TYT-Z,Trạm Z,TYT,public,2025,03430,,VU,1,2020-01-01,2019-01-01,,,\n"          # 6 dates
        "TYT-NEW,Trạm Y tế mới,TYT,public,2025,03430,,VU,1,2015-01-01,,,,\n"          # 7 duplicate
    )
    before = count_facilities(app)
    response = upload(client, body)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "5 problems found: nothing was imported." in html
    rows = dict(re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td></tr>", html))
    assert rows["3"].startswith("Unknown type 'X&lt;b&gt;Z'")
    assert rows["4"] == "A commune health station (TYT) must be public."
    assert rows["5"] == "Unknown unit code 54321 in system 2025."
    assert rows["6"] == "active_to 01/01/2019 is before active_from 01/01/2020."
    assert rows["7"] == "Duplicate code 'TYT-NEW' in file rows 2 and 7."
    assert "<script>" not in html
    assert count_facilities(app) == before


def test_import_scope_error(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    with app.app_context():
        other = f.unit("2025", "province", "11", "Tỉnh Điện Biên")
        f.unit("2025", "commune", "03160", "Xã Mường Phăng", other)
        db.session.commit()
    login(client, ids["mgr"])
    response = upload(client, HEADER + "TYT-DB,Trạm Y tế xã Mường Phăng,TYT,public,2025,03160,,VU,1,2015-01-01,,,,\n")
    assert response.status_code == 400
    assert "Unit 03160 (Xã Mường Phăng) is outside your scope." in response.get_data(as_text=True)


def test_import_creates_then_updates(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["mgr"])
    body = HEADER + (
        "TYT-03430,Trạm Y tế xã Bản Giang,TYT,public,2025,03430,03430,VU;BCS;TT;DCTC,0,2015-01-01,,,,\n"
        "NT-1,Nhà thuốc Minh An,NT,non_public,2025,03451,03451,VU BCS,0,01/03/2021,,\"Khổng Lào, Phong Thổ\",,\n"
    )
    response = upload(client, body)
    assert response.status_code == 200
    assert "Created: 1, updated: 0, unchanged: 1." in response.get_data(as_text=True)
    response = upload(client, body.replace("Nhà thuốc Minh An", "Nhà thuốc Minh An 2"))
    assert "Created: 0, updated: 1, unchanged: 1." in response.get_data(as_text=True)
    with app.app_context():
        pharmacy = db.session.scalar(sa.select(Facility).where(Facility.code == "NT-1"))
        assert pharmacy.name == "Nhà thuốc Minh An 2"
        assert pharmacy.address == "Khổng Lào, Phong Thổ"
        assert pharmacy.active_from == dt.date(2021, 3, 1)
        entries = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "facilities.imported")).all()
        assert [(e.details["created"], e.details["updated"]) for e in entries] == [(1, 0), (0, 1)]
        assert entries[0].user_id == ids["mgr"]
        assert entries[0].details["source"] == "facilities.csv"


@pytest.mark.parametrize(("body", "needle"), [
    ("code,name\nTYT-1,Trạm\n".encode(), "Missing column(s): type, ownership, unit_code, active_from."),
    ("code,name\nTYT-1,Châu Đô\n".encode("cp1258"), "save it as “CSV UTF-8 (comma delimited)”"),
    (b"PK\x03\x04....", "spreadsheet workbook"),
    (b"", "Choose a CSV file."),
])
def test_import_unreadable_files(app: Flask, client: FlaskClient, ids: dict[str, int], body: bytes,
                                 needle: str) -> None:
    login(client, ids["mgr"])
    response = upload(client, body) if body else client.post("/facilities/import?lang=en", data={},
                                                            content_type="multipart/form-data")
    assert response.status_code == 400
    assert needle in response.get_data(as_text=True)


def test_import_too_large(app: Flask, client: FlaskClient, ids: dict[str, int],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    from qa_app.facilities import importers, views

    # (A small limit: the test client leaks a temporary file for uploads over 500 KB.)
    monkeypatch.setattr(importers, "MAX_FILE_BYTES", 100 * 1024)
    monkeypatch.setattr(views, "MAX_FILE_BYTES", 100 * 1024)
    login(client, ids["mgr"])
    response = upload(client, HEADER + "x" * (120 * 1024))
    assert response.status_code == 400
    assert "The file is larger than 100 KB: split it into several files." in response.get_data(as_text=True)


def test_import_in_vietnamese_by_default(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["mgr"])
    response = client.get("/facilities/import")
    assert response.status_code == 200
    assert 'lang="vi"' in response.get_data(as_text=True)


def test_start_form_fields_start_an_inspection(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    """The facility page's form posts exactly what the inspections blueprint's start view reads."""
    from qa_app.checklists.registry import sync_directory
    from qa_app.inspections.models import Inspection

    with app.app_context():
        sync_directory(app.config["CHECKLISTS_DIR"])
        db.session.commit()
    login(client, ids["sup_a"])
    html = client.get(f"/facilities/{ids['f_a']}").get_data(as_text=True)
    form = html.split('action="/inspections/start"')[1].split("</form>")[0]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    day = TODAY - dt.timedelta(days=3)
    response = client.post("/inspections/start", data={"facility_id": fields["facility_id"],
                                                       "inspection_date": day.isoformat(), "kind": "self"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        inspection = db.session.scalars(sa.select(Inspection)).one()
        assert (inspection.facility_id, inspection.inspection_date, inspection.kind) == (ids["f_a"], day, "self")
