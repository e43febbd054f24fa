"""User administration: list, create and edit accounts (administrators only); every change is audited."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, g, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from ..areas.models import ServiceArea
from ..areas.services import all_areas
from ..audit.services import record
from ..auth.models import User
from ..auth.services import PasswordRuleError, create_user, end_sessions, set_scope
from ..auth.views import roles_required
from ..extensions import db, utcnow
from ..regions.models import AdminUnit
from .forms import ROLE_LABELS, EditUserForm, NewUserForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _system_label(system: str) -> str:
    return _("Before 1 July 2025") if system == "pre2025" else _("From 1 July 2025")


def _scope_choices() -> list[SelectChoice]:
    """Provinces and districts of both unit systems, grouped by system, each province followed by its districts."""
    units = db.session.scalars(
        sa.select(AdminUnit).options(joinedload(AdminUnit.parent))
        .where(AdminUnit.level.in_(("province", "district")))
        .order_by(AdminUnit.system.desc(), AdminUnit.path)).all()
    choices = [SelectChoice("", _("Whole country (administrators only)"))]
    for unit in units:
        label = unit.label if unit.level == "province" else f"— {unit.label}, {unit.parent.name}"
        choices.append(SelectChoice(str(unit.id), label, optgroup=_system_label(unit.system)))
    # Service areas: only reviewers and managers may take one (checked when saving).
    for area in all_areas():
        choices.append(SelectChoice(f"area:{area.id}", f"{area.label}, {area.province.name}",
                                    optgroup=_("Service areas")))
    return choices


def _unit_label(unit: AdminUnit | None, area: ServiceArea | None = None) -> str:
    if area is not None:
        return f"{area.label} · {_('Service area')}"
    if unit is None:
        return _("Whole country")
    return f"{unit.label} · {_system_label(unit.system)}"


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"role_label": lambda role: str(ROLE_LABELS.get(role, role)), "unit_label": _unit_label}


@bp.get("/users")
@roles_required("admin")
def users() -> ResponseReturnValue:
    """Every account with its role, region and whether it is active."""
    rows = db.session.scalars(sa.select(User).options(joinedload(User.scope_unit), joinedload(User.scope_area))
                              .order_by(User.username)).all()
    return render_template("admin/users.html", users=rows, now=utcnow())


def _scope(form: UserForm) -> tuple[AdminUnit | None, ServiceArea | None]:
    """(unit, area) chosen in the form: a unit id, or "area:<id>"."""
    value = form.scope.data or ""
    if value.startswith("area:"):
        return None, db.session.get(ServiceArea, int(value[5:]))
    return (db.session.get(AdminUnit, int(value)) if value else None), None


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user() -> ResponseReturnValue:
    """Create an account."""
    form = NewUserForm()
    form.scope.choices = _scope_choices()
    if form.validate_on_submit():
        try:
            unit, area = _scope(form)
            user = create_user(form.username.data, form.password.data, form.full_name.data, form.role.data,
                               unit, position=form.position.data or "", actor_id=g.user.id, area=area)
        except PasswordRuleError as exc:
            db.session.rollback()
            form.password.errors.append(_("The password breaks a rule: %(rule)s.", rule=str(exc)))
        except ValueError as exc:
            db.session.rollback()
            if "taken" in str(exc):
                form.username.errors.append(_("This username is taken."))
            else:
                form.scope.errors.append(str(exc))
        else:
            user.email = form.email.data or None
            if not form.active.data:
                user.active = False
                record("user.updated", "user", user.id, user_id=g.user.id,
                       details={"before": {"active": True}, "after": {"active": False}})
            db.session.commit()
            flash(_("Account %(username)s created.", username=user.username), "success")
            return redirect(url_for(".users"))
    return render_template("admin/user_form.html", form=form, user=None), 400 if form.errors else 200


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id: int) -> ResponseReturnValue:
    """Change an account's name, role, region or active flag, or reset its password."""
    user = db.get_or_404(User, user_id)
    form = EditUserForm(obj=user, username=user.username)
    form.scope.choices = _scope_choices()
    if not form.is_submitted():
        form.scope.data = (f"area:{user.scope_area_id}" if user.scope_area_id
                           else str(user.scope_unit_id) if user.scope_unit_id else "")
    if form.validate_on_submit():
        unit, area = _scope(form)
        if user.id == g.user.id and (form.role.data != "admin" or not form.active.data):
            # The last door in must not be closed from the inside.
            form.role.errors.append(_("You cannot remove your own administrator role or deactivate yourself."))
        else:
            before = {"full_name": user.full_name, "position": user.position, "email": user.email,
                      "role": user.role, "scope": user.scope_unit_id, "area": user.scope_area_id,
                      "active": user.active}
            user.full_name, user.position = form.full_name.data, form.position.data or ""
            user.email, user.role = form.email.data or None, form.role.data
            set_scope(user, unit, area)
            user.active = form.active.data
            after = {"full_name": user.full_name, "position": user.position, "email": user.email,
                     "role": user.role, "scope": user.scope_unit.id if user.scope_unit else None,
                     "area": user.scope_area.id if user.scope_area else None, "active": user.active}
            changed = [k for k in before if before[k] != after[k]]
            db.session.flush()
            if changed:
                record("user.updated", "user", user.id, user_id=g.user.id,
                       details={"before": {k: before[k] for k in changed}, "after": {k: after[k] for k in changed}})
            if form.password.data:
                user.set_password(form.password.data)
                # A reset also lifts a lockout: the administrator has just vouched for the account.
                user.failed_logins, user.locked_until = 0, None
                db.session.flush()
                record("user.password_reset", "user", user.id, user_id=g.user.id)
            if form.password.data or {"role", "scope", "area", "active"} & set(changed):
                # What the account may do changed: every open session of it (every device, the tablet's sync
                # included) ends now instead of carrying the old rights for hours.
                end_sessions(user.id)
            db.session.commit()
            if user.id == g.user.id and form.password.data:
                # Other sessions of this account end with the new password; keep this one.
                session["pw"] = user.password_hash[-16:]
                session["gen"] = user.session_generation
            if changed or form.password.data:
                flash(_("Account %(username)s updated.", username=user.username), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for(".users"))
    return render_template("admin/user_form.html", form=form, user=user), 400 if form.errors else 200


@bp.post("/users/<int:user_id>/sign-out")
@roles_required("admin")
def sign_out_everywhere(user_id: int) -> ResponseReturnValue:
    """End every session of an account on every device (a lost tablet, a shared password)."""
    user = db.get_or_404(User, user_id)
    end_sessions(user.id)
    record("user.signed_out_everywhere", "user", user.id, user_id=g.user.id)
    db.session.commit()
    if user.id == g.user.id:
        session.clear()
        return redirect(url_for("auth.login"))
    flash(_("Every session of %(username)s has ended; they must sign in again on each device.",
            username=user.username), "success")
    return redirect(url_for(".users"))
