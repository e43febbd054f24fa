"""`flask qa setup` on an empty database: the demo province, plus signed minutes and a round to look at."""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa

from qa_app.auth.models import User
from qa_app.extensions import db
from qa_app.inspections.models import Inspection
from qa_app.minutes.models import Minutes
from qa_app.rounds.models import RoundAssignment, SupervisionRound

from .conftest import make_app


def test_setup_seeds_minutes_and_a_round_that_the_pages_serve(tmp_path: Path) -> None:
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    result = app.test_cli_runner().invoke(args=["qa", "setup"])
    assert result.exit_code == 0, result.output
    assert "Signed minutes issued for the 6 most recent approved inspections" in result.output

    with app.app_context():
        # The planner's statistics are gathered after the bulk load (SQLite never gathers them by itself).
        assert db.session.scalar(sa.text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'answer'")) > 0
        minutes = db.session.scalars(sa.select(Minutes).order_by(Minutes.number)).all()
        assert len(minutes) == 6
        assert [m.number for m in minutes] == list(range(minutes[0].number, minutes[0].number + 6))  # no gap
        for m in minutes:
            assert hashlib.sha256(m.pdf).hexdigest() == m.sha256
            assert db.session.get(Inspection, m.inspection_id).status == "approved"
        first = minutes[-1]
        inspection = db.session.get(Inspection, first.inspection_id)
        approver = db.session.get(User, inspection.approved_by_id)
        rnd = db.session.scalar(sa.select(SupervisionRound))
        assert rnd is not None and "đợt II" in rnd.name
        assignments = db.session.scalars(sa.select(RoundAssignment)).all()
        supervisor = db.session.scalar(sa.select(User).where(User.username == "giamsat.td1"))
        assert assignments and {a.supervisor_id for a in assignments} == {supervisor.id}
        approver_id, supervisor_id, pdf = approver.id, supervisor.id, first.pdf

    client = app.test_client()
    with app.app_context():
        pw = db.session.get(User, approver_id).password_hash[-16:]
    with client.session_transaction() as session:
        session["user_id"], session["pw"] = approver_id, pw
    download = client.get(f"/inspections/{inspection.id}/minutes.pdf")
    assert download.status_code == 200 and download.data == pdf

    with app.app_context():
        pw = db.session.get(User, supervisor_id).password_hash[-16:]
    with client.session_transaction() as session:
        session["user_id"], session["pw"] = supervisor_id, pw
    visits = client.get("/rounds/mine?lang=vi").get_data(as_text=True)
    assert "đợt II" in visits
