"""Sign-in, sign-out, lockout, session invalidation and region scope."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Flask

from qa_app.auth.models import User
from qa_app.auth.services import (
    MAX_FAILURES,
    PasswordRuleError,
    check_password_rules,
    facility_in_scope,
)
from qa_app.extensions import db
from qa_app.facilities.models import Facility

from .. import factories as f


def setup_users(app: Flask) -> dict[str, int]:
    with app.app_context():
        units = f.two_districts()
        ids = {
            "sup": f.user("giamsat1", "supervisor", units["d1"]).id,
            "rev2": f.user("thamdinh2", "reviewer", units["d2"]).id,
            "mgr": f.user("quanly", "provincial_manager", units["province"]).id,
            "admin": f.user("admin", "admin", None).id,
        }
        ids["f1"] = f.facility("TYT-1", "Trạm Y tế xã Bản Giang", units["n1"], units["c1"]).id
        ids["f2"] = f.facility("TYT-2", "Trạm Y tế xã Mường So", units["n2"], units["c2"]).id
        db.session.commit()
    return ids


def login(client, username: str, password: str = "Mat-khau-2025"):
    return client.post("/login", data={"username": username, "password": password})


def test_login_logout_and_next(app: Flask, client) -> None:
    setup_users(app)
    assert client.get("/facilities/").status_code == 302
    response = client.post("/login?next=/facilities/", data={"username": "GiamSat1 ", "password": "Mat-khau-2025"})
    assert response.status_code == 302 and response.headers["Location"] == "/facilities/"
    assert client.get("/facilities/").status_code == 200
    client.post("/logout")
    assert client.get("/facilities/").status_code == 302


def test_open_redirect_refused(app: Flask, client) -> None:
    setup_users(app)
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        client.post("/logout")
        response = client.post(f"/login?next={target}", data={"username": "giamsat1", "password": "Mat-khau-2025"})
        assert response.headers["Location"] == "/"


def test_same_message_for_unknown_user_and_wrong_password(app: Flask, client) -> None:
    setup_users(app)
    unknown = login(client, "nobody", "whatever-123").get_data(as_text=True)
    wrong = login(client, "giamsat1", "wrong-password-1").get_data(as_text=True)
    message = "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang tạm khóa."
    assert message in unknown and message in wrong


def test_lockout_expires(app: Flask, client) -> None:
    ids = setup_users(app)
    for _ in range(MAX_FAILURES):
        login(client, "giamsat1", "wrong-password-1")
    # Locked: even the right password is refused for now…
    assert login(client, "giamsat1").status_code == 400
    with app.app_context():
        u = db.session.get(User, ids["sup"])
        assert u.locked_until is not None
        # …but the lock is temporary: once it has passed, the right password works again.
        u.locked_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db.session.commit()
    assert login(client, "giamsat1").status_code == 302


def test_password_change_ends_other_sessions(app: Flask, client) -> None:
    ids = setup_users(app)
    login(client, "giamsat1")
    assert client.get("/facilities/").status_code == 200
    with app.app_context():
        u = db.session.get(User, ids["sup"])
        u.set_password("Mot-mat-khau-moi-9")
        db.session.commit()
    assert client.get("/facilities/").status_code == 302


def test_role_required(app: Flask, client) -> None:
    setup_users(app)
    login(client, "giamsat1")
    assert client.get("/review/").status_code == 403
    assert client.get("/admin/users").status_code == 403


def test_password_rules() -> None:
    for bad in ("short1", "onlyletterslong", "1234567890123", "giamsat1-Abc-123"):
        try:
            check_password_rules(bad, "giamsat1")
        except PasswordRuleError:
            continue
        raise AssertionError(f"accepted {bad}")
    check_password_rules("Mat-khau-2025", "giamsat1")


def test_scope_in_sql_covers_both_unit_systems(app: Flask) -> None:
    ids = setup_users(app)
    with app.app_context():
        def visible(user_id: int) -> set[int]:
            u = db.session.get(User, user_id)
            return set(db.session.scalars(sa.select(Facility.id).where(facility_in_scope(u))))

        assert visible(ids["sup"]) == {ids["f1"]}  # pre-2025 district scope, via the legacy unit
        assert visible(ids["rev2"]) == {ids["f2"]}
        assert visible(ids["mgr"]) == {ids["f1"], ids["f2"]}  # 2025 province, via the current unit
        assert visible(ids["admin"]) == {ids["f1"], ids["f2"]}


def test_background_requests_do_not_write_back_an_old_session(app: Flask) -> None:
    """A response to a request sent with an older cookie must not undo a language choice or a sign-out."""
    setup_users(app)
    client = app.test_client()
    assert login(client, "giamsat1").status_code == 302
    # Opening a page slides the signed-in session's expiry: the cookie is sent again.
    assert "session=" in client.get("/", headers={"Sec-Fetch-Mode": "navigate"}).headers.get("Set-Cookie", "")
    before = client.get_cookie("session").value
    assert 'lang="en"' in client.get("/offline/?lang=en", headers={"Sec-Fetch-Mode": "navigate"}).get_data(
        as_text=True)
    chosen = client.get_cookie("session").value
    # The icon, stylesheet, service worker check or fetch() of the page before arrive last, still carrying the
    # cookie from before the choice (the modes are those the browser sends for each).
    client.set_cookie("session", before)
    for path, mode in (("/static/css/app.css", "no-cors"), ("/static/icons/icon-192.png", "no-cors"),
                       ("/sw.js", "same-origin"), ("/manifest.webmanifest", "cors"), ("/api/v1/session", "cors")):
        with client.get(path, headers={"Sec-Fetch-Mode": mode}) as response:
            assert response.status_code == 200, path
            assert "Set-Cookie" not in response.headers, path
    client.set_cookie("session", chosen)
    assert 'lang="en"' in client.get("/offline/").get_data(as_text=True)

    # Signing out on a shared tablet while an autosave is in flight: its reply must not sign the user back in.
    client.post("/logout")
    assert client.get_cookie("session") is None
    client.set_cookie("session", chosen)
    with client.get("/api/v1/session", headers={"Sec-Fetch-Mode": "cors"}) as late:
        # The sign-out ended that cookie too (not only the copy the browser dropped): 401, and a reply that can
        # at most delete the cookie, never sign anyone back in.
        assert late.status_code == 401
        assert "Set-Cookie" not in late.headers or "Expires=Thu, 01 Jan 1970" in late.headers["Set-Cookie"]
    client.delete_cookie("session")
    assert client.get("/facilities/").status_code == 302

    # A browser that does not say what a request is for keeps Flask's sliding expiry on every response.
    assert login(client, "giamsat1").status_code == 302
    with client.get("/static/css/app.css") as response:
        assert "session=" in response.headers.get("Set-Cookie", "")
