"""The installable offline app: its page (/offline/), the service worker (/sw.js) and the web app manifest.

The page is a shell drawn by static/js/offline.js from data kept in IndexedDB; the service worker keeps the
shell, its styles and scripts and the icons in the Cache API so the page opens with no network. See
docs/offline.md.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, jsonify, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _

from ..auth.views import roles_required
from ..checklists.models import ChecklistVersion
from ..checklists.registry import checklist_of
from ..extensions import db
from ..inspections import present

bp = Blueprint("offline", __name__)

# What the service worker caches when it installs (besides the page itself), relative to the static folder.
SHELL_ASSETS = ("css/app.css", "css/review.css", "css/inspection.css", "css/offline.css", "css/contrast.css",
                "js/qa-engine.js", "js/qa-form.js", "js/offline-records.js", "js/form-focus.js", "js/offline.js",
                "js/contrast.js", "js/signature.js", "icons/icon-192.png", "icons/icon-512.png")


def _assets_version() -> str:
    """A hash of the cached files: a new deployment changes /sw.js, so tablets pick up the new shell."""
    digest = hashlib.sha256()
    static = Path(current_app.static_folder or "")
    for name in SHELL_ASSETS:
        path = static / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"")
    digest.update((Path(current_app.template_folder or "") / "offline" / "app.html").read_bytes())
    return digest.hexdigest()[:16]


def _form_version() -> str:
    """A hash of what draws the tablet's copy of a form (its templates and the translations): a deployment that
    changes them makes the tablets fetch their copies again, though the checklist versions stay the same."""
    return _files_hash(current_app.template_folder or "", current_app.root_path,
                       tuple(current_app.config["LANGUAGES"]))


@functools.cache
def _files_hash(template_folder: str, root_path: str, languages: tuple[str, ...]) -> str:
    # Read once per process (a deployment restarts it): the offline page asks for it on every opening.
    digest = hashlib.sha256()
    for name in ("inspections/_section.html", "inspections/_item.html", "offline/form.html"):
        digest.update((Path(template_folder) / name).read_bytes())
    for language in languages:
        catalog = Path(root_path) / "translations" / language / "LC_MESSAGES" / "messages.mo"
        digest.update(catalog.read_bytes() if catalog.exists() else b"")
    return digest.hexdigest()[:16]


def _strings() -> dict[str, str]:
    """Words of the offline page, in the user's language; ``{n}``-style placeholders are filled in by the script."""
    return {
        "synced": _("Everything is synced"),
        "waiting_one": _("Waiting to sync (1 change)"),
        "waiting": _("Waiting to sync (%(count)s changes)", count="{n}"),
        "syncing": _("Syncing…"),
        "offline": _("No connection: changes are kept on this tablet and sent when the network is back."),
        "signed_out": _("You are signed out: sign in again to send the changes kept on this tablet."),
        "other_user": _("Signed in as %(name)s: these changes belong to %(owner)s and are sent only when they "
                        "sign in.", name="{name}", owner="{owner}"),
        "sync_error": _("The server could not take the changes now; they are kept and will be retried."),
        "ready": _("Ready for offline"),
        "app_ready": _("This app opens without a network on this tablet."),
        "app_not_ready": _("Preparing the app for offline use…"),
        "no_sw": _("This browser cannot keep the app for offline use."),
        "blocked": _("Another tab holds this app's data open: close the other tabs of the app."),
        "prepared": _("Checklist %(checklist)s, prepared on %(date)s", checklist="{checklist}", date="{date}"),
        "prepare": _("Prepare for offline"),
        "update": _("Update"),
        "remove": _("Remove"),
        "start": _("Start inspection"),
        "programme": _("Programme"),
        "open": _("Open"),
        "forget": _("Remove from this tablet"),
        "no_facilities": _("No facility prepared yet: search for the facilities you will inspect and prepare them "
                           "while you have a network."),
        "no_results": _("No facility found."),
        "search_offline": _("Searching needs a network."),
        "no_inspections": _("No inspection on this tablet yet."),
        "prepare_failed": _("The facility could not be prepared: %(message)s", message="{message}"),
        "st_draft": _("On this tablet only"),
        "st_waiting": _("Waiting to sync"),
        "st_synced": _("Synced"),
        "st_submitted": _("Submitted"),
        "st_approved": _("Approved"),
        "st_returned": _("Returned"),
        "st_conflict": _("Conflict: choose a version"),
        "st_refused": _("Refused by the server"),
        "st_locked": _("Locked on the server"),
        "external": _("External inspection"),
        "self": _("Self-assessment"),
        "met": _("Met"),
        "not_met": _("Not met"),
        "na": _("N/A"),
        "not_observed": _("Not observed"),
        "value_integer": _("Item %(item)s needs a whole number.", item="{item}"),
        "value_number": _("Item %(item)s needs a number.", item="{item}"),
        "value_min": _("Number must be at least %(min)s.", min="{min}"),
        "value_max": _("Number must be at most %(max)s.", max="{max}"),
        "value_too_long": _("At most %(n)s characters.", n="{n}"),
        "value_refused": _("Item %(item)s: the answer was refused.", item="{item}"),
        "note": _("Note"),
        "note_photo": _("Note, photos"),
        "guidance": _("Guidance"),
        "critical": _("Critical item"),
        "add_photo": _("Add photo"),
        "photo_waiting": _("Photo kept on this tablet"),
        "photo_uploaded": _("Photo uploaded"),
        "photo_refused": _("Photo refused: %(message)s", message="{message}"),
        "remove_photo": _("Remove photo"),
        "item_waiting": _("Waiting to sync"),
        "progress": _("%(answered)s of %(applicable)s answered", answered="{answered}", applicable="{applicable}"),
        "role_head": _("Head of the team"),
        "role_deputy": _("Deputy head"),
        "role_member": _("Member"),
        "role_secretary": _("Secretary"),
        "role_facility_rep": _("Facility representative"),
        "role": _("Role in the team"),
        "full_name": _("Full name"),
        "position": _("Position"),
        "add_member": _("Add a team member"),
        "remove_member": _("Remove"),
        "no_actions": _("No failed item: no corrective action is needed."),
        "action": _("What must be done"),
        "responsible": _("Who is responsible"),
        "deadline": _("Deadline"),
        "sig_kept": _("Signature kept on this tablet: it is sent with the inspection."),
        "submit_missing": _("Before submitting: %(problems)s", problems="{problems}"),
        "missing_answers": _("%(count)s item(s) not answered", count="{n}"),
        "missing_team": _("name the head of the team and the facility representative"),
        "missing_signature": _("the signature of the %(role)s", role="{role}"),
        "missing_action": _("a corrective action for item %(item)s", item="{item}"),
        "submit_queued": _("Will be submitted as soon as it is synced."),
        "submitted": _("Submitted. It can no longer be changed here."),
        "submit_refused": _("Not submitted by the server: %(problems)s", problems="{problems}"),
        "conflict_title": _("Changed on another device"),
        "conflict_answer": _("Item %(item)s", item="{item}"),
        "conflict_team": _("The team"),
        "conflict_actions": _("The corrective actions"),
        "conflict_opinion": _("The facility's opinion"),
        "conflict_signature": _("The signature of the %(role)s", role="{role}"),
        "mine": _("On this tablet"),
        "theirs": _("On the server (by %(name)s, %(time)s)", name="{name}", time="{time}"),
        "theirs_plain": _("On the server"),
        "keep_theirs": _("Keep the server's version"),
        "use_mine": _("Use mine"),
        "empty": _("(empty)"),
        "no_answer": _("(no answer)"),
        "locked_title": _("This inspection is %(status)s on the server: the changes below were not applied.",
                          status="{status}"),
        "discard_mine": _("Discard my changes and keep the server's version"),
        "refused_title": _("The server refused these changes: %(message)s", message="{message}"),
        "sign_in": _("Sign in again"),
        "other_users": _("This tablet also keeps the unsent data of %(count)s other user(s): it is sent when they "
                         "sign in, and is not shown here.", count="{n}"),
        "view_online": _("Open on the server"),
        "net_online": _("Online"),
        "net_offline": _("Offline: everything is kept on this tablet"),
        "refused_count": _("Refused by the server, still to send: %(count)s inspection(s). Open it to see why.",
                           count="{n}"),
        "refusal_title": _("Not submitted: the server refused it"),
        "mismatch_title": _("Stopped: the items to inspect are not the server's"),
        "unprepared_title": _("This facility must be prepared again"),
        "unprepared": _("The checklist or the facility's details are missing on this tablet, so it cannot say "
                        "which items apply. Refresh the facility while you have a network; nothing entered is "
                        "lost."),
        "refresh": _("Refresh the facility"),
        "engine_mismatch": _("this copy of the app does not find the server's applicable items: reload the page "
                             "while you have a network, then prepare the facility again"),
        "st_unprepared": _("Prepare the facility again"),
        "st_mismatch": _("Stopped: refresh the facility"),
        "cls_meets": _("Meets the standard"),
        "cls_conditional": _("Conditional"),
        "cls_does_not_meet": _("Does not meet the standard"),
        "cls_not_assessable": _("Not assessable: re-visit needed"),
        "provisional": _("provisional"),
        # Results by score group, as on the online form and the review page (templates/inspections/_groups.html).
        "groups_title": _("Results by part"),
        "group_part": _("Part"),
        "group_sections": _("Sections"),
        "group_score": _("Score"),
        "group_result": _("Result"),
        "group_na": _("Does not apply to this facility"),
        "reviewer": _("Reviewer"),
        "returned_title": _("Returned for corrections"),
        "sig_on_server": _("signed; the signature is kept on the server"),
        "sig_void": _("Void: the content changed after this signature was made; sign again."),
        # The record read out before signing (templates/offline/app.html, "The record to be signed").
        "rec_facility": _("Facility"),
        "rec_date": _("Inspection date"),
        "rec_result": _("Result"),
        "rec_findings": _("Findings (items not met)"),
        "rec_no_findings": _("No item failed."),
        "rec_team": _("Inspection team and facility representatives"),
        "rec_opinion": _("Opinion of the facility"),
        "rec_not_written": _("Not written yet."),
        "no_opinion": _("The facility has no opinion"),
        "rec_no_action": _("no corrective action written yet"),
    }


@bp.get("/offline/")
@roles_required("supervisor", "admin")
def app_page() -> ResponseReturnValue:
    """The offline inspection app for the signed-in user (their id keys the data on the tablet)."""
    response = Response(render_template("offline/app.html", user=g.user, strings=_strings(),
                                        form_version=_form_version()))
    # The service worker keeps its own copy; the browser's HTTP cache must not serve another user's page.
    response.headers["Cache-Control"] = "no-cache, private"
    return response


@bp.get("/offline/form/<code>/<int:version>")
@roles_required("supervisor", "admin")
def checklist_form(code: str, version: int) -> ResponseReturnValue:
    """A checklist version's form drawn blank, in both languages: the tablet keeps it with the version.

    The same templates as the online form (templates/inspections/_section.html and _item.html), so an item looks
    and answers the same on both; static/js/offline.js hides what does not apply and fills in the record.
    """
    row = db.session.scalar(sa.select(ChecklistVersion).where(ChecklistVersion.code == code,
                                                               ChecklistVersion.version == version))
    if row is None:
        return jsonify(error="not_found", message=_("No such checklist version.")), 404
    checklist = checklist_of(row)
    forms = {}
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            forms[language] = render_template("offline/form.html", sections=present.blank_sections(checklist))
    response = jsonify(code=row.code, version=row.version, sha256=row.sha256, forms=forms,
                       form_version=_form_version())
    # A registered version never changes (its hash names its content), but the page it serves is a user's.
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/sw.js")
def service_worker() -> ResponseReturnValue:
    """The service worker, served from the root so that its scope can cover /offline/."""
    assets = [url_for("static", filename=name) for name in SHELL_ASSETS]
    body = render_template("offline/sw.js", version=_assets_version(), assets=assets,
                           shell=url_for("offline.app_page"), manifest=url_for("offline.manifest"))
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> ResponseReturnValue:
    """The web app manifest: installs the offline app on the tablet's home screen."""
    response = jsonify({
        "name": _("FP quality inspections (offline)"),
        "short_name": _("FP inspections"),
        "start_url": url_for("offline.app_page"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5cad",
        "icons": [{"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}",
                   "type": "image/png", "purpose": "any"} for size in (192, 512)],
    })
    response.mimetype = "application/manifest+json"
    return response
