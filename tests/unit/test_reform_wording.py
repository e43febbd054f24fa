"""After the 2025 reform there are no districts: "huyện" may appear in the Vietnamese interface only where a
string speaks of the units before 1 July 2025.

The rule, over every string the code and templates use today (the same extraction as the catalogue test):
a Vietnamese translation containing "huyện" must itself name the pre-reform period (it contains "2025", as in
"trước 01/7/2025"), or be one of the few labels shown only beside pre-2025 units (``PRE_2025_ONLY``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from qa_app.i18n import TRANSLATIONS, extract_args

ROOT = Path(__file__).resolve().parents[2]
# Labels rendered only for pre-2025 units: the level name of a pre-2025 district (facility unit chains,
# the child column of a pre-2025 province's report) and the heading of a pre-2025 round's progress table.
PRE_2025_ONLY = {"District", "Progress by district"}


def district_words(catalogue: Catalog, msgids: set[object]) -> list[str]:
    """Msgids of ``msgids`` whose Vietnamese text says "huyện" without naming the pre-2025 period."""
    found = []
    for message in catalogue:
        if not message.id or message.id not in msgids:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in texts:
            if "huyện" in (text or "").lower() and "2025" not in text and key not in PRE_2025_ONLY:
                found.append(key)
    return found


def test_no_district_wording_in_the_strings_of_2025_views(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *extract_args(pot)], cwd=ROOT, check=True,
                   capture_output=True)
    with pot.open("rb") as handle:
        used = {m.id for m in read_po(handle) if m.id}
    with (TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        vi = read_po(handle)
    assert district_words(vi, used) == []


def test_the_rule_catches_a_district_label() -> None:
    catalogue = Catalog(locale="vi")
    catalogue.add("Progress by unit", "Tiến độ theo huyện")
    catalogue.add("Old units", "Huyện trước 01/7/2025")
    catalogue.add("District", "Huyện")
    assert district_words(catalogue, {"Progress by unit", "Old units", "District"}) == ["Progress by unit"]
