"""Locale selection, locale-aware formatting helpers and the `flask translate` commands."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask, current_app, g, request, session
from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale

from .config import PROJECT_ROOT

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    """The user's choice (?lang=, kept in the session), then their profile, then the default (Vietnamese)."""
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang")
    if chosen in languages:
        session["locale"] = chosen
        return chosen
    if session.get("locale") in languages:
        return session["locale"]
    user = g.get("user")
    if user is not None and user.locale in languages:
        return user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def pct(value: float | None, digits: int = 1) -> str:
    """A percentage (0–100) in the user's locale: 75,5 % in Vietnamese, 75.5% in English."""
    if value is None:
        return "—"
    fmt = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    return format_percent(float(value) / 100, format=fmt)


def num(value: float | None, digits: int = 1) -> str:
    """A number in the user's locale."""
    if value is None:
        return "—"
    return format_decimal(value, format="#,##0." + "#" * digits if digits else "#,##0")


def date(value: dt.date | None) -> str:
    """A date as Vietnamese officials write it (22/11/2026), or the English medium form (22 Nov 2026)."""
    if value is None:
        return "—"
    locale = get_locale()
    return format_date(value, "dd/MM/yyyy" if locale is None or locale.language == "vi" else "d MMM yyyy")


def datetime(value: dt.datetime | None) -> str:
    """A timestamp in the configured time zone (Asia/Ho_Chi_Minh), e.g. 22/11/2026 14:05."""
    if value is None:
        return "—"
    locale = get_locale()
    return format_datetime(value, "dd/MM/yyyy HH:mm" if locale is None or locale.language == "vi"
                           else "d MMM yyyy HH:mm")


def init_app(app: Flask) -> None:
    """Register the template helpers and the translate commands."""
    app.jinja_env.filters["pct"] = pct
    app.jinja_env.filters["num"] = num
    app.jinja_env.filters["date"] = date
    app.jinja_env.filters["datetime"] = datetime
    app.jinja_env.globals["get_locale"] = get_locale
    app.cli.add_command(translate)


@click.group()
def translate() -> None:
    """Extract, update and compile the interface translations."""


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=PROJECT_ROOT)


@translate.command("update")
def translate_update() -> None:
    """Extract messages from code and templates and merge them into every catalogue."""
    pot = TRANSLATIONS / "messages.pot"
    _pybabel("extract", "-F", "pyproject.toml", "-k", "_l", "--sort-by-file", "--no-wrap",
             "-o", str(pot), "qa_app", "templates")
    _pybabel("update", "-i", str(pot), "-d", str(TRANSLATIONS), "--no-wrap", "--ignore-obsolete")


@translate.command("compile")
def translate_compile() -> None:
    """Compile the catalogues to .mo files."""
    _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")
