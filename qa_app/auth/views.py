"""Sign in and out; loading the signed-in user; access decorators."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..extensions import db
from .forms import LoginForm
from .models import User
from .services import Throttled, authenticate, end_sessions, throttle_attempt

bp = Blueprint("auth", __name__)


@bp.before_app_request
def load_user() -> None:
    """Put the signed-in user (or None) on ``g`` for views, templates and the locale selector."""
    user_id = session.get("user_id")
    g.user = db.session.get(User, user_id) if user_id is not None else None
    if g.user is not None and (not g.user.active or session.get("pw") != g.user.password_hash[-16:]
                               or session.get("gen", 0) != g.user.session_generation):
        # Deactivated, the password changed, or the user's sessions were ended (sign-out, role or scope change,
        # "sign out everywhere") since this cookie was issued: a copy of the cookie is worth nothing now.
        session.clear()
        g.user = None


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Redirect anonymous users to the sign-in page, keeping where they wanted to go."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def roles_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Allow only these roles (403 for the others, sign-in for anonymous users)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our sign-in page.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("core.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign-in page."""
    form = LoginForm()
    if form.validate_on_submit():
        throttled = throttle_attempt(request.remote_addr or "unknown", {
            "per_address": int(current_app.config["LOGIN_LIMIT_PER_ADDRESS"]),
            "global": int(current_app.config["LOGIN_LIMIT_GLOBAL"]),
            "window": int(current_app.config["LOGIN_LIMIT_WINDOW"])})
        db.session.commit()  # counted before any password is checked, and not held locked while hashing
        if throttled is not None:
            return _throttled(form, throttled)
        user = authenticate(form.username.data, form.password.data)
        db.session.commit()
        if user is not None:
            session.clear()
            session.permanent = True
            session["user_id"] = user.id
            session["pw"] = user.password_hash[-16:]
            session["gen"] = user.session_generation
            return redirect(_safe_next(request.args.get("next")))
        # One message for every failure: no hint whether the username exists or is locked.
        flash(_("Wrong username or password, or the account is temporarily locked."), "error")
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 400


def _throttled(form: LoginForm, throttled: Throttled) -> ResponseReturnValue:
    """429 with Retry-After, saying whose attempts are too many and how long to wait."""
    minutes = max(1, math.ceil(throttled.retry_after / 60))
    if throttled.scope == "address":
        message = _("Too many sign-in attempts from your network. Wait %(minutes)d minute(s) and try again.",
                    minutes=minutes)
    else:
        message = _("The system is receiving too many sign-in attempts right now. Wait %(minutes)d minute(s) "
                    "and try again.", minutes=minutes)
    flash(message, "error")
    response = make_response(render_template("auth/login.html", form=form), 429)
    response.headers["Retry-After"] = str(throttled.retry_after)
    return response


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out (POST with a CSRF token, so a link elsewhere cannot sign someone out).

    Ends every session of this user, on every device, not only this cookie: a copy taken before the sign-out
    (a shared tablet, a stolen cookie) stops working at once. The tablet's unsent work stays on the tablet.
    """
    if g.user is not None:
        end_sessions(g.user.id)
        db.session.commit()
    session.clear()
    return redirect(url_for("auth.login"))
