"""User administration pages: access, creation rules, edits and their audit trail."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from qa_app.audit.models import AuditEntry
from qa_app.auth.models import User
from qa_app.extensions import db

from .. import review_fixtures as rf
from ..factories import login


@pytest.fixture
def ids(app: Flask) -> dict[str, int]:
    return rf.setup_region(app)


def new_user_form(ids: dict[str, int], **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {"username": "GiamSat9", "full_name": "Đỗ Thị Chín", "position": "Chuyên viên",
                               "email": "", "role": "supervisor", "scope": str(ids["d1"]), "active": "y",
                               "password": "Bat-dau-2026x"}
    data.update(overrides)
    return data


def user_by_name(app: Flask, username: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is not None:
            db.session.expunge(user)
        return user


@pytest.mark.parametrize("who", ["sup", "rev", "mgr"])
def test_non_admins_are_refused(app: Flask, client: FlaskClient, ids: dict[str, int], who: str) -> None:
    login(client, ids[who], locale="en")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/new").status_code == 403
    assert client.post("/admin/users/new", data=new_user_form(ids)).status_code == 403
    assert client.get(f"/admin/users/{ids['sup']}/edit").status_code == 403
    assert client.post(f"/admin/users/{ids[who]}/edit", data={"role": "admin", "full_name": "x"}).status_code == 403
    assert user_by_name(app, "giamsat9") is None


def test_anonymous_is_sent_to_sign_in(client: FlaskClient, ids: dict[str, int]) -> None:
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_user_list(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["admin"], locale="en")
    page = client.get("/admin/users").get_data(as_text=True)
    for text in ("giamsat1", "Nguyễn Văn Giám", "Supervisor", "Reviewer", "Huyện Tam Đường (106)",
                 "Whole country", "active"):
        assert text in page


def test_create_user_checks_password_and_scope(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["admin"], locale="en")
    page = client.get("/admin/users/new").get_data(as_text=True)
    # The scope select offers provinces and districts of both systems, not communes.
    assert "Huyện Phong Thổ (107)" in page and "Tỉnh Lai Châu (12)" in page and "Xã Bản Giang" not in page

    response = client.post("/admin/users/new", data=new_user_form(ids, password="ngan1"))
    assert response.status_code == 400
    assert "password must have at least 10 characters" in response.get_data(as_text=True)
    response = client.post("/admin/users/new", data=new_user_form(ids, password="chilachuthoi"))
    assert "letters and digits" in response.get_data(as_text=True)
    response = client.post("/admin/users/new", data=new_user_form(ids, password="giamsat9-2026"))
    assert "must not contain the username" in response.get_data(as_text=True)
    response = client.post("/admin/users/new", data=new_user_form(ids, scope=""))
    assert response.status_code == 400 and "only an administrator may have the whole country" in \
        response.get_data(as_text=True)
    response = client.post("/admin/users/new", data=new_user_form(ids, username="giamsat1"))
    assert "This username is taken." in response.get_data(as_text=True)
    assert client.post("/admin/users/new", data=new_user_form(ids, scope="99999")).status_code == 400
    assert user_by_name(app, "giamsat9") is None

    response = client.post("/admin/users/new", data=new_user_form(ids))
    assert response.status_code == 302
    user = user_by_name(app, "giamsat9")
    assert user is not None and user.role == "supervisor" and user.scope_unit_id == ids["d1"] and user.active
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.created",
                                                              AuditEntry.entity_id == str(user.id)))
        assert entry.user_id == ids["admin"]
    # The new account can sign in.
    client.post("/logout")
    response = client.post("/login", data={"username": "giamsat9", "password": "Bat-dau-2026x"})
    assert response.status_code == 302

    # An administrator may have no scope.
    login(client, ids["admin"], locale="en")
    response = client.post("/admin/users/new", data=new_user_form(ids, username="quantri2", role="admin", scope=""))
    assert response.status_code == 302 and user_by_name(app, "quantri2").scope_unit_id is None


def test_edit_user_role_scope_active_and_password(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["admin"], locale="en")
    url = f"/admin/users/{ids['sup']}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'value="Nguyễn Văn Giám"' in page and f'<option selected value="{ids["d1"]}">' in page

    form = {"full_name": "Nguyễn Văn Giám", "position": "", "email": "", "role": "reviewer",
            "scope": str(ids["province"]), "active": "y", "password": ""}
    assert client.post(url, data={**form, "scope": ""}).status_code == 400
    assert client.post(url, data={**form, "password": "yeu"}).status_code == 400
    assert client.post(url, data=form).status_code == 302
    user = user_by_name(app, "giamsat1")
    assert user.role == "reviewer" and user.scope_unit_id == ids["province"]

    # Deactivating (no "active" in the form) and resetting the password.
    response = client.post(url, data={**{k: v for k, v in form.items() if k != "active"},
                                      "password": "Mat-khau-moi-2026"})
    assert response.status_code == 302
    user = user_by_name(app, "giamsat1")
    assert not user.active and user.check_password("Mat-khau-moi-2026")
    with app.app_context():
        actions = db.session.execute(sa.select(AuditEntry.action, AuditEntry.details, AuditEntry.user_id)
                                     .where(AuditEntry.entity_type == "user", AuditEntry.entity_id == str(ids["sup"]))
                                     .order_by(AuditEntry.id)).all()
    assert [a for a, _d, _u in actions] == ["user.updated", "user.updated", "user.password_reset"]
    assert actions[0][1] == {"before": {"role": "supervisor", "scope": ids["d1"]},
                             "after": {"role": "reviewer", "scope": ids["province"]}}
    assert actions[1][1] == {"before": {"active": True}, "after": {"active": False}}
    assert all(u == ids["admin"] for _a, _d, u in actions)
    # No password, hashed or not, in the audit log.
    assert "Mat-khau-moi" not in str(actions)


def test_admin_cannot_lock_themselves_out(app: Flask, client: FlaskClient, ids: dict[str, int]) -> None:
    login(client, ids["admin"], locale="en")
    url = f"/admin/users/{ids['admin']}/edit"
    form = {"full_name": "Quản Trị", "role": "admin", "scope": "", "active": "y", "password": ""}
    assert client.post(url, data={**form, "role": "supervisor", "scope": str(ids["d1"])}).status_code == 400
    assert client.post(url, data={k: v for k, v in form.items() if k != "active"}).status_code == 400
    assert user_by_name(app, "admin").role == "admin"
    # Resetting one's own password keeps the session.
    assert client.post(url, data={**form, "password": "Quan-tri-2026-moi"}).status_code == 302
    assert client.get("/admin/users").status_code == 200
    assert client.get("/admin/users/99999/edit").status_code == 404
