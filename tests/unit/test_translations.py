"""The Vietnamese and English catalogues: complete, faithful to the msgids, compiled, and really served.

Vietnamese is the default interface language, so an untranslated or fuzzy entry is a visible defect for every
user; a msgstr that drops a placeholder raises KeyError (or silently loses a value) when the page renders; a
stale .mo means the shipped package shows older text than the catalogue. The request tests render the main
pages in both languages and look for English interface strings left in the Vietnamese pages.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import re
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from qa_app.i18n import TRANSLATIONS, extract_args

from .. import inspection_fixtures as fx
from ..factories import login

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("vi", "en")
# %(name)s / %d / {name}; "%%" is an escaped percent sign, not a placeholder.
PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[sdifr]|%[sdifr]|\{[A-Za-z_]\w*\}")
FORMAT_TOKEN = re.compile(r"%\([A-Za-z_]\w*\)[sdifr]|%[sdifr]|%%")
TAG = re.compile(r"</?[A-Za-z][^>]*>")


def _po(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


def _messages(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def _ids(message: Message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _formatted(message: Message) -> bool:
    """Jinja's newstyle gettext always %-formats template strings; Python formats when there are placeholders."""
    return message.python_format or any(path.startswith("templates/") for path, _line in message.locations)


@pytest.fixture(scope="module")
def vi() -> Catalog:
    return _po("vi")


# ------------------------------------------------------------------------------------------ catalogue


def test_vi_catalogue_has_no_untranslated_or_fuzzy_entry(vi: Catalog) -> None:
    messages = _messages(vi)
    assert len(messages) > 300, "the catalogue lost most of its messages"
    untranslated = [_ids(m)[0] for m in messages if not all(_strings(m))]
    fuzzy = [_ids(m)[0] for m in messages if m.fuzzy]
    assert not untranslated, f"untranslated Vietnamese messages: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy Vietnamese messages (review, then clear the flag): {fuzzy[:10]}"
    assert vi.num_plurals == 1, "Vietnamese has a single plural form"
    assert all(len(_strings(m)) == 1 for m in messages if m.pluralizable)


def test_vi_translations_keep_placeholders_markup_and_percent_escapes(vi: Catalog) -> None:
    problems = []
    for message in _messages(vi):
        ids = _ids(message)
        wanted = set(PLACEHOLDER.findall(ids[-1]))  # the plural msgid carries every placeholder
        for text in _strings(message):
            where = f"{ids[0]!r} -> {text!r}"
            if set(PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"placeholders differ: {where}")
            if sorted(TAG.findall(text)) != sorted(TAG.findall(ids[0])):
                problems.append(f"HTML differs: {where}")
            if _formatted(message) and "%" in FORMAT_TOKEN.sub("", text):
                problems.append(f"a literal % must be written %% in a formatted string: {where}")
            if not _formatted(message) and "%%" in text:
                problems.append(f"%% would show doubled in a string that is never formatted: {where}")
            if unicodedata.normalize("NFC", text) != text:
                problems.append(f"not NFC: {where}")
            if text != text.strip() and ids[0] == ids[0].strip():
                problems.append(f"stray leading or trailing space: {where}")
    assert not problems, "\n".join(problems)


def test_placeholder_check_catches_a_dropped_placeholder() -> None:
    """The check above must be able to fail: a translation that loses %(item)s differs."""
    assert set(PLACEHOLDER.findall("Tiêu chí: số quá lớn.")) != set(PLACEHOLDER.findall("Item %(item)s: too large."))
    assert "%" in FORMAT_TOKEN.sub("", "Giá trị (%)")
    assert "%" not in FORMAT_TOKEN.sub("", "Giá trị (%%) của %(item)s")


def test_vi_translations_render_with_their_variables(vi: Catalog) -> None:
    """Formatting each msgstr with dummy values of its msgid's variables never raises."""
    for message in _messages(vi):
        if not _formatted(message):
            continue
        names = re.findall(r"%\(([A-Za-z_]\w*)\)", _ids(message)[-1])
        values = {name: 1 for name in names}
        for text in _strings(message):
            if re.search(r"%[sdifr]", text):
                continue  # positional placeholders: none in this project's interface
            text % values  # raises on a broken format


@pytest.mark.parametrize("locale", LOCALES)
def test_committed_mo_matches_po(locale: str) -> None:
    """The shipped .mo (an installed package has no compile step) says exactly what the .po says."""
    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    fresh = io.BytesIO()
    write_mo(fresh, _po(locale))
    fresh.seek(0)
    with (folder / "messages.mo").open("rb") as handle:
        committed = gettext.GNUTranslations(handle)
    expected = gettext.GNUTranslations(fresh)
    assert committed._catalog == expected._catalog, (  # type: ignore[attr-defined]
        f"{locale}/LC_MESSAGES/messages.mo is stale: run `flask --app wsgi translate compile`")


def test_catalogues_contain_every_string_of_the_code_and_templates(tmp_path: Path) -> None:
    """Extraction over qa_app/ and templates/ (with the _l keyword) finds nothing the catalogues lack."""
    pot = tmp_path / "messages.pot"
    done = subprocess.run([sys.executable, "-m", "babel.messages.frontend", *extract_args(pot)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    with pot.open("rb") as handle:
        template = _messages(read_po(handle))
    extracted = {m.id for m in template}
    paths = {path for m in template for path, _line in m.locations}
    # The extraction must see templates, Python views and lazy (_l) form labels alike.
    assert any(p.startswith("templates/") for p in paths)
    assert "qa_app/auth/forms.py" in paths  # lazy_gettext labels
    assert any(isinstance(i, tuple) for i in extracted)  # ngettext
    for locale in LOCALES:
        present = {m.id for m in _po(locale) if m.id}
        missing = sorted(str(i) for i in extracted - present)
        assert not missing, (f"{len(missing)} strings missing from the {locale} catalogue, e.g. {missing[:5]}: "
                             "run `flask --app wsgi translate update`, translate, then `translate compile`")


# ------------------------------------------------------------------------------------------ pages


class _Texts(HTMLParser):
    """Visible text nodes plus the attributes a user reads or hears (labels, placeholders, button values)."""

    ATTRIBUTES = ("aria-label", "placeholder", "title", "alt", "value", "data-confirm")

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        kind = dict(attrs).get("type")
        for name, value in attrs:
            if value and (name in self.ATTRIBUTES or (name.startswith("data-") and name.endswith("-text"))):
                # Only an <input type=submit|button> shows its value; a <button>'s value is never displayed.
                if name == "value" and not (tag == "input" and kind in ("submit", "button")):
                    continue
                self.texts.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def _texts(html: str) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    return parser.texts


def _english_interface_strings(vi: Catalog) -> set[str]:
    """English msgids without placeholders whose Vietnamese differs: seeing one in a vi page is a leak."""
    found = set()
    for message in _messages(vi):
        for msgid, text in zip(_ids(message), _strings(message) * 2, strict=False):
            if "%" not in msgid and "{" not in msgid and msgid != text:
                found.add(msgid.replace("%%", "%"))
    return found


@pytest.fixture
def world(app: Flask) -> dict[str, int]:
    ids = fx.build_world(app)
    ids["inspection"] = fx.start(app, ids["tyt"], ids["sup"], on=dt.date.today())
    return ids


def _pages(world: dict[str, int]) -> dict[str, tuple[str, str]]:
    """Page name -> (who is signed in, path)."""
    inspection = world["inspection"]
    return {
        "facility list": ("sup", "/facilities/"),
        "facility profile": ("sup", f"/facilities/{world['tyt']}"),
        "start": ("sup", f"/inspections/start?facility_id={world['tyt']}"),
        "inspection form": ("sup", f"/inspections/{inspection}/form"),
        "finish": ("sup", f"/review/inspections/{inspection}/finish"),
        "inspection": ("sup", f"/inspections/{inspection}"),
        "dashboard": ("rev", "/compliance/"),
        "review queue": ("rev", "/review/"),
        "corrective actions": ("rev", "/review/actions"),
        "import": ("admin", "/facilities/import"),
        "users": ("admin", "/admin/users"),
        "new user": ("admin", "/admin/users/new"),
        "verify minutes": ("sup", "/verify"),
        "supervision rounds": ("rev", "/rounds/"),
        "plan a round": ("rev", "/rounds/new"),
        "my visits": ("sup", "/rounds/mine"),
        "period reports": ("rev", "/rounds/reports"),
        "self-assessments": ("rev", "/rounds/self-assessments"),
        "offline app": ("sup", "/offline/"),
    }


def _get(app: Flask, client: FlaskClient, world: dict[str, int], who: str, path: str, lang: str) -> str:
    login(client, world[who])
    sep = "&" if "?" in path else "?"
    response = client.get(f"{path}{sep}lang={lang}", follow_redirects=True)
    assert response.status_code == 200, f"{path}: {response.status_code}"
    return response.get_data(as_text=True)


def test_login_page_in_both_languages(client: FlaskClient, vi: Catalog) -> None:
    page = client.get("/login").get_data(as_text=True)  # no choice made: the default language
    assert '<html lang="vi">' in page
    assert "Đăng nhập" in page and "Tên đăng nhập" in page and "Mật khẩu" in page
    leaks = set(_texts(page)) & _english_interface_strings(vi)
    assert not leaks, f"English on the Vietnamese sign-in page: {sorted(leaks)}"
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Sign in" in page and "Username" in page and "Đăng nhập" not in page


def test_main_pages_in_vietnamese_show_no_english_interface_string(
        app: Flask, client: FlaskClient, world: dict[str, int], vi: Catalog) -> None:
    english = _english_interface_strings(vi)
    leaks = {}
    for name, (who, path) in _pages(world).items():
        page = _get(app, client, world, who, path, "vi")
        assert '<html lang="vi">' in page, name
        found = sorted(set(_texts(page)) & english)
        if found:
            leaks[name] = found
    assert not leaks, f"English interface strings in Vietnamese pages: {leaks}"


def test_navigation_and_key_words_follow_the_language(app: Flask, client: FlaskClient, world: dict[str, int]) -> None:
    inspection = world["inspection"]
    expectations = {
        # path, who: (Vietnamese words that must appear, their English counterparts)
        ("/facilities/", "sup"): (["Cơ sở", "Tiến độ đạt chuẩn", "Đăng xuất", "Lọc cơ sở"],
                                  ["Facilities", "Compliance", "Sign out", "Filter facilities"]),
        (f"/inspections/{inspection}/form", "sup"): (["Tóm tắt cuộc kiểm tra", "Đạt", "Không đạt", "Ghi chú"],
                                                     ["Inspection summary", "Met", "Not met", "Note"]),
        ("/compliance/", "rev"): (["Tiến độ thực hiện chỉ tiêu kế hoạch", "Duyệt", "Chỉ tiêu 2030"],
                                  ["Compliance with the plan targets", "Review", "Target 2030"]),
    }
    for (path, who), (vi_words, en_words) in expectations.items():
        vi_page = _get(app, client, world, who, path, "vi")
        en_page = _get(app, client, world, who, path, "en")
        vi_texts, en_texts = set(_texts(vi_page)), set(_texts(en_page))
        for word in vi_words:
            assert word in vi_texts, f"{path} (vi) lacks {word!r}"
            assert word not in en_texts, f"{path} (en) shows Vietnamese {word!r}"
        for word in en_words:
            assert word in en_texts, f"{path} (en) lacks {word!r}"
            assert word not in vi_texts, f"{path} (vi) shows English {word!r}"


def test_plural_forms_render_in_both_languages(app: Flask, client: FlaskClient, world: dict[str, int]) -> None:
    vi_page = _get(app, client, world, "sup", "/facilities/", "vi")
    en_page = _get(app, client, world, "sup", "/facilities/", "en")
    assert re.search(r"\b2 cơ sở\b", vi_page), "ngettext in Vietnamese"
    assert re.search(r"\b2 facilities\b", en_page), "ngettext in English"


def test_language_choice_survives_a_redirect(app: Flask, client: FlaskClient, world: dict[str, int]) -> None:
    """/inspections/<id> only redirects to the form: the ?lang=en given there still applies to the form."""
    login(client, world["sup"])
    response = client.get(f"/inspections/{world['inspection']}?lang=en", follow_redirects=True)
    assert len(response.history) == 1, "the inspection page is expected to redirect a supervisor to the form"
    texts = set(_texts(response.get_data(as_text=True)))
    assert "Inspection summary" in texts and "Tóm tắt cuộc kiểm tra" not in texts


# ------------------------------------------------------------------------------------------ server messages

# Words of English sentences that never occur in Vietnamese text (written without diacritics, Vietnamese words can
# look like "to", "do" or "an"; these cannot).
ENGLISH_WORDS = re.compile(r"\b(the|is|are|not|must|this|field|required|has|have|been|with|for|exactly|signed|"
                           r"answered|item|items|please|missing|name|invalid)\b", re.IGNORECASE)


def _english_in(text: str) -> list[str]:
    return ENGLISH_WORDS.findall(text)


def test_english_word_check_catches_english_inside_vietnamese() -> None:
    assert _english_in("Không lưu được đoàn kiểm tra: name exactly one the head of the team")
    assert _english_in("This field is required.")
    assert not _english_in("Trường này là bắt buộc. Tiêu chí A3, C3 chưa được trả lời.")


def test_form_validation_messages_are_vietnamese(app: Flask, client: FlaskClient, world: dict[str, int]) -> None:
    login(client, world["admin"])
    page = client.post("/admin/users/new?lang=vi", data={}).get_data(as_text=True)
    errors = re.findall(r'class="[^"]*\berror\b[^"]*"[^>]*>([^<]+)<', page)
    assert "Trường này là bắt buộc." in page
    assert "This field is required." not in page
    leaks = [e for e in errors if _english_in(e)]
    assert not leaks, f"English validation messages in a Vietnamese page: {leaks}"


def test_server_refusals_reach_the_tablet_in_vietnamese(app: Flask, client: FlaskClient,
                                                       world: dict[str, int]) -> None:
    import uuid as uuidlib

    from qa_app.i18n import local_today
    from qa_app.inspections import present

    with app.test_request_context():
        from qa_app.extensions import db
        from qa_app.facilities.models import Facility

        preview = present.start_preview(db.session.get(Facility, world["tyt"]), local_today())
        code, version = preview.checklist.code, preview.checklist.version
    login(client, world["sup"])
    body = {"uuid": str(uuidlib.uuid4()), "facility_id": world["tyt"], "user_id": world["sup"],
            "inspection_date": dt.date.today().isoformat(), "checklist": {"code": code, "version": version},
            "answers": {"A2": {"value": "met", "base_revision": 0}}, "submit": True}
    # Submission refused: an applicable item missing, no team, no signature.
    done = client.post("/api/v1/sync/inspections?lang=vi", json=body, headers={"Idempotency-Key": uuidlib.uuid4().hex})
    assert done.status_code == 201
    messages = done.json["submit_problems"] + [done.json["message"]]
    assert len(done.json["submit_problems"]) >= 3
    leaks = [m for m in messages if _english_in(m)]
    assert not leaks, f"English in Vietnamese submit problems: {leaks}"
    # A part refused by the service (two heads of the team): the detail is Vietnamese too.
    team = [{"role": "head", "full_name": "Nguyễn Văn An", "position": ""},
            {"role": "head", "full_name": "Lò Văn Cường", "position": ""},
            {"role": "facility_rep", "full_name": "Phạm Thị Dung", "position": ""}]
    refused = client.post("/api/v1/sync/inspections?lang=vi",
                          json={**body, "answers": {}, "submit": False, "team": {"value": team, "base": []}},
                          headers={"Idempotency-Key": uuidlib.uuid4().hex})
    assert refused.status_code == 422
    assert not _english_in(refused.json["message"]), refused.json["message"]
