"""Small worlds for the inspection start, form and API tests: regions, users, facilities and the real checklist."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from qa_app.auth.models import User
from qa_app.checklists.registry import sync_directory
from qa_app.extensions import db
from qa_app.inspections import services
from qa_app.inspections.models import Inspection
from qa_app.scoring import applicable_items

from . import factories as f

PASSWORD = "Mat-khau-2025"
REAL_CHECKLISTS = Path(__file__).resolve().parent.parent / "checklists"


def build_world(app: Flask, checklists_dir: str | Path | None = None) -> dict[str, int]:
    """Two districts; supervisors, a reviewer, an admin; a station and a pharmacy, and another district's station."""
    with app.app_context():
        units = f.two_districts()
        sync_directory(checklists_dir or app.config["CHECKLISTS_DIR"])
        ids = {
            "sup": f.user("giamsat1", "supervisor", units["d1"], full_name="Nguyễn Văn An").id,
            "sup_b": f.user("giamsat1b", "supervisor", units["d1"], full_name="Trần Thị Bình").id,
            "sup2": f.user("giamsat2", "supervisor", units["d2"], full_name="Lò Văn Cường").id,
            "rev": f.user("thamdinh1", "reviewer", units["d1"], full_name="Đỗ Thu Hà").id,
            "admin": f.user("admin", "admin", None, full_name="Quản trị").id,
        }
        # The station offers pills, condoms, injectables and IUDs, but not implants or sterilisation.
        ids["tyt"] = f.facility("TYT-1", "Trạm Y tế xã Bản Giang", units["n1"], units["c1"]).id
        ids["nt"] = f.facility("NT-1", "Nhà thuốc Minh Châu", units["n1"], units["c1"], type_="NT",
                               ownership="non_public", services=("VU", "BCS")).id
        ids["tyt2"] = f.facility("TYT-2", "Trạm Y tế xã Mường So", units["n2"], units["c2"]).id
        db.session.commit()
    return ids


def login(app: Flask, client: FlaskClient, user_id: int) -> None:
    """The old argument order, kept for branches written against it: use ``tests.factories.login``."""
    f.login(client, user_id)


def start(app: Flask, facility_id: int, user_id: int, on: dt.date | None = None, kind: str = "external") -> int:
    """Start an inspection through the service and commit; returns its id."""
    with app.app_context():
        from qa_app.facilities.models import Facility

        inspection = services.start_inspection(db.session.get(Facility, facility_id), db.session.get(User, user_id),
                                               on=on or dt.date.today(), kind=kind)
        db.session.commit()
        return inspection.id


def applicable_ids(app: Flask, inspection_id: int) -> tuple[list[str], list[str]]:
    """(applicable item ids, excluded item ids) of an inspection."""
    with app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        rows = applicable_items(services.checklist_for(inspection), services.profile_of(inspection))
        return [i.id for i, ok, _r in rows if ok], [i.id for i, ok, _r in rows if not ok]


def passing_value(item) -> str:
    """A value that passes the item (or informs, for number and text items)."""
    return {"yes_no_na": "met", "scale": str(item.scale_max) if item.scale else "1", "number": "3"}.get(
        item.answer_type, "ok")


def failing_value(item) -> str:
    """A value that fails a scored item."""
    return "not_met" if item.answer_type == "yes_no_na" else str(item.scale_min)


def png_bytes(width: int = 40, height: int = 20, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real PNG made with Pillow."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(width: int = 40, height: int = 30, color: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    """A real JPEG made with Pillow."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=85)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header claims a huge image (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + _chunk(b"IEND", b""))


def submit_complete(app: Flask, inspection_id: int, user_id: int, failing: tuple[str, ...] = ()) -> None:
    """Answer every applicable item (failing the given ones), name the team, sign, add actions and submit."""
    with app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        user = db.session.get(User, user_id)
        checklist = services.checklist_for(inspection)
        existing = services.answers_of(inspection)
        for item, applies, _reason in applicable_items(checklist, services.profile_of(inspection)):
            if not applies:
                continue
            value = failing_value(item) if item.id in failing else passing_value(item)
            base = existing[item.id].revision if item.id in existing else 0
            services.save_answer(inspection, item.id, user, value=value, base_revision=base)
        services.set_team(inspection, [{"role": "head", "full_name": "Nguyễn Văn An"},
                                       {"role": "facility_rep", "full_name": "Phạm Thị Dung"}], user)
        services.set_corrective_actions(inspection, [
            {"item_id": i, "action": "Bổ sung", "responsible": "Trưởng trạm",
             "deadline": inspection.inspection_date + dt.timedelta(days=30)} for i in failing], user)
        # Signed last: a drawn signature covers the content as it was when signed.
        strokes = [[[0, 0], [10, 10], [20, 5]]]
        for role, name in (("head", "Nguyễn Văn An"), ("facility_rep", "Phạm Thị Dung")):
            services.save_signature(inspection, role, name, png_bytes(120, 40, (0, 0, 0)), strokes, user)
        services.submit(inspection, user)
        db.session.commit()


def write_versions(root: Path, source: Path = REAL_CHECKLISTS / "fp-quality" / "v1.yaml") -> Path:
    """A checklists folder with v1 (2021), v2 published from 2026-01-01 and v3 still a draft from 2026-06-01."""
    folder = root / "fp-quality"
    folder.mkdir(parents=True)
    text = source.read_text(encoding="utf-8")
    (folder / "v1.yaml").write_text(text, encoding="utf-8")
    v2 = text.replace("\nversion: 1\n", "\nversion: 2\n").replace("effective_from: 2021-01-01",
                                                                    "effective_from: 2026-01-01")
    (folder / "v2.yaml").write_text(v2, encoding="utf-8")
    v3 = v2.replace("\nversion: 2\n", "\nversion: 3\n").replace("effective_from: 2026-01-01",
                                                                "effective_from: 2026-06-01")
    v3 = v3.replace("\nstatus: published\n", "\nstatus: draft\n")
    (folder / "v3.yaml").write_text(v3, encoding="utf-8")
    return root
