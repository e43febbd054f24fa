"""Minutes download (scope-checked) and the public verification page; `flask minutes …` commands."""

from __future__ import annotations

import datetime as dt
import sys

import click
import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from ..auth.views import login_required
from ..extensions import db
from ..facilities.models import Facility
from ..inspections.models import Inspection
from ..inspections.services import facility_visible, inspections_in_scope
from . import services
from .models import Minutes

bp = Blueprint("minutes", __name__, cli_group="minutes")
bp.cli.help = "Signed minutes: verify a file, re-check the whole archive, extend it with document timestamps."

REASONS = {
    "not_pdf": _l("The file is not a PDF document."),
    "too_large": _l("The file is too large to be a minutes document."),
    "unknown_document": _l("This exact file was never issued by us: it is not in the archive of signed minutes "
                           "(a modified copy, even by one byte, is not the issued document)."),
    "signature_unsigned": _l("The file carries no digital signature."),
    "signature_several_signatures": _l("The file carries more than one signature; issued minutes carry one."),
    "signature_tampered": _l("The digital signature does not match the content: the file was changed after "
                             "signing."),
    "signature_not_whole_file": _l("The signature does not cover the whole file: content was added after "
                                   "signing."),
    "signature_untrusted": _l("The signature was made with a certificate we do not trust."),
    "signature_modified": _l("The content was changed after signing: the unit's signature allows no change "
                             "other than added validation data and document timestamps."),
    "signature_timestamp_invalid": _l("A timestamp of the file is not from a trusted time-stamping authority or "
                                      "does not match the file."),
    "signature_unreadable": _l("The digital signature cannot be read (damaged or not a valid signature)."),
    "signature_no_trust_root": _l("The issuing unit's certificate is not available to check the signature."),
    "archive_hash_mismatch": _l("The archived copy no longer matches its recorded fingerprint."),
    "unknown_number": _l("No minutes with this number were issued."),
    "bad_number": _l("This is not a minutes number; write it as 07/BB-TTKSBT/2026."),
    "nothing": _l("Choose a PDF file or type a minutes number."),
    "rate_limited": _l("Too many verifications from your connection in a short time. Wait a minute and try "
                       "again."),
}


@bp.get("/inspections/<int:inspection_id>/minutes.pdf")
@login_required
def download(inspection_id: int) -> ResponseReturnValue:
    """The signed minutes exactly as issued (identical bytes on every download); 404 outside the user's region."""
    inspection = db.session.scalar(inspections_in_scope(g.user).where(Inspection.id == inspection_id))
    if inspection is None:
        abort(404)
    minutes = services.minutes_of(inspection.id)
    if minutes is None:
        abort(404)
    filename = f"bien-ban-{minutes.number:02d}-BB-{minutes.unit_code}-{minutes.year}.pdf"
    response = Response(minutes.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.set_etag(minutes.sha256)
    return response


@bp.get("/inspections/<int:inspection_id>/record.pdf")
@login_required
def record(inspection_id: int) -> ResponseReturnValue:
    """The visit record awaiting filing (external) or the phiếu tự đánh giá (self), rendered now, unsigned."""
    inspection = db.session.scalar(inspections_in_scope(g.user).where(Inspection.id == inspection_id))
    if inspection is None:
        abort(404)
    if inspection.status == "draft":
        abort(404)
    name = "phieu-tu-danh-gia" if inspection.kind == "self" else "bien-ban-tai-buoi-kiem-tra"
    response = Response(services.record_pdf(inspection), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{inspection.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _record(minutes: Minutes, full: bool) -> dict[str, object]:
    """What the page may say about a minutes: by number only that it exists, who filed it and when; the
    facility, date and score only to whoever holds the file (or its QR code) or may see it anyway."""
    inspection = db.session.get(Inspection, minutes.inspection_id)
    if not full and g.get("user") is not None and inspection is not None:
        full = facility_visible(g.user, inspection.facility_id)
    facility = db.session.get(Facility, inspection.facility_id) if inspection and full else None
    return {"minutes": minutes, "inspection": inspection if full else None, "facility": facility,
            "label": f"{minutes.number_label}/{minutes.year}", "full": full,
            "unit": services.setting("ISSUING_UNIT_NAME")}


def _result(verification: services.Verification, full: bool = True) -> dict[str, object]:
    return {
        "authentic": verification.authentic,
        "reasons": [str(REASONS.get(code, code)) for code in verification.reasons],
        "record": _record(verification.minutes, full) if verification.minutes else None,
        "signature": verification.signature if full else None,
    }


def _too_many() -> ResponseReturnValue | None:
    """429 past the per-client lookup limit (counted in the database, so it holds across workers)."""
    if services.allow_lookup(request.remote_addr or "unknown"):
        return None
    response = Response(render_template("minutes/verify.html", result={
        "authentic": False, "reasons": [str(REASONS["rate_limited"])], "record": None, "signature": None},
        matches=[], max_mb=int(services.setting("MINUTES_MAX_UPLOAD")) // (1024 * 1024)), status=429)
    response.headers["Retry-After"] = str(int(services.setting("VERIFY_RATE_WINDOW")))
    return response


@bp.route("/verify", methods=["GET", "POST"])
def verify() -> ResponseReturnValue:
    """Public page: is this PDF (or this number) an authentic minutes document of ours?"""
    result = None
    matches: list[dict[str, object]] = []
    if request.method == "POST":
        refused = _too_many()
        if refused is not None:
            return refused
        try:
            upload = request.files.get("file")
            number = (request.form.get("number") or "").strip()
            year_text = (request.form.get("year") or "").strip()
            unit = (request.form.get("unit") or "").strip()
        except RequestEntityTooLarge:
            upload, number, year_text, unit = None, "", "", ""
            result = {"authentic": False, "reasons": [str(REASONS["too_large"])], "record": None,
                      "signature": None}
        if result is not None:
            pass
        elif upload is not None and upload.filename:
            data = upload.stream.read(int(services.setting("MINUTES_MAX_UPLOAD")) + 1)
            result = _result(services.verify_pdf(data))
        elif number:
            year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else None
            if unit and "/" not in number:
                number = f"{number}/BB-{unit}"
            parsed = services.parse_number(number[:80], year)
            if parsed is None:
                result = {"authentic": False, "reasons": [str(REASONS["bad_number"])], "record": None,
                          "signature": None}
            else:
                found = services.find_by_number(*parsed)
                if not found:
                    result = {"authentic": False, "reasons": [str(REASONS["unknown_number"])], "record": None,
                              "signature": None}
                else:
                    # A number is public knowledge (and sequential): existence, unit, filing date only.
                    matches = [_result(services.verify_archived(m), full=False) for m in found]
        else:
            result = {"authentic": False, "reasons": [str(REASONS["nothing"])], "record": None, "signature": None}
    status = 200
    return render_template("minutes/verify.html", result=result, matches=matches,
                           max_mb=int(services.setting("MINUTES_MAX_UPLOAD")) // (1024 * 1024)), status


@bp.get("/verify/<token>")
def verify_token(token: str) -> ResponseReturnValue:
    """The QR code's target: the archived record and whether its signature still validates.

    The token is unguessable and printed only on the document: holding it is holding the document (and, being
    unguessable, it is not rate-limited: there is nothing to enumerate).
    """
    minutes = services.find_by_token(token)
    if minutes is None:
        result = {"authentic": False, "reasons": [str(REASONS["unknown_number"])], "record": None,
                  "signature": None}
        return render_template("minutes/verify.html", result=result, matches=[], max_mb=20), 404
    return render_template("minutes/verify.html", result=None, matches=[_result(services.verify_archived(minutes))],
                           max_mb=int(services.setting("MINUTES_MAX_UPLOAD")) // (1024 * 1024))


# ---------------------------------------------------------------------------------------------- CLI


def _reason_text(codes: list[str]) -> str:
    # The reasons are lazy translations: a request context gives them the default locale.
    with current_app.test_request_context():
        return "; ".join(str(REASONS.get(c, c)) for c in codes)


@bp.cli.command("verify")
@click.argument("path", type=click.Path(dir_okay=False))
def verify_command(path: str) -> None:
    """Say whether FILE is an authentic minutes document (exit 0) or not (exit 1, with the reasons)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(int(services.setting("MINUTES_MAX_UPLOAD")) + 1)
    except OSError as exc:
        click.echo(f"NOT AUTHENTIC: cannot read {path}: {exc.strerror}", err=True)
        sys.exit(1)
    result = services.verify_pdf(data)
    if result.authentic:
        m = result.minutes
        click.echo(f"AUTHENTIC: {m.number_label}/{m.year}, inspection {m.inspection_id}, issued "
                   f"{m.issued_at:%Y-%m-%d %H:%M} UTC, signed by {result.signature.signer}, "
                   f"PAdES {result.signature.level}")
        sys.exit(0)
    detail = result.signature.detail if result.signature else ""
    click.echo("NOT AUTHENTIC: " + _reason_text(result.reasons) + (f" [{detail}]" if detail else ""), err=True)
    sys.exit(1)


def _moment(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (write 2031-06-30 or 2031-06-30T08:00)",
                                 param_hint="--at") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@bp.cli.command("check-archive")
@click.option("--at", "at", metavar="DATE", help="Validate as if today were DATE (UTC, ISO 8601): would the "
                                                 "archive still verify then?")
def check_archive_command(at: str | None) -> None:
    """Re-hash every archived minutes and re-validate its signatures; exit 1 on any mismatch."""
    moment = _moment(at)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Minutes)) or 0
    problems = services.check_archive(moment)
    for minutes, reasons, detail in problems:
        click.echo(f"MISMATCH {minutes.number_label}/{minutes.year} (id {minutes.id}): "
                   + _reason_text(reasons) + (f" [{detail}]" if detail else ""), err=True)
    click.echo(f"{total} minutes checked, {len(problems)} problem(s)")
    sys.exit(1 if problems else 0)


@bp.cli.command("extend")
@click.option("--renew-within", default=365, show_default=True, type=click.IntRange(0, 3650),
              help="Also re-timestamp minutes whose newest timestamp certificate expires within this many days.")
@click.option("--at", "at", metavar="DATE", help="Act as if today were DATE (UTC, ISO 8601); for rehearsals.")
def extend_command(renew_within: int, at: str | None) -> None:
    """Add document timestamps (PAdES B-LTA) to the archive; safe to run again (exit 1 if any failed)."""
    try:
        report = services.extend_archive(dt.timedelta(days=renew_within), _moment(at))
    except Exception as exc:  # noqa: BLE001 - the signing key or TSA is unusable: one line, no traceback
        click.echo(f"EXTEND FAILED: {exc}", err=True)
        sys.exit(1)
    for label in report.extended:
        click.echo(f"EXTENDED {label}")
    for label, why in report.failed:
        click.echo(f"FAILED {label}: {why}", err=True)
    click.echo(f"{len(report.extended)} extended, {len(report.current)} already current, "
               f"{len(report.failed)} failed")
    sys.exit(1 if report.failed else 0)
