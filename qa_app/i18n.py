"""Locale selection, locale-aware formatting helpers and the `flask translate` commands."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlencode

import click
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale, get_timezone

from .config import PROJECT_ROOT

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def local_today() -> dt.date:
    """Today in the configured time zone (Asia/Ho_Chi_Minh): Vietnam's day starts 7 hours before UTC's, so a
    server's own date would put an inspection of this morning in tomorrow for seven hours of every day."""
    return dt.datetime.now(get_timezone()).date()


def select_locale() -> str:
    """The user's choice (?lang=, kept in the session), then their profile, then the default (Vietnamese)."""
    if not has_request_context():
        # CLI commands and scripts translate too (e.g. a password rule message): the configured default.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
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


def remember_language() -> None:
    """Keep a ?lang= choice even when the view answers with a redirect.

    Flask-Babel calls the locale selector lazily, on the first translated string; a view that only redirects
    never translates anything, so without this hook the choice made on that URL would be lost.
    """
    chosen = request.args.get("lang")
    if chosen in current_app.config["LANGUAGES"]:
        session["locale"] = chosen


def pct(value: float | None, digits: int = 1) -> str:
    """A percentage (0–100) in the user's locale: 75,5 % in Vietnamese, 75.5% in English."""
    if value is None:
        return "—"
    from .core.rounding import round_half_up

    fmt = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    # Rounded here, half up, so that Babel (half to even) has nothing left to round: the API gives the same.
    return format_percent(round_half_up(float(value), digits) / 100, format=fmt)


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


class FormTranslations:
    """WTForms' validation messages from the app's own catalogue (see qa_app/form_messages.py).

    Flask-WTF looks them up in WTForms' bundled catalogues, which have no Vietnamese, so a Vietnamese page said
    "This field is required.". WTForms formats the result itself, so nothing is %-formatted here.
    """

    def gettext(self, string: str) -> str:
        from flask_babel import get_translations

        return str(get_translations().ugettext(string)) if has_request_context() else string

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        from flask_babel import get_translations

        if not has_request_context():
            return singular if n == 1 else plural
        return str(get_translations().ungettext(singular, plural, n))


def lang_url(code: str) -> str:
    """This page in another language, keeping its query (a dashboard's date and unit, a list's filters)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    # The path quoted again: decoded, "/%5Cevil.com" would become a link that browsers read as //evil.com.
    return f"{request.script_root}{quote(request.path)}?{urlencode([*args, ('lang', code)])}"


def init_app(app: Flask) -> None:
    """Register the template helpers and the translate commands."""
    import flask_wtf.form

    # Every FlaskForm's Meta.get_translations returns this module-level object (while WTF_I18N_ENABLED is on).
    flask_wtf.form.translations = FormTranslations()
    app.jinja_env.filters["pct"] = pct
    app.jinja_env.filters["num"] = num
    app.jinja_env.filters["date"] = date
    app.jinja_env.filters["datetime"] = datetime
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["lang_url"] = lang_url
    app.cli.add_command(translate)
    app.before_request(remember_language)


@click.group()
def translate() -> None:
    """Extract, update and compile the interface translations."""


# Keywords beyond Babel's defaults (_, gettext, ngettext, N_, pgettext…): the lazy forms used by forms and
# module-level labels. Without them `_l("…")` strings silently never reach the catalogues.
KEYWORDS = ("_l", "lazy_gettext", "lazy_ngettext:1,2", "lazy_pgettext:1c,2")
CATALOGUE_LOCALES = ("vi", "en")
SOURCE_LOCALE = "en"  # msgids are written in English; an empty en msgstr falls back to them


def extract_args(output: Path) -> list[str]:
    """The `pybabel` arguments that extract every interface string (run from the project root).

    templates/ sits at the project root, beside the package, so both folders are scanned; the tests run the
    same extraction to check that the catalogues are up to date.
    """
    keywords = [arg for keyword in KEYWORDS for arg in ("-k", keyword)]
    return ["extract", "-F", "pyproject.toml", *keywords, "--add-comments=TRANSLATORS:", "--sort-by-file",
            "--no-wrap", "--project=qa-app", "-o", str(output), "qa_app", "templates"]


def _pybabel(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], cwd=PROJECT_ROOT, check=False)
    if done.returncode != 0:
        raise click.ClickException(f"pybabel {args[0]} failed (exit {done.returncode}); see the messages above.")


def catalogue_gaps(po_path: Path) -> tuple[int, int, int]:
    """(messages, untranslated, fuzzy) of one .po file, the header entry excluded."""
    from babel.messages.pofile import read_po

    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    messages = [m for m in catalog if m.id]
    # A plural entry is untranslated when any of its forms is empty.
    untranslated = sum(1 for m in messages if not all(m.string if isinstance(m.string, tuple) else (m.string,)))
    return len(messages), untranslated, sum(1 for m in messages if m.fuzzy)


@translate.command("update")
def translate_update() -> None:
    """Extract messages from qa_app/ and templates/ and merge them into the vi and en catalogues.

    Fuzzy matching is off: a changed msgid comes back untranslated rather than with a guessed translation
    that would be served as correct. English msgids are the English interface, so en needs no msgstr.
    """
    pot = TRANSLATIONS / "messages.pot"
    _pybabel(*extract_args(pot))
    for locale in CATALOGUE_LOCALES:
        _pybabel("update", "-i", str(pot), "-d", str(TRANSLATIONS), "-l", locale, "--no-wrap",
                 "--ignore-obsolete", "--no-fuzzy-matching", "--init-missing")
    for locale in CATALOGUE_LOCALES:
        total, untranslated, fuzzy = catalogue_gaps(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po")
        if locale == SOURCE_LOCALE:
            click.echo(f"{locale}: {total} messages (the msgids are the English text)")
        else:
            click.echo(f"{locale}: {total} messages, {untranslated} untranslated, {fuzzy} fuzzy"
                       + (" – translate them, then run `flask translate compile`" if untranslated or fuzzy else ""))


@translate.command("compile")
def translate_compile() -> None:
    """Compile the catalogues to .mo files (committed, so an installed package needs no compile step)."""
    _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")
