"""Sign-in that concurrency cannot out-guess, throttles kept in the database, and sessions that can be ended.

The concurrent tests use a SQLite file (WAL), or the PostgreSQL test database when QA_TEST_DATABASE_URL names one.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.audit.models import AuditEntry
from qa_app.auth.models import User
from qa_app.extensions import db

from ..conftest import make_app, reset_schema
from .test_auth import login, setup_users

PASSWORD = "Mat-khau-2025"


def shared_app(tmp_path: Path, **config: object) -> Flask:
    url = os.environ.get("QA_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'signin.sqlite3'}"
    return make_app(tmp_path, SQLALCHEMY_DATABASE_URI=url, **config)


@pytest.fixture
def file_app(tmp_path: Path) -> Iterator[Flask]:
    app = shared_app(tmp_path, LOGIN_LIMIT_PER_ADDRESS=1000, LOGIN_LIMIT_GLOBAL=1000)
    app.config["PROPAGATE_EXCEPTIONS"] = False
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


def user_row(app: Flask, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        db.session.expunge(user)
        db.session.remove()
        return user


# ---------------------------------------------------------------------------------------------- lockout


def test_forty_concurrent_wrong_passwords_lock_the_account(file_app: Flask) -> None:
    app = file_app
    setup_users(app)
    barrier = threading.Barrier(40)
    statuses: list[int] = []
    lock = threading.Lock()

    def guess(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = login(client, "giamsat1", f"Sai-mat-khau-{n}")
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [400] * 40  # every one refused, none crashed
    user = user_row(app, "giamsat1")
    assert user.locked_until is not None
    # The right password now does not sign in: the burst could not overwrite its own count.
    client = app.test_client()
    assert login(client, "giamsat1").status_code == 400
    assert client.get("/api/v1/session").status_code == 401
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "user.locked")) >= 1


# ---------------------------------------------------------------------------------------------- throttles


def test_per_address_throttle_answers_429_with_retry_after(tmp_path: Path) -> None:
    app = shared_app(tmp_path, LOGIN_LIMIT_PER_ADDRESS=3, LOGIN_LIMIT_GLOBAL=1000, LOGIN_LIMIT_WINDOW=300)
    # A second app server on the same database: the count is in the database, not in a worker's memory.
    other = shared_app(tmp_path, LOGIN_LIMIT_PER_ADDRESS=3, LOGIN_LIMIT_GLOBAL=1000, LOGIN_LIMIT_WINDOW=300)
    with app.app_context():
        reset_schema()
        db.create_all()
    setup_users(app)
    try:
        one, two = app.test_client(), other.test_client()
        assert login(one, "admin", "Sai-1").status_code == 400
        assert login(two, "quanly", "Sai-2").status_code == 400
        assert login(one, "giamsat1", "Sai-3").status_code == 400
        # The fourth attempt from 127.0.0.1, even with the right password (in English here).
        response = two.post("/login?lang=en", data={"username": "giamsat1", "password": PASSWORD})
        assert response.status_code == 429
        assert 0 < int(response.headers["Retry-After"]) <= 301
        assert "Too many sign-in attempts from your network" in response.get_data(as_text=True)
        assert two.get("/api/v1/session").status_code == 401
        # Another address is not held back by this one.
        other_address = app.test_client()
        other_address.environ_base["REMOTE_ADDR"] = "10.1.2.3"
        assert login(other_address, "giamsat1").status_code == 302
        # In Vietnamese by default.
        vi = app.test_client()
        page = login(vi, "giamsat1").get_data(as_text=True)
        assert "Có quá nhiều lần đăng nhập từ mạng của bạn" in page
    finally:
        for a in (app, other):
            with a.app_context():
                db.session.remove()
                if db.engine.dialect.name != "sqlite":
                    db.drop_all()
                db.engine.dispose()


def test_global_throttle_answers_429_whatever_the_address(app: Flask) -> None:
    app.config.update(LOGIN_LIMIT_PER_ADDRESS=1000, LOGIN_LIMIT_GLOBAL=4)
    setup_users(app)
    for n in range(4):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n}"
        assert login(client, "giamsat1", "Sai-mat-khau").status_code == 400
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    response = client.post("/login?lang=en", data={"username": "giamsat1", "password": PASSWORD})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "receiving too many sign-in attempts" in response.get_data(as_text=True)


def test_window_expires(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    # The throttle's clock is moved by hand: a real one-second window failed when two sign-ins (each a password
    # hash) took longer than the window on a loaded machine.
    import qa_app.auth.services

    clock = [dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)]
    monkeypatch.setattr(qa_app.auth.services, "utcnow", lambda: clock[0])
    app.config.update(LOGIN_LIMIT_PER_ADDRESS=1, LOGIN_LIMIT_WINDOW=60)
    setup_users(app)
    client = app.test_client()
    assert login(client, "giamsat1", "Sai").status_code == 400
    clock[0] += dt.timedelta(seconds=59)
    assert login(client, "giamsat1").status_code == 429
    clock[0] += dt.timedelta(seconds=2)  # the window has ended
    assert login(client, "giamsat1").status_code == 302


def test_ended_windows_of_other_addresses_are_forgotten(app: Flask) -> None:
    from qa_app.auth.models import LoginThrottle
    from qa_app.auth.services import throttle_attempt

    limits = {"per_address": 10, "global": 1000, "window": 60}
    start = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    with app.app_context():
        throttle_attempt("10.0.0.1", limits, now=start)
        throttle_attempt("10.0.0.2", limits, now=start + dt.timedelta(seconds=45))
        db.session.commit()
        # 90 s later the first address's window has ended, the second's has not.
        throttle_attempt("10.0.0.3", limits, now=start + dt.timedelta(seconds=90))
        db.session.commit()
        keys = set(db.session.scalars(sa.select(LoginThrottle.key)))
    assert keys == {"addr:10.0.0.2", "addr:10.0.0.3", "global"}


# ---------------------------------------------------------------------------------------------- enumeration


def test_unknown_and_known_usernames_cost_the_same(app: Flask) -> None:
    app.config.update(LOGIN_LIMIT_PER_ADDRESS=1000, LOGIN_LIMIT_GLOBAL=1000)
    setup_users(app)
    client = app.test_client()

    # Measured interleaved: the known account's failures reset between rounds so it never locks.
    known_times, unknown_times = [], []
    for n in range(20):
        if n % 4 == 0:
            with app.app_context():
                db.session.execute(sa.update(User).values(failed_logins=0, locked_until=None))
                db.session.commit()
        for username, bucket in (("giamsat1", known_times), ("khongtontai", unknown_times)):
            start = time.perf_counter()
            assert login(client, username, "Sai-mat-khau-9").status_code == 400
            bucket.append(time.perf_counter() - start)
    known_median, unknown_median = statistics.median(known_times), statistics.median(unknown_times)
    # A comparison of the two, not a speed assertion: both pay one password hash.
    assert abs(known_median - unknown_median) <= 0.2 * max(known_median, unknown_median), \
        (known_median, unknown_median)


# ---------------------------------------------------------------------------------------------- ending sessions


def replay_everywhere(app: Flask, cookie: str) -> None:
    """A stolen or stale cookie: a page asks to sign in, the API and sync answer 401."""
    client = app.test_client()
    client.set_cookie("session", cookie)
    page = client.get("/facilities/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    api = client.get("/api/v1/session")
    assert api.status_code == 401 and api.get_json()["error"] == "unauthenticated"
    sync = client.post("/api/v1/sync/inspections", json={"uuid": "4f1f0c5e-8f1c-4c39-9a38-6d7d1a2b3c4d"},
                       headers={"Idempotency-Key": "4f1f0c5e-8f1c-4c39-9a38-6d7d1a2b3c4d"})
    assert sync.status_code == 401 and sync.get_json()["error"] == "unauthenticated"
    answer = client.put("/api/v1/inspections/1/answers/A5", json={"value": "met", "base_revision": 0})
    assert answer.status_code == 401


def signed_in_cookie(app: Flask, client: FlaskClient, username: str) -> str:
    assert login(client, username).status_code == 302
    assert client.get("/api/v1/session").status_code == 200
    return client.get_cookie("session").value


def test_a_cookie_copied_before_logout_is_dead(app: Flask) -> None:
    setup_users(app)
    client = app.test_client()
    copy = signed_in_cookie(app, client, "giamsat1")
    assert client.post("/logout").status_code == 302
    replay_everywhere(app, copy)
    # Signing in again works, with a new cookie.
    assert signed_in_cookie(app, app.test_client(), "giamsat1") != copy


def test_a_role_change_ends_every_session(app: Flask) -> None:
    ids = setup_users(app)
    tablet = app.test_client()
    copy = signed_in_cookie(app, tablet, "giamsat1")
    admin = app.test_client()
    assert login(admin, "admin").status_code == 302
    with app.app_context():
        scope = db.session.get_one(User, ids["sup"]).scope_unit_id
    response = admin.post(f"/admin/users/{ids['sup']}/edit", data={
        "full_name": "Giamsat1", "position": "", "email": "", "role": "reviewer", "scope": str(scope),
        "active": "y"})
    assert response.status_code == 302
    replay_everywhere(app, copy)
    assert tablet.get("/api/v1/session").status_code == 401


def test_sign_out_everywhere_button_and_command(app: Flask) -> None:
    ids = setup_users(app)
    copy = signed_in_cookie(app, app.test_client(), "giamsat1")
    admin = app.test_client()
    assert login(admin, "admin").status_code == 302
    assert "Đăng xuất trên mọi thiết bị" in admin.get("/admin/users").get_data(as_text=True)
    assert admin.post(f"/admin/users/{ids['sup']}/sign-out").status_code == 302
    replay_everywhere(app, copy)
    assert admin.get("/admin/users").status_code == 200  # the administrator's own session is untouched

    copy = signed_in_cookie(app, app.test_client(), "giamsat1")
    result = app.test_cli_runner().invoke(args=["users", "sign-out", "giamsat1"])
    assert result.exit_code == 0, result.output
    replay_everywhere(app, copy)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "user.signed_out_everywhere")) == 2
