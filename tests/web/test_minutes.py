"""Signed minutes: issued on approval, archived, downloadable in scope, verifiable by anyone."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import threading
import unicodedata
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.audit.models import AuditEntry
from qa_app.checklists.registry import sync_directory
from qa_app.extensions import db
from qa_app.inspections import services as insp
from qa_app.inspections.models import Inspection, Signature
from qa_app.minutes import services as msvc
from qa_app.minutes.models import Minutes
from qa_app.pdf import signing
from qa_app.pdf.sample import signature_png
from tests import factories
from tests.conftest import make_app
from tests.factories import login

NOTE = '<script>alert("x")</script> thiếu găng & "khẩu trang"'


def build_approved(app: Flask, approve: bool = True) -> dict[str, int]:
    """A complete inspection through the workflow services, approved (which issues the minutes)."""
    with app.app_context():
        sync_directory(app.config["CHECKLISTS_DIR"])
        units = factories.two_districts()
        facility = factories.facility("TYT-03430", "Trạm Y tế xã Bản Bo", units["n1"], units["c1"])
        facility.address = "Bản Bo, xã Bản Bo"
        sup = factories.user("giamsat", "supervisor", units["old_province"], full_name="Nguyễn Thị Hương")
        rev = factories.user("duyet", "reviewer", units["old_province"], full_name="Lò Văn Duyệt")
        factories.user("khac", "supervisor", units["d2"])  # another district: out of scope
        inspection = insp.start_inspection(facility, sup, on=dt.date.today())
        score = insp.current_score(inspection)
        checklist = insp.checklist_for(inspection)
        failed: list[str] = []
        critical_failed = False
        for item_id, result in score.items.items():
            if not result.applicable:
                continue
            item = checklist.item(item_id)
            if item.answer_type == "yes_no_na":
                fail = (len(failed) < 3 and item.critical == "never" and item_id[-1] in "23") or (
                    not critical_failed and item.critical == "always")
                critical_failed = critical_failed or (fail and item.critical == "always")
                value: object = "not_met" if fail else "met"
                if fail:
                    failed.append(item_id)
            elif item.answer_type == "scale":
                value = item.scale_max
            elif item.answer_type == "number":
                value = 3
            else:
                value = "Có sổ theo dõi"
            note = NOTE if item_id == (failed[0] if failed else None) else None
            insp.save_answer(inspection, item_id, sup, value=value, **({"note": note} if note else {}))
        insp.set_team(inspection, [
            {"role": "head", "full_name": "Nguyễn Thị Hương", "position": "Phó Giám đốc TTKSBT"},
            {"role": "secretary", "full_name": "Lò Văn Thắng", "position": "Chuyên viên"},
            {"role": "facility_rep", "full_name": "Đặng Thị Ngọc Ánh", "position": "Trạm trưởng"},
        ], sup)
        insp.set_corrective_actions(inspection, [
            {"item_id": i, "action": "Bổ sung ngay <b>đủ</b> vật tư", "responsible": "Trạm trưởng",
             "deadline": insp.default_deadline(inspection)} for i in failed], sup)
        insp.set_facility_opinion(inspection, "Cơ sở thống nhất với kết quả kiểm tra.", sup)
        insp.set_team_decision(inspection, "12/QĐ-SYT", inspection.inspection_date, "SỞ Y TẾ TỈNH LAI CHÂU", sup)
        insp.set_conclusion(inspection, "Cơ sở sạch sẽ, niêm yết đầy đủ.", "", sup)
        # Read out, then signed by everyone: the signatures cover this content.
        strokes = [[[0, 0], [10, 10], [20, 5]]]
        for role, name, seed in (("head", "Nguyễn Thị Hương", 1), ("facility_rep", "Đặng Thị Ngọc Ánh", 2),
                                 ("secretary", "Lò Văn Thắng", 3)):
            insp.save_signature(inspection, role, name, signature_png(seed), strokes, sup)
        insp.submit(inspection, sup)
        if approve:
            insp.approve(inspection, rev)
        db.session.commit()
        return {"inspection": inspection.id, "facility": facility.id, "sup": sup.id, "rev": rev.id,
                "failed": len(failed)}


@pytest.fixture
def issued(app: Flask) -> dict[str, object]:
    ids = build_approved(app)
    with app.app_context():
        m = db.session.scalar(sa.select(Minutes).where(Minutes.inspection_id == ids["inspection"]))
        ids.update(pdf=m.pdf, token=m.token, number=m.number, year=m.year, sha=m.sha256)
    return ids


def text_of(data: bytes) -> str:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(unicodedata.normalize("NFC", " ".join(p.extract_text() or "" for p in reader.pages)).split())


def tamper(data: bytes) -> bytes:
    """Change one byte inside the signed content (a digit of the visible text stream area)."""
    b = bytearray(data)
    pos = data.index(b"stream", len(data) // 4) + 20
    b[pos] ^= 0x01
    return bytes(b)


def test_minutes_issued_on_approval_with_content(app: Flask, issued: dict[str, object]) -> None:
    text = text_of(issued["pdf"])
    assert f"Số: {issued['number']:02d}/BB-TTKSBT" in text
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "SỞ Y TẾ TỈNH LAI CHÂU",
                     "TRUNG TÂM KIỂM SOÁT", "Trạm Y tế xã Bản Bo", "Xã Bản Giang, Huyện Tam Đường",
                     "Đặng Thị Ngọc Ánh", "Lò Văn Thắng", "TRƯỞNG ĐOÀN KIỂM TRA", "THƯ KÝ", "PHỤ LỤC",
                     "Bổ sung ngay <b>đủ</b> vật tư", '<script>alert("x")</script>', "Không đạt",
                     "Ký bằng chứng thư số THỬ NGHIỆM (demo)"):
        assert expected in text, expected
    # The team decision is cited; the Kết luận has the supervisor's strengths and suggested shortcomings.
    assert "Căn cứ Quyết định số 12/QĐ-SYT" in text and "của Sở Y tế tỉnh Lai Châu về việc thành lập Đoàn" in text
    assert "IV. KẾT LUẬN" in text and "Cơ sở sạch sẽ, niêm yết đầy đủ." in text
    assert "Các tiêu chí không đạt:" in text
    # The facility opinion as said; the date line is the visit date; the end time is never blank.
    assert "kết thúc vào hồi … giờ" not in text and "giờ …" not in text
    assert "Biên bản được vào sổ số" in text
    # The visible appearance of the unit's digital signature: who signed, when.
    assert "Văn bản đã được ký số" in text and "Đơn vị ký: Trung tâm Kiểm soát bệnh tật" in text
    assert "Thời gian ký:" in text
    with app.app_context():
        inspection = db.session.get(Inspection, issued["inspection"])
        assert inspection.classification == "does_not_meet"
        assert f"{float(inspection.overall_percent):.1f}".replace(".", ",").rstrip("0").rstrip(",") in text
        for row in inspection.section_results:
            if row.percent is not None:
                assert f"{float(row.percent):.1f}".replace(".", ",").removesuffix(",0") + "%" in text


def test_signature_validates_and_one_byte_breaks_it(app: Flask, issued: dict[str, object]) -> None:
    with app.app_context():
        roots = msvc.signing_key().trust_roots
    assert signing.validate_pdf(issued["pdf"], roots).valid
    bad = signing.validate_pdf(tamper(issued["pdf"]), roots)
    assert not bad.valid
    assert bad.reason in ("tampered", "unreadable")


def test_pdfsig_with_nss_trust_store(app: Flask, issued: dict[str, object], tmp_path: Path) -> None:
    if shutil.which("pdfsig") is None or shutil.which("certutil") is None:
        pytest.skip("pdfsig/certutil not installed")
    nss = tmp_path / "nss"
    nss.mkdir()
    ca = Path(app.instance_path) / "signing" / "ca.pem"
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "ca", "-t", "CT,C,C", "-i", str(ca)],
                   check=True, capture_output=True)
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(issued["pdf"])
    bad.write_bytes(tamper(issued["pdf"]))
    out = subprocess.run(["pdfsig", "-nssdir", str(nss), str(good)], capture_output=True, text=True).stdout
    assert "Signature Validation: Signature is Valid." in out, out
    assert "Certificate Validation: Certificate is Trusted." in out, out
    out = subprocess.run(["pdfsig", "-nssdir", str(nss), str(bad)], capture_output=True, text=True)
    combined = out.stdout + out.stderr
    assert "Signature is Valid." not in combined, combined


def test_download_returns_identical_bytes_in_scope_only(app: Flask, client: FlaskClient,
                                                        issued: dict[str, object]) -> None:
    url = f"/inspections/{issued['inspection']}/minutes.pdf"
    assert client.get(url).status_code == 302  # sign in first
    login(client, "giamsat")
    first, second = client.get(url), client.get(url)
    assert first.status_code == 200
    assert first.mimetype == "application/pdf"
    assert first.data == second.data == issued["pdf"]
    login(client, "khac")
    assert client.get(url).status_code == 404
    login(client, "giamsat")
    assert client.get("/inspections/999999/minutes.pdf").status_code == 404


def test_approved_inspection_is_locked_and_issue_is_idempotent(app: Flask, issued: dict[str, object]) -> None:
    with app.app_context():
        inspection = db.session.get(Inspection, issued["inspection"])
        sup = db.session.get(factories.User, issued["sup"])
        with pytest.raises(insp.WorkflowError):
            insp.set_facility_opinion(inspection, "khác", sup)
        again = msvc.issue_minutes(inspection, sup)
        assert again.sha256 == issued["sha"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Minutes)) == 1


def post_file(client: FlaskClient, data: bytes, name: str = "x.pdf") -> str:
    # In English (kept in the session for the following requests): the assertions read the English verdicts.
    response = client.post("/verify?lang=en", data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_verify_page(app: Flask, client: FlaskClient, issued: dict[str, object]) -> None:
    assert client.get("/verify").status_code == 200
    page = post_file(client, issued["pdf"])
    assert "Authentic" in page
    assert "Not authentic" not in page
    assert "Trạm Y tế xã Bản Bo" in page
    page = post_file(client, tamper(issued["pdf"]))
    assert "Not authentic" in page
    assert "never issued" in page
    page = post_file(client, b"hello, not a pdf at all", "x.txt")
    assert "Not authentic" in page
    assert "not a PDF" in page
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(100, 700, "random")
    c.save()
    page = post_file(client, buf.getvalue())
    assert "Not authentic" in page
    assert "no digital signature" in page
    label = f"{issued['number']:02d}/BB-TTKSBT/{issued['year']}"
    page = client.post("/verify", data={"number": label}).get_data(as_text=True)
    assert "Authentic" in page
    assert "Not authentic" not in page
    page = client.post("/verify", data={"number": "99/BB-TTKSBT/2026"}).get_data(as_text=True)
    assert "Not authentic" in page
    assert "No minutes with this number" in page
    page = client.post("/verify", data={"number": "<b>bad</b>"}).get_data(as_text=True)
    assert "Not authentic" in page
    assert "<b>bad</b>" not in page
    assert client.get(f"/verify/{issued['token']}").status_code == 200
    assert "Authentic" in client.get(f"/verify/{issued['token']}").get_data(as_text=True)
    assert client.get("/verify/not-a-token").status_code == 404


def test_foreign_certificate_is_not_authentic(app: Flask, client: FlaskClient, issued: dict[str, object],
                                              tmp_path: Path) -> None:
    from qa_app.pdf.minutes import build_minutes_pdf
    from qa_app.pdf.sample import sample_view

    other = signing.load_signing_key(None, None, str(tmp_path / "elsewhere"), unit_name="GIẢ MẠO")
    with app.app_context():
        from qa_app.inspections.services import checklist_for

        checklist = checklist_for(db.session.get(Inspection, issued["inspection"]))
    forged = signing.sign_pdf(build_minutes_pdf(sample_view(checklist)), other)
    page = post_file(client, forged)
    assert "Not authentic" in page
    assert "do not trust" in page


def test_cli_verify_and_check_archive(app: Flask, issued: dict[str, object], tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    good = tmp_path / "good.pdf"
    good.write_bytes(issued["pdf"])
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(tamper(issued["pdf"]))
    result = runner.invoke(args=["minutes", "verify", str(good)])
    assert result.exit_code == 0, result.output
    assert "AUTHENTIC" in result.output
    result = runner.invoke(args=["minutes", "verify", str(bad)])
    assert result.exit_code == 1, result.output
    assert "NOT AUTHENTIC" in result.output
    result = runner.invoke(args=["minutes", "verify", str(tmp_path / "missing.pdf")])
    assert result.exit_code == 1, result.output
    assert "NOT AUTHENTIC" in result.output
    result = runner.invoke(args=["minutes", "check-archive"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        m = db.session.scalar(sa.select(Minutes))
        m.pdf = tamper(m.pdf)
        db.session.commit()
    result = runner.invoke(args=["minutes", "check-archive"])
    assert result.exit_code == 1
    assert "MISMATCH" in result.output


def test_numbering_is_gap_free_under_concurrency(tmp_path: Path) -> None:
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'c.sqlite3'}")
    with app.app_context():
        db.create_all()
    numbers: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(5):
                    n = msvc.allocate_number("TTKSBT", 2026)
                    db.session.commit()
                    numbers.append(n)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(numbers) == list(range(1, 41))
    with app.app_context():
        assert msvc.allocate_number("TTKSBT", 2027) == 1
        assert msvc.allocate_number("KHAC", 2026) == 1
        db.session.rollback()
        db.engine.dispose()


def test_parse_number() -> None:
    assert msvc.parse_number("07/BB-TTKSBT/2026") == (7, "TTKSBT", 2026)
    assert msvc.parse_number("Số: 7/BB-ttksbt", 2025) == (7, "TTKSBT", 2025)
    assert msvc.parse_number("hello") is None


def test_concurrent_approvals_issue_consecutive_numbers(tmp_path: Path) -> None:
    """Several reviewers approving at the same moment (threads, file SQLite DB): numbers 1..N, no error."""
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'approve.sqlite3'}")
    with app.app_context():
        db.create_all()
    ids = build_approved(app)
    with app.app_context():
        first = db.session.get(Inspection, ids["inspection"])
        sup = db.session.get(factories.User, ids["sup"])
        pending = []
        for _ in range(4):
            copy = insp.start_inspection(first.facility, sup, on=dt.date.today())
            for answer in insp.answers_of(first).values():
                insp.save_answer(copy, answer.item_id, sup, value=answer.value)
            insp.set_team(copy, [{"role": "head", "full_name": "Trần Văn An"},
                                 {"role": "facility_rep", "full_name": "Hà Thị Bình"}], sup)
            insp.set_corrective_actions(copy, [
                {"item_id": item, "action": "Khắc phục", "responsible": "Trạm trưởng",
                 "deadline": insp.default_deadline(copy)} for item in insp.current_score(copy).failed_items], sup)
            for role in ("head", "facility_rep"):
                insp.save_signature(copy, role, "Trần Văn An", signature_png(4), [[[0, 0], [5, 5]]], sup)
            insp.submit(copy, sup)
            pending.append(copy.id)
        db.session.commit()
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(pending))

    def approve(inspection_id: int) -> None:
        try:
            with app.app_context():
                inspection = db.session.get(Inspection, inspection_id)
                reviewer = db.session.get(factories.User, ids["rev"])
                barrier.wait()
                insp.approve(inspection, reviewer)
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=approve, args=(i,)) for i in pending]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Minutes).order_by(Minutes.number)))
        assert [m.number for m in rows] == list(range(1, len(pending) + 2))
        assert len({m.sha256 for m in rows}) == len(rows)
        db.engine.dispose()


# ---------------------------------------------------------------------------------------------- long-term (B-LT/LTA)


def _nss_store(app: Flask, tmp_path: Path) -> Path:
    if shutil.which("pdfsig") is None or shutil.which("certutil") is None:
        pytest.skip("pdfsig/certutil not installed (scripts/system-deps.sh installs them)")
    nss = tmp_path / "nss"
    nss.mkdir()
    ca = Path(app.instance_path) / "signing" / "ca.pem"
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "ca", "-t", "CT,C,C", "-i", str(ca)],
                   check=True, capture_output=True)
    return nss


def _pyhanko_status(pdf: bytes, app: Flask, index: int = 0, moment: dt.datetime | None = None):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    with app.app_context():
        roots = list(msvc.signing_key().trust_roots)
    reader = PdfFileReader(io.BytesIO(pdf))
    # Revocation checking forced, with only what the file itself carries (its DSS), no network.
    dss = DocumentSecurityStore.read_dss(reader)
    context = dss.as_validation_context({"trust_roots": roots, "allow_fetching": False,
                                         "revocation_mode": "require", "moment": moment})
    # pyHanko's synchronous API calls asyncio.run(): off this thread when a loop runs here (after the browser
    # tests in the same session), as the app itself does.
    from qa_app.pdf.signing import _outside_event_loop

    return reader, _outside_event_loop(validate_pdf_signature, reader.embedded_signatures[index], context)


def _extend(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["minutes", "extend", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_issued_minutes_are_certified_timestamped_and_carry_revocation_data(app: Flask,
                                                                             issued: dict[str, object]) -> None:
    from pyhanko.sign.fields import MDPPerm

    reader, status = _pyhanko_status(issued["pdf"], app)
    assert status.bottom_line, status.pretty_print_details()
    assert status.trusted and status.intact and status.valid
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    assert reader.embedded_signatures[0].docmdp_level == MDPPerm.NO_CHANGES
    assert b"/DSS" in issued["pdf"] and b"/CRLs" in issued["pdf"]
    with app.app_context():
        check = msvc.verify_archived(db.session.get(Minutes, 1))
    assert check.authentic
    assert check.signature.level == "B-LT"


def test_pdfsig_sees_a_valid_trusted_signature_and_the_document_timestamp(
        app: Flask, issued: dict[str, object], tmp_path: Path) -> None:
    nss = _nss_store(app, tmp_path)
    _extend(app)
    with app.app_context():
        extended = db.session.scalar(sa.select(Minutes)).pdf
    path = tmp_path / "extended.pdf"
    path.write_bytes(extended)
    out = subprocess.run(["pdfsig", "-nssdir", str(nss), str(path)], capture_output=True, text=True).stdout
    first, _, second = out.partition("Signature #2:")
    assert "Signature Validation: Signature is Valid." in first, out
    assert "Certificate Validation: Certificate is Trusted." in first, out
    # poppler 22.12 does not validate document timestamps ("not yet verified") but lists them with their TSA.
    assert "Signer Certificate Common Name: qa-app DEMO TSA" in second, out


def test_extend_adds_a_document_timestamp_once_and_old_copies_still_verify(
        app: Flask, client: FlaskClient, issued: dict[str, object]) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    out = _extend(app)
    assert "1 extended, 0 already current, 0 failed" in out, out
    out = _extend(app)
    assert "0 extended, 1 already current, 0 failed" in out, out
    with app.app_context():
        m = db.session.scalar(sa.select(Minutes))
        extended, sha = m.pdf, m.sha256
        assert m.extended_at is not None
        assert sha != issued["sha"] and sha == signing.sha256_hex(extended)
        assert extended.startswith(issued["pdf"])  # an incremental update: the signed bytes are untouched
        check = msvc.verify_archived(m)
        assert check.authentic and check.signature.level == "B-LTA"
        entries = db.session.scalars(sa.select(AuditEntry)
                                     .where(AuditEntry.action == "minutes.extended")).all()
        assert len(entries) == 1 and entries[0].details["sha256"] == sha
    sigs = PdfFileReader(io.BytesIO(extended)).embedded_signatures
    assert [s.sig_object_type for s in sigs] == ["/Sig", "/DocTimeStamp"]
    # Both the copy the facility received at issue and the extended one are recognised as authentic.
    for data in (issued["pdf"], extended):
        page = post_file(client, data)
        assert "Authentic" in page and "Not authentic" not in page
    # Renewing early (the TSA certificate "expires within" 100 years) adds a second document timestamp.
    out = _extend(app, "--renew-within", "3650")
    assert "1 extended" in out, out
    with app.app_context():
        assert msvc.verify_archived(db.session.scalar(sa.select(Minutes))).authentic


def test_archive_still_verifies_after_the_unit_certificate_expired(app: Flask, issued: dict[str, object]) -> None:
    from pyhanko_certvalidator import ValidationContext

    with app.app_context():
        key = msvc.signing_key()
    after_expiry = key.unit_not_after + dt.timedelta(days=30)
    # Validated naively "now" (after expiry), the unit certificate is no longer valid ...
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    sig = PdfFileReader(io.BytesIO(issued["pdf"])).embedded_signatures[0]
    naive = signing._outside_event_loop(
        validate_pdf_signature, sig, ValidationContext(trust_roots=list(key.trust_roots), moment=after_expiry,
                                                       crls=list(key.crls), allow_fetching=False))
    assert not naive.trusted
    # ... but at the time the signature timestamp proves, it was: B-LT and B-LTA both still verify.
    runner = app.test_cli_runner()
    at = after_expiry.strftime("%Y-%m-%dT%H:%M")
    result = runner.invoke(args=["minutes", "check-archive", "--at", at])
    assert result.exit_code == 0, result.output
    _extend(app)
    result = runner.invoke(args=["minutes", "check-archive", "--at", at])
    assert result.exit_code == 0, result.output
    # Past the TSA certificate's own expiry, without a newer document timestamp, it no longer does.
    far = (key.unit_not_after + dt.timedelta(days=signing.DEMO_TSA_DAYS)).strftime("%Y-%m-%d")
    result = runner.invoke(args=["minutes", "check-archive", "--at", far])
    assert result.exit_code == 1, result.output
    assert "MISMATCH" in result.output
    result = runner.invoke(args=["minutes", "check-archive", "--at", "not a date"])
    assert result.exit_code == 2 and "--at" in result.output


def _change_visible_text(pdf: bytes) -> bytes:
    """An incremental update that draws '96% / Đạt' over page 1: the classic after-the-fact forgery."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    old = page["/Contents"].get_object().data
    new = writer.add_object(generic.StreamObject(stream_data=old + b"\nBT /F1 14 Tf 300 300 Td (96%) Tj ET\n"))
    page["/Contents"] = new
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_incremental_text_change_is_rejected_by_the_app_and_by_pyhanko(
        app: Flask, client: FlaskClient, issued: dict[str, object], tmp_path: Path) -> None:
    forged = _change_visible_text(issued["pdf"])
    assert forged.startswith(issued["pdf"])
    _reader, status = _pyhanko_status(forged, app)
    assert status.intact and status.valid  # the signed bytes are intact ...
    assert status.docmdp_ok is False  # ... but the DocMDP "no changes" certification is violated
    assert not status.bottom_line
    with app.app_context():
        result = msvc.verify_pdf(forged)
    assert not result.authentic
    assert "signature_modified" in result.reasons
    page = post_file(client, forged)
    assert "Not authentic" in page and "changed after signing" in page
    path = tmp_path / "forged.pdf"
    path.write_bytes(forged)
    result = app.test_cli_runner().invoke(args=["minutes", "verify", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1


def test_only_trusted_document_timestamps_are_accepted(app: Flask, issued: dict[str, object],
                                                       tmp_path: Path) -> None:
    other = signing.load_signing_key(None, None, str(tmp_path / "elsewhere"), unit_name="GIẢ MẠO")
    foreign = signing.add_document_timestamp(issued["pdf"], other)
    with app.app_context():
        result = msvc.verify_pdf(foreign)
        assert not result.authentic
        assert "signature_timestamp_invalid" in result.reasons
        own = signing.add_document_timestamp(issued["pdf"], msvc.signing_key())
        assert msvc.verify_pdf(own).authentic


# ---------------------------------------------------------------------------------------------- signatures bound


def test_a_change_after_a_return_voids_the_signatures_until_signed_again(app: Flask) -> None:
    from qa_app.minutes import content

    ids = build_approved(app, approve=False)
    with app.app_context():
        inspection = db.session.get(Inspection, ids["inspection"])
        sup = db.session.get(factories.User, ids["sup"])
        rev = db.session.get(factories.User, ids["rev"])
        signed_hash = content.content_sha256(inspection)
        sigs = db.session.scalars(sa.select(Signature).where(Signature.inspection_id == inspection.id)).all()
        assert {s.content_sha256 for s in sigs} == {signed_hash}
        insp.return_inspection(inspection, rev, "Kiểm tra lại tiêu chí A1")
        # Nothing changed yet: the signatures still count.
        assert content.signature_problems(inspection) == []
        item = next(a for a in insp.answers_of(inspection).values() if a.value == "met")
        insp.save_answer(inspection, item.item_id, sup, value="not_met",
                          base_revision=insp.answers_of(inspection)[item.item_id].revision)
        problems = dict(content.signature_problems(inspection))
        assert problems == {"head": "void", "facility_rep": "void", "secretary": "void"}
        # The tablet is never told a voided signature is "signed on the server": its pads ask again.
        from qa_app.api.sync import server_state

        with app.test_request_context():
            assert not {"head", "facility_rep", "secretary"} & set(server_state(inspection)["signatures"])
        voided = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "signature.voided")).all()
        assert sorted(e.details["role"] for e in voided) == ["facility_rep", "head", "secretary"]
        assert all(e.details["signed_content"] == signed_hash for e in voided)
        # Changing it back does not revive them: they were voided, and the record says so.
        insp.save_answer(inspection, item.item_id, sup, value="met",
                          base_revision=insp.answers_of(inspection)[item.item_id].revision)
        assert dict(content.signature_problems(inspection))["head"] == "void"
        insp.save_answer(inspection, item.item_id, sup, value="not_met",
                          base_revision=insp.answers_of(inspection)[item.item_id].revision)
        insp.set_corrective_actions(inspection, [
            {"item_id": i, "action": "Khắc phục", "responsible": "Trạm trưởng",
             "deadline": insp.default_deadline(inspection)} for i in insp.current_score(inspection).failed_items],
            sup)
        with pytest.raises(insp.WorkflowError, match="không còn giá trị"):
            insp.submit(inspection, sup)
        db.session.commit()
        # Defence in depth: filing refuses void signatures even if the inspection got submitted somehow.
        inspection.status = "submitted"
        with pytest.raises(insp.WorkflowError) as refused:
            insp.approve(inspection, rev)
        assert refused.value.code == "signatures_void"
        db.session.rollback()
        inspection = db.session.get(Inspection, ids["inspection"])
        assert inspection.status == "returned" and msvc.minutes_of(inspection.id) is None
        new_hash = content.content_sha256(inspection)
        assert new_hash != signed_hash
        for role, name, seed in (("head", "Nguyễn Thị Hương", 5), ("facility_rep", "Đặng Thị Ngọc Ánh", 6),
                                 ("secretary", "Lò Văn Thắng", 7)):
            insp.save_signature(inspection, role, name, signature_png(seed), [[[0, 0], [9, 9]]], sup)
        insp.submit(inspection, sup)
        insp.approve(inspection, rev)
        db.session.commit()
        minutes = msvc.minutes_of(inspection.id)
        text = text_of(minutes.pdf)
    # The filed PDF carries the hash of exactly the content signed (again) at the visit.
    assert new_hash in text.replace(" ", "")
    assert signed_hash not in text.replace(" ", "")


def test_unchanged_content_keeps_the_signatures(app: Flask) -> None:
    from qa_app.minutes import content

    ids = build_approved(app, approve=False)
    with app.app_context():
        inspection = db.session.get(Inspection, ids["inspection"])
        sup = db.session.get(factories.User, ids["sup"])
        rev = db.session.get(factories.User, ids["rev"])
        insp.return_inspection(inspection, rev, "Xem lại")
        # Saving the same values again (the finish page re-posts its form) is not a change.
        insp.set_facility_opinion(inspection, "Cơ sở thống nhất với kết quả kiểm tra.", sup)
        insp.set_team(inspection, [
            {"role": "head", "full_name": "Nguyễn Thị Hương", "position": "Phó Giám đốc TTKSBT"},
            {"role": "secretary", "full_name": "Lò Văn Thắng", "position": "Chuyên viên"},
            {"role": "facility_rep", "full_name": "Đặng Thị Ngọc Ánh", "position": "Trạm trưởng"},
        ], sup)
        assert content.signature_problems(inspection) == []
        insp.set_facility_opinion(inspection, "", sup, no_opinion=True)
        assert dict(content.signature_problems(inspection))["facility_rep"] == "void"


# ---------------------------------------------------------------------------------------------- /verify privacy


def test_anonymous_lookup_by_number_shows_no_facility_date_or_score(app: Flask, client: FlaskClient,
                                                                    issued: dict[str, object]) -> None:
    label = f"{issued['number']:02d}/BB-TTKSBT/{issued['year']}"
    with app.app_context():
        inspection = db.session.get(Inspection, issued["inspection"])
        score = f"{float(inspection.overall_percent):.1f}".replace(".", ",")
    page = client.post("/verify", data={"number": label}).get_data(as_text=True)
    assert "Văn bản hợp lệ" in page
    assert label in page and "TRUNG TÂM KIỂM SOÁT BỆNH TẬT" in page
    assert "Trạm Y tế xã Bản Bo" not in page
    assert score not in page and f"#{issued['inspection']}" not in page
    assert issued["sha"] not in page
    # Proof of possession: the file itself, or its QR code, shows the record.
    assert "Trạm Y tế xã Bản Bo" in post_file(client, issued["pdf"])
    assert "Trạm Y tế xã Bản Bo" in client.get(f"/verify/{issued['token']}").get_data(as_text=True)
    # A signed-in user responsible for the facility sees it by number; one outside the region does not.
    login(client, "giamsat")
    assert "Trạm Y tế xã Bản Bo" in client.post("/verify", data={"number": label}).get_data(as_text=True)
    login(client, "khac")
    assert "Trạm Y tế xã Bản Bo" not in client.post("/verify", data={"number": label}).get_data(as_text=True)


def test_lookups_are_rate_limited_per_client_in_the_database(app: Flask, client: FlaskClient,
                                                             issued: dict[str, object]) -> None:
    from qa_app.minutes.models import VerifyHit

    app.config["VERIFY_RATE_LIMIT"] = 5
    label = f"{issued['number']:02d}/BB-TTKSBT/{issued['year']}"
    codes = [client.post("/verify", data={"number": label}).status_code for _ in range(5)]
    assert codes == [200] * 5
    refused = client.post("/verify?lang=en", data={"number": label})
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert "Too many verifications" in refused.get_data(as_text=True)
    assert client.post("/verify", data={"file": (io.BytesIO(issued["pdf"]), "x.pdf")},
                       content_type="multipart/form-data").status_code == 429
    assert client.get(f"/verify/{issued['token']}").status_code == 200  # unguessable: not limited
    # Another client is not affected; the count lives in the database, shared by every worker.
    other = client.post("/verify", data={"number": label}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200
    with app.app_context():
        hits = {h.client: h.hits for h in db.session.scalars(sa.select(VerifyHit))}
    assert hits == {"127.0.0.1": 7, "10.1.2.3": 1}
    # A new window starts afresh.
    with app.app_context():
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)
        assert msvc.allow_lookup("127.0.0.1", later)


# ---------------------------------------------------------------------------------------------- visit record


def test_visit_record_before_filing_carries_the_visit_date_and_content_hash(app: Flask, client: FlaskClient) -> None:
    from qa_app.minutes import content

    ids = build_approved(app, approve=False)
    with app.app_context():
        inspection = db.session.get(Inspection, ids["inspection"])
        signed_hash = content.content_sha256(inspection)
        visit = inspection.inspection_date
    login(client, "giamsat")
    page = client.get(f"/inspections/{ids['inspection']}", follow_redirects=True).get_data(as_text=True)
    assert f"/inspections/{ids['inspection']}/record.pdf" in page
    response = client.get(f"/inspections/{ids['inspection']}/record.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = text_of(response.data)
    assert "CHỜ VÀO SỔ" in text and "Số: …/BB-TTKSBT" in text
    day = f"0{visit.day}" if visit.day < 10 else str(visit.day)
    month = f"0{visit.month}" if visit.month < 3 else str(visit.month)
    assert f"ngày {day} tháng {month} năm {visit.year}" in text
    assert "kết thúc vào hồi … giờ" not in text and "giờ …" not in text
    assert signed_hash in text.replace(" ", "")
    assert b"/ByteRange" not in response.data  # not signed by the unit: that is filing
    login(client, "khac")
    assert client.get(f"/inspections/{ids['inspection']}/record.pdf").status_code == 404
    # Filing: the filed minutes carry the same content hash as the record taken at the visit.
    with app.app_context():
        insp.approve(db.session.get(Inspection, ids["inspection"]), db.session.get(factories.User, ids["rev"]))
        db.session.commit()
        filed = msvc.minutes_of(ids["inspection"]).pdf
    assert signed_hash in text_of(filed).replace(" ", "")


def test_a_self_assessment_gets_a_form_not_numbered_minutes(app: Flask, client: FlaskClient) -> None:
    ids = build_approved(app, approve=False)
    with app.app_context():
        inspection = db.session.get(Inspection, ids["inspection"])
        inspection.kind = "self"
        insp.approve(inspection, db.session.get(factories.User, ids["rev"]))
        db.session.commit()
        assert msvc.minutes_of(inspection.id) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Minutes)) == 0
        with pytest.raises(ValueError):
            msvc.issue_minutes(inspection, db.session.get(factories.User, ids["rev"]))
    login(client, "giamsat")
    response = client.get(f"/inspections/{ids['inspection']}/record.pdf")
    assert response.status_code == 200
    text = text_of(response.data)
    assert "PHIẾU TỰ ĐÁNH GIÁ" in text and "BIÊN BẢN" not in text
    assert "/BB-" not in text and "Số:" not in text



def test_team_decision_is_all_or_nothing(app: Flask) -> None:
    ids = build_approved(app, approve=False)
    with app.app_context():
        inspection = db.session.get(Inspection, ids["inspection"])
        sup = db.session.get(factories.User, ids["sup"])
        insp.return_inspection(inspection, db.session.get(factories.User, ids["rev"]), "Bổ sung quyết định")
        with pytest.raises(insp.WorkflowError, match="together"):
            insp.set_team_decision(inspection, "12/QĐ-SYT", None, "Sở Y tế", sup)
        with pytest.raises(insp.WorkflowError, match="after the inspection"):
            insp.set_team_decision(inspection, "12/QĐ-SYT", inspection.inspection_date + dt.timedelta(days=1),
                                   "Sở Y tế", sup)
