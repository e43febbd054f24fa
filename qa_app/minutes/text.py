"""Pure text rules of the minutes: Decree 30/2020 dates, copies, the facility's opinion, agency-name lines.

No Flask, no database: plain values in, strings out, so every rule is unit-tested at its boundaries.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Sequence

# Vietnamese words are written as space-separated syllables; an agency name must not break inside a word
# ("TRUNG TÂM KIỂM / SOÁT BỆNH TẬT" splits "kiểm soát"). These multi-syllable words occur in the names of
# the health units that issue minutes; a line never breaks between their syllables.
AGENCY_WORDS: tuple[str, ...] = (
    "KẾ HOẠCH HÓA GIA ĐÌNH", "TRUNG TÂM", "KIỂM SOÁT", "BỆNH TẬT", "Y TẾ", "DÂN SỐ", "GIA ĐÌNH", "KẾ HOẠCH",
    "SỨC KHỎE", "SINH SẢN", "BÀ MẸ", "TRẺ EM", "CHI CỤC", "BỆNH VIỆN", "PHÒNG KHÁM", "KHU VỰC", "ĐA KHOA",
    "PHỤ SẢN", "NHI ĐỒNG", "THÀNH PHỐ", "ỦY BAN", "NHÂN DÂN", "ĐOÀN KIỂM TRA", "KIỂM TRA", "GIÁM SÁT",
    "CHẤT LƯỢNG", "DỊCH VỤ", "PHƯỜNG", "ĐẶC KHU",
)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text or "")


def d30_day(day: int) -> str:
    """Decree 30/2020, Annex I: a day below 10 gets a leading zero ("05"), others are written as they are."""
    return f"{day:02d}" if day < 10 else str(day)


def d30_month(month: int) -> str:
    """Decree 30/2020, Annex I: only January and February get a leading zero ("01", "02"; then "3" … "12")."""
    return f"{month:02d}" if month <= 2 else str(month)


MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


def d30_date(value: dt.date, locale: str = "vi") -> str:
    """"ngày 05 tháng 9 năm 2026" in Vietnamese; "5 September 2026" in the English courtesy rendering."""
    if locale.startswith("en"):
        return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"
    return f"ngày {d30_day(value.day)} tháng {d30_month(value.month)} năm {value.year}"


def date_line(place: str, value: dt.date, locale: str = "vi") -> str:
    """The place-and-date line of the header: "Lai Châu, ngày 05 tháng 9 năm 2026"."""
    return f"{_nfc(place).strip()}, {d30_date(value, locale)}"


def two_digits(count: int) -> str:
    """Counts below 10 written with a leading zero, as minutes customarily do ("02 bản", "01 bản")."""
    return f"{count:02d}" if 0 <= count < 10 else str(count)


def copies_sentence(copies: int, holders: Sequence[str], locale: str = "vi") -> str:
    """"Biên bản được lập thành 03 bản có giá trị như nhau: cơ sở giữ 01 bản, …".

    ``holders`` lists who keeps a copy, one entry per copy (the same holder may appear twice); when there are
    fewer holders than copies, the last one keeps the rest.
    """
    if copies < 1:
        raise ValueError("the minutes are made in at least one copy")
    names = [_nfc(h).strip() for h in holders if _nfc(h).strip()] or (
        ["the facility", "the inspection team"] if locale.startswith("en") else ["cơ sở", "đoàn kiểm tra"])
    counts: dict[str, int] = {}
    for index in range(copies):
        name = names[min(index, len(names) - 1)]
        counts[name] = counts.get(name, 0) + 1
    if locale.startswith("en"):
        parts = ", ".join(f"{two_digits(n)} kept by {who}" for who, n in counts.items())
        return f"They are made in {two_digits(copies)} copies of equal value: {parts}."
    parts = ", ".join(f"{who} giữ {two_digits(n)} bản" for who, n in counts.items())
    return f"Biên bản được lập thành {two_digits(copies)} bản có giá trị như nhau: {parts}."


NO_OPINION = {"vi": "Đại diện cơ sở không có ý kiến.", "en": "The facility's representative had no comment."}
NOT_RECORDED = {"vi": "Chưa ghi nhận ý kiến của cơ sở.", "en": "No opinion of the facility was recorded."}


def facility_opinion_text(opinion: str, declined: bool, locale: str = "vi") -> str:
    """What the facility said, or that it explicitly chose to say nothing; never an agreement it did not give.

    An empty opinion that was not explicitly declined prints as "not recorded", never as "agrees".
    """
    lang = "en" if locale.startswith("en") else "vi"
    text = _nfc(opinion).strip()
    if text:
        return text
    return NO_OPINION[lang] if declined else NOT_RECORDED[lang]


def agency_lines(name: str, measure: Callable[[str], float], width: float,
                 words: Sequence[str] = AGENCY_WORDS) -> list[str]:
    """Split an agency name into the fewest, most even lines that fit ``width``, never inside a word.

    ``measure`` gives a string's width (the font's metrics). Multi-syllable words from ``words`` are kept
    whole; a name still too wide on one line per word is returned one word per line.
    """
    tokens = _tokens(_nfc(name).strip(), words)
    if not tokens:
        return [""]
    if measure(" ".join(tokens)) <= width:
        return [" ".join(tokens)]
    for lines in range(2, len(tokens) + 1):
        best: list[str] | None = None
        best_w = float("inf")
        for split in _splits(len(tokens), lines):
            parts = [" ".join(tokens[a:b]) for a, b in split]
            widest = max(measure(p) for p in parts)
            if widest <= width and widest < best_w:
                best, best_w = parts, widest
        if best is not None:
            return best
    return tokens


def _tokens(text: str, words: Sequence[str]) -> list[str]:
    syllables = text.split()
    upper = [s.upper() for s in syllables]
    known = sorted((w.split() for w in words), key=len, reverse=True)
    out, i = [], 0
    while i < len(syllables):
        for word in known:
            if upper[i:i + len(word)] == word:
                out.append(" ".join(syllables[i:i + len(word)]))
                i += len(word)
                break
        else:
            out.append(syllables[i])
            i += 1
    return out


def _splits(n: int, lines: int) -> list[list[tuple[int, int]]]:
    """Every way to cut ``n`` tokens into ``lines`` non-empty consecutive runs."""
    if lines == 1:
        return [[(0, n)]]
    result = []
    for first in range(1, n - lines + 2):
        for rest in _splits(n - first, lines - 1):
            result.append([(0, first)] + [(a + first, b + first) for a, b in rest])
    return result


def time_phrase(value: dt.datetime, visit_date: dt.date, locale: str = "vi") -> str:
    """"08 giờ 30" on the visit date, "17 giờ 05 ngày 06 tháng 9 năm 2026" on another day (a visit over days)."""
    if locale.startswith("en"):
        base = f"{value.hour:02d}:{value.minute:02d}"
        return base if value.date() == visit_date else f"{base} on {d30_date(value.date(), locale)}"
    base = f"{value.hour:02d} giờ {value.minute:02d}"
    return base if value.date() == visit_date else f"{base} {d30_date(value.date(), locale)}"


# Agency types after which the distinguishing name starts with a capital ("Trung tâm Kiểm soát bệnh tật",
# "Sở Y tế", "Chi cục Dân số"), and place words after which every syllable is capitalised ("tỉnh Lai Châu").
_AGENCY_TYPES = ("TRUNG TÂM", "CHI CỤC", "SỞ", "BỆNH VIỆN", "TRẠM", "PHÒNG KHÁM", "BAN", "CỤC", "VỤ", "VIỆN")
_PLACE_WORDS = ("TỈNH", "THÀNH PHỐ", "XÃ", "PHƯỜNG", "ĐẶC KHU", "KHU VỰC")


def running_name(name: str) -> str:
    """An agency name written in capitals, as it reads in running text (Decree 30/2020, Annex II).

    "TRUNG TÂM KIỂM SOÁT BỆNH TẬT TỈNH LAI CHÂU" → "Trung tâm Kiểm soát bệnh tật tỉnh Lai Châu". A name that is
    not all capitals is returned as written (the operator wrote it the way it should read).
    """
    text = _nfc(name).strip()
    if not text or not text.isupper():
        return text
    syllables = text.split()
    out: list[str] = []
    i, capital_next, place = 0, True, False
    while i < len(syllables):
        upper = syllables[i:]
        match = next((w.split() for w in _PLACE_WORDS if upper[:len(w.split())] == w.split()), None)
        if match and i > 0:
            out += [s.lower() for s in syllables[i:i + len(match)]]
            i += len(match)
            place, capital_next = True, False
            continue
        kind = next((w.split() for w in _AGENCY_TYPES if upper[:len(w.split())] == w.split()), None)
        if kind and not place:
            words = [s.lower() for s in syllables[i:i + len(kind)]]
            if capital_next:
                words[0] = words[0].capitalize()
            out += words
            i += len(kind)
            capital_next = True
            continue
        word = syllables[i].lower()
        out.append(word.capitalize() if (capital_next or place) else word)
        capital_next = False
        i += 1
    return " ".join(out)


def team_decision_text(number: str, on: dt.date | None, issuer: str, locale: str = "vi") -> str:
    """"Quyết định số 12/QĐ-SYT ngày 05 tháng 3 năm 2026 của Sở Y tế tỉnh Lai Châu về việc thành lập Đoàn
    kiểm tra"; empty when the decision is not recorded."""
    number, issuer = _nfc(number).strip(), _nfc(issuer).strip()
    if not (number and issuer and on):
        return ""
    if locale.startswith("en"):
        return f"Decision No. {number} of {d30_date(on, locale)} of {issuer} establishing the inspection team"
    return f"Quyết định số {number} {d30_date(on)} của {running_name(issuer)} về việc thành lập Đoàn kiểm tra"


def suggest_conclusion(sections: Sequence[tuple[str, float | None, int]], failed_items: Sequence[str],
                       locale: str = "vi") -> tuple[str, str]:
    """Suggested strengths and shortcomings from the results, for the supervisor to edit.

    ``sections`` are (title, percent or None, critical failures); a section at 90% or more without a critical
    failure is a strength, one below 80% or with a critical failure a shortcoming.
    """
    en = locale.startswith("en")
    good = [t for t, pct, crit in sections if pct is not None and pct >= 90 and not crit]
    weak = [f"{t} ({_pct(pct, en)})" for t, pct, crit in sections if pct is not None and (pct < 80 or crit)]
    if en:
        strengths = ("Good results in: " + "; ".join(good) + ".") if good else ""
        shortcomings = ("Weak results in: " + "; ".join(weak) + ".") if weak else ""
        if failed_items:
            shortcomings = (shortcomings + " " if shortcomings else "") + "Items not met: " + ", ".join(
                failed_items) + "."
        return strengths, shortcomings
    strengths = ("Thực hiện tốt các nội dung: " + "; ".join(good) + ".") if good else ""
    shortcomings = ("Còn hạn chế ở các nội dung: " + "; ".join(weak) + ".") if weak else ""
    if failed_items:
        shortcomings = (shortcomings + " " if shortcomings else "") + "Các tiêu chí không đạt: " + ", ".join(
            failed_items) + "."
    return strengths, shortcomings


def _pct(value: float, en: bool) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return (text if en else text.replace(".", ",")) + "%"
