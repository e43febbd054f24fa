"""Review decisions sent at the same moment: exactly one wins, the other gets 409, nothing half-done remains.

Each race runs from two threads against one app AND from two forked processes (each with its own connection
pool, like two gunicorn workers), on a SQLite file (WAL) or on PostgreSQL when QA_TEST_DATABASE_URL names one.

Tries per race: ``QA_RACE_TRIES`` (default 8 for threads and 4 for processes). Every try builds a complete
inspection and an approval signs a PDF, so 50 tries of four races in two modes take minutes on a 2-core machine;
the issue's 50 is one environment variable away (``QA_RACE_TRIES=50``).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from qa_app.audit.models import AuditEntry
from qa_app.auth.models import User
from qa_app.extensions import db
from qa_app.inspections import services
from qa_app.inspections.models import Answer, Inspection
from qa_app.minutes.models import Minutes

from .. import review_fixtures as rf
from ..conftest import make_app, reset_schema
from ..factories import login

THREAD_TRIES = int(os.environ.get("QA_RACE_TRIES", "8"))
PROCESS_TRIES = int(os.environ.get("QA_RACE_TRIES", "4"))

# A request: (user key, method, path, JSON body or None, form data or None).
Request = tuple[str, str, str, dict[str, Any] | None, dict[str, str] | None]


@pytest.fixture
def race_app(tmp_path: Path) -> Iterator[Flask]:
    url = os.environ.get("QA_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'race.sqlite3'}"
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=url)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must show up as a 500, counted as a failure
    with app.app_context():
        reset_schema()
        db.create_all()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name != "sqlite":
            db.drop_all()
        db.engine.dispose()


def send(app: Flask, ids: dict[str, int], request: Request) -> tuple[int, dict[str, Any]]:
    """Sign in as the request's user on a fresh client and send it; (status, JSON body or {})."""
    user, method, path, body, form = request
    client = app.test_client()
    login(client, ids[user], locale="en")
    headers = {"Accept": "application/json"}
    if body is not None:
        response = client.open(path, method=method, json=body, headers=headers)
    else:
        response = client.open(path, method=method, data=form or {}, headers=headers)
    return response.status_code, (response.get_json(silent=True) or {})


def race_threads(app: Flask, ids: dict[str, int], requests: list[Request]) -> list[int]:
    """Send the requests together from one thread each; their statuses in order."""
    barrier = threading.Barrier(len(requests))
    results: list[int] = [0] * len(requests)

    def run(n: int) -> None:
        barrier.wait()
        results[n] = send(app, ids, requests[n])[0]

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _worker(app: Flask, ids: dict[str, int], jobs: Any, results: Any, barrier: Any, index: int) -> None:
    # A forked child must not share its parent's database connections: open its own, like a gunicorn worker.
    with app.app_context():
        db.engine.dispose(close=False)
    while (request := jobs.get()) is not None:
        barrier.wait()
        try:
            status = send(app, ids, request)[0]
        except Exception:  # noqa: BLE001 - reported to the parent as a failure
            status = -1
        results.put((index, status))


class ProcessRacer:
    """Two (or more) forked workers that each send one request of a try at the same moment."""

    def __init__(self, app: Flask, ids: dict[str, int], count: int = 2) -> None:
        ctx = mp.get_context("fork")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()  # nothing open to inherit
        self.barrier = ctx.Barrier(count)
        self.results = ctx.Queue()
        self.jobs = [ctx.Queue() for _ in range(count)]
        self.procs = [ctx.Process(target=_worker, args=(app, ids, self.jobs[n], self.results, self.barrier, n),
                                  daemon=True) for n in range(count)]
        for proc in self.procs:
            proc.start()

    def race(self, requests: list[Request]) -> list[int]:
        for queue, request in zip(self.jobs, requests, strict=True):
            queue.put(request)
        statuses = [0] * len(requests)
        for _ in requests:
            index, status = self.results.get(timeout=120)
            statuses[index] = status
        return statuses

    def close(self) -> None:
        for queue in self.jobs:
            queue.put(None)
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()


Racer = Callable[[list[Request]], list[int]]


@pytest.fixture(params=["threads", "processes"])
def racer(request: pytest.FixtureRequest, race_app: Flask) -> Iterator[tuple[Flask, dict[str, int], Racer, int]]:
    ids = rf.setup_region(race_app)
    if request.param == "threads":
        yield race_app, ids, lambda reqs: race_threads(race_app, ids, reqs), THREAD_TRIES
        return
    workers = ProcessRacer(race_app, ids)
    try:
        yield race_app, ids, workers.race, PROCESS_TRIES
    finally:
        workers.close()


# ---------------------------------------------------------------------------------------------- checks


def state(app: Flask, inspection_id: int) -> dict[str, Any]:
    with app.app_context():
        inspection = db.session.get_one(Inspection, inspection_id)
        audit = db.session.execute(
            sa.select(AuditEntry.action, AuditEntry.user_id).where(
                AuditEntry.entity_type == "inspection", AuditEntry.entity_id == str(inspection_id))
            .order_by(AuditEntry.id)).all()
        minutes = db.session.scalars(sa.select(Minutes).where(Minutes.inspection_id == inspection_id)).all()
        # Filed minutes record the audit log's head at filing (checked by `flask audit verify`).
        assert all(m.audit_seq is not None and len(m.audit_hash or "") == 64 for m in minutes)
        issued_by = db.session.scalars(sa.select(AuditEntry.user_id).where(
            AuditEntry.action == "minutes.issued", AuditEntry.entity_id.in_([str(m.id) for m in minutes]))).all()
        answers = {a.item_id: (a.value, a.note, a.revision) for a in db.session.scalars(
            sa.select(Answer).where(Answer.inspection_id == inspection_id))}
        result = {"status": inspection.status, "revision": inspection.revision,
                  "approved_by": inspection.approved_by_id, "audit": [a for a, _u in audit],
                  "minutes": len(minutes), "issued_by": issued_by, "answers": answers}
        db.session.remove()
        return result


def one_winner(statuses: list[int]) -> int:
    """The index of the single 2xx/3xx answer; every other one must be 409."""
    winners = [n for n, s in enumerate(statuses) if s < 400]
    assert len(winners) == 1, statuses
    assert all(s == 409 for n, s in enumerate(statuses) if n != winners[0]), statuses
    return winners[0]


def assert_final_approval(app: Flask, ids: dict[str, int], inspection_id: int, approver: str) -> None:
    after = state(app, inspection_id)
    assert after["status"] == "approved"
    assert after["audit"].count("inspection.approved") == 1
    assert after["minutes"] == 1 and after["issued_by"] == [ids[approver]]
    assert after["approved_by"] == ids[approver]
    # Answers are locked for good: an autosave after approval is refused and changes nothing.
    item = next(iter(after["answers"]))
    status, body = send(app, ids, ("sup", "PUT", f"/api/v1/inspections/{inspection_id}/answers/{item}",
                                   {"note": "sau phê duyệt", "base_revision": after["answers"][item][2]}, None))
    assert status == 409 and body["error"] == "locked"
    assert state(app, inspection_id)["answers"] == after["answers"]


# ---------------------------------------------------------------------------------------------- races


def test_approve_against_return(racer: tuple[Flask, dict[str, int], Racer, int]) -> None:
    app, ids, race, tries = racer
    for _ in range(tries):
        inspection_id = rf.submitted(app, ids)
        seen = state(app, inspection_id)["revision"]
        statuses = race([
            ("rev", "POST", f"/review/inspections/{inspection_id}/approve", None,
             {"revision": str(seen), "confirm": "1"}),
            ("mgr", "POST", f"/review/inspections/{inspection_id}/return", None,
             {"revision": str(seen), "comment": "Bổ sung ảnh minh chứng"})])
        winner = one_winner(statuses)
        after = state(app, inspection_id)
        if winner == 0:
            assert "inspection.returned" not in after["audit"]
            assert_final_approval(app, ids, inspection_id, "rev")
        else:
            assert after["status"] == "returned" and after["minutes"] == 0
            assert "inspection.approved" not in after["audit"] and after["approved_by"] is None


def test_approve_against_approve(racer: tuple[Flask, dict[str, int], Racer, int]) -> None:
    app, ids, race, tries = racer
    for n in range(tries):
        inspection_id = rf.submitted(app, ids)
        first, second = ("rev", "mgr") if n % 2 else ("mgr", "rev")
        path = f"/review/inspections/{inspection_id}/approve"
        statuses = race([(first, "POST", path, None, {"confirm": "1"}), (second, "POST", path, None, {"confirm": "1"})])
        winner = one_winner(statuses)
        assert_final_approval(app, ids, inspection_id, (first, second)[winner])


def test_submit_against_autosave(racer: tuple[Flask, dict[str, int], Racer, int]) -> None:
    app, ids, race, tries = racer
    from .test_review import finish_form

    for _ in range(tries):
        inspection_id = rf.complete(app, ids)
        before = state(app, inspection_id)
        item = next(i for i, (value, _note, _rev) in before["answers"].items() if value == "met")
        form = {**finish_form(app, inspection_id), "do": "submit"}
        statuses = race([
            ("sup", "POST", f"/review/inspections/{inspection_id}/finish", None, form),
            ("sup", "PUT", f"/api/v1/inspections/{inspection_id}/answers/{item}",
             {"note": "ghi chú muộn", "base_revision": before["answers"][item][2]}, None)])
        winner = one_winner(statuses)
        after = state(app, inspection_id)
        if winner == 0:
            assert after["status"] == "submitted"
            assert after["answers"][item] == before["answers"][item]  # the late note never landed
            assert after["audit"].count("inspection.submitted") == 1
        else:
            assert after["status"] == "draft" and "inspection.submitted" not in after["audit"]
            assert after["answers"][item][1] == "ghi chú muộn"


def test_return_against_resubmit(racer: tuple[Flask, dict[str, int], Racer, int]) -> None:
    """A second reviewer returns from a page built before the first return, while the supervisor resubmits."""
    app, ids, race, tries = racer
    from .test_review import finish_form

    for _ in range(tries):
        inspection_id = rf.submitted(app, ids)
        stale = state(app, inspection_id)["revision"]
        with app.app_context():
            inspection = db.session.get_one(Inspection, inspection_id)
            services.return_inspection(inspection, db.session.get_one(User, ids["rev"]), "Thiếu chữ ký")
            db.session.commit()
        form = {**finish_form(app, inspection_id), "do": "submit"}
        statuses = race([
            ("sup", "POST", f"/review/inspections/{inspection_id}/finish", None, form),
            ("mgr", "POST", f"/review/inspections/{inspection_id}/return", None,
             {"revision": str(stale), "comment": "Trả lại lần nữa"})])
        # Whatever the order, the stale return never lands: the resubmission is what the manager must read.
        assert one_winner(statuses) == 0
        after = state(app, inspection_id)
        assert after["status"] == "submitted"
        assert after["audit"].count("inspection.returned") == 1
        assert after["audit"].count("inspection.resubmitted") == 1


def test_closing_a_corrective_action_twice(racer: tuple[Flask, dict[str, int], Racer, int]) -> None:
    from qa_app.inspections.models import CorrectiveAction

    app, ids, race, tries = racer
    for _ in range(tries):
        inspection_id = rf.submitted(app, ids)
        with app.app_context():
            action_id = db.session.scalar(sa.select(CorrectiveAction.id)
                                          .where(CorrectiveAction.inspection_id == inspection_id))
            db.session.remove()
        path = f"/review/actions/{action_id}/done"
        statuses = race([("sup", "POST", path, None, {"evidence": "Đã niêm yết bảng giá"}),
                         ("rev", "POST", path, None, {"evidence": "Đã kiểm tra tại chỗ"})])
        winner = one_winner(statuses)
        with app.app_context():
            action = db.session.get_one(CorrectiveAction, action_id)
            closed = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "corrective_action.done", AuditEntry.entity_id == str(action_id)))
            assert action.status == "done" and closed == 1
            assert action.done_by_id == ids[("sup", "rev")[winner]]
            db.session.remove()


def test_a_submit_that_lost_can_be_sent_again_from_the_page_it_got(race_app: Flask) -> None:
    import re

    from .test_review import finish_form

    app = race_app
    ids = rf.setup_region(app)
    inspection_id = rf.complete(app, ids)
    form = {**finish_form(app, inspection_id), "do": "submit"}
    client = app.test_client()
    login(client, ids["sup"], locale="en")
    # An autosave lands after the finishing page was built.
    item = next(iter(state(app, inspection_id)["answers"]))
    assert send(app, ids, ("sup", "PUT", f"/api/v1/inspections/{inspection_id}/answers/{item}",
                           {"note": "sửa sau", "base_revision": state(app, inspection_id)["answers"][item][2]},
                           None))[0] == 200
    lost = client.post(f"/review/inspections/{inspection_id}/finish", data=form)
    assert lost.status_code == 409 and "changed since you opened this page" in lost.get_data(as_text=True)
    shown = re.search(r'name="revision"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="revision"',
                      lost.get_data(as_text=True))
    revision = next(v for v in shown.groups() if v)
    assert int(revision) == state(app, inspection_id)["revision"]
    # The other tablet's note changed the record the two drawn signatures covered: sending the page again
    # cannot file them under content they never saw. It is refused (nothing submitted) until both sign again.
    refused = client.post(f"/review/inspections/{inspection_id}/finish", data={**form, "revision": revision})
    assert refused.status_code == 302 and state(app, inspection_id)["status"] == "draft"
    assert "sign again" in client.get(refused.headers["Location"]).get_data(as_text=True)
    from .test_review import sign

    for role, name in (("head", "Nguyễn Văn Giám"), ("facility_rep", "Hoàng Văn Trạm"), ("member", "Lê Thị Ba")):
        assert sign(client, inspection_id, role, name=name).status_code == 201
    page = client.get(f"/review/inspections/{inspection_id}/finish").get_data(as_text=True)
    shown = re.search(r'name="revision"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="revision"', page)
    revision = next(v for v in shown.groups() if v)
    again = client.post(f"/review/inspections/{inspection_id}/finish", data={**form, "revision": revision})
    assert again.status_code == 302 and state(app, inspection_id)["status"] == "submitted"


def test_two_results_of_one_facility_approved_at_once(racer: tuple[Flask, dict[str, int], Racer, int]) -> None:
    """Two reviewers approve two different inspections of the same facility at the same moment: both win, and the
    facility's result intervals (the compliance read model) hold both, as a recomputation gives them."""
    from qa_app.inspections import status
    from qa_app.inspections.models import StatusInterval

    app, ids, race, tries = racer
    for _ in range(tries):
        first, second = rf.submitted(app, ids), rf.submitted(app, ids)
        statuses = race([("rev", "POST", f"/review/inspections/{first}/approve", None, {"confirm": "1"}),
                         ("mgr", "POST", f"/review/inspections/{second}/approve", None, {"confirm": "1"})])
        assert all(s < 400 for s in statuses), statuses
        with app.app_context():
            facility = db.session.get_one(Inspection, first).facility_id
            assert status.check() == []
            stored = set(db.session.scalars(sa.select(StatusInterval.inspection_id)
                                            .where(StatusInterval.facility_id == facility)))
            assert {first, second} <= stored
            db.session.remove()
