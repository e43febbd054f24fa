"""Photos of an inspection's items: decoded, checked (size, pixels, type), shrunk and stored; deleted while
the inspection is editable. Re-exported by ``inspections.services``."""

from __future__ import annotations

import hashlib
import io
import uuid as uuidlib
from dataclasses import dataclass

import sqlalchemy as sa

from ..auth.models import User
from ..extensions import db
from .editing import _bump, _require_editable
from .models import (
    Inspection,
    Photo,
)

# The read helpers live below this module and minutes.services both; re-exported for existing callers.
from .reading import WorkflowError, answers_of, checklist_for, profile_of  # noqa: F401

MAX_PHOTO_BYTES = 12 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
PHOTO_MAX_SIDE = 1600
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

# ---------------------------------------------------------------------------------------------- photos


@dataclass(frozen=True)
class StoredImage:
    """A re-encoded image ready to store."""

    data: bytes
    content_type: str
    width: int
    height: int


def process_photo(raw: bytes, max_side: int = PHOTO_MAX_SIDE) -> StoredImage:
    """Check that ``raw`` really is a JPEG/PNG/WebP image of sane size and re-encode it as a resized JPEG."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not raw:
        raise WorkflowError("bad_photo", "the photo is empty")
    if len(raw) > MAX_PHOTO_BYTES:
        raise WorkflowError("bad_photo", f"the photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            if probe.format not in PHOTO_TYPES:
                raise WorkflowError("bad_photo", "only JPEG, PNG or WebP photos are accepted")
            if probe.width * probe.height > MAX_PHOTO_PIXELS:
                raise WorkflowError("bad_photo", "the photo has too many pixels")
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            image = ImageOps.exif_transpose(image)
            image.thumbnail((max_side, max_side))
            image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, "JPEG", quality=80, optimize=True)
            return StoredImage(out.getvalue(), "image/jpeg", image.width, image.height)
    except WorkflowError:
        raise
    except Image.DecompressionBombError:
        raise WorkflowError("bad_photo", "the photo has too many pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise WorkflowError("bad_photo", "the file is not a readable image") from None


def add_photo(inspection: Inspection, item_id: str, raw: bytes, user: User,
              client_uuid: str | None = None) -> Photo:
    """Attach a checked, resized photo to an item; idempotent for a client uuid."""
    _require_editable(inspection, user)
    checklist = checklist_for(inspection)
    try:
        checklist.item(item_id)
    except KeyError:
        raise WorkflowError("unknown_item", f"item {item_id} is not in this checklist") from None
    if client_uuid:
        existing = db.session.scalar(sa.select(Photo).where(Photo.uuid == client_uuid))
        if existing is not None:
            if existing.inspection_id != inspection.id:
                raise WorkflowError("uuid_taken", "this photo id is already used")
            return existing
    image = process_photo(raw)
    photo = Photo(uuid=client_uuid or str(uuidlib.uuid4()), inspection_id=inspection.id, item_id=item_id,
                  content_type=image.content_type, data=image.data, size_bytes=len(image.data),
                  width=image.width, height=image.height, sha256=hashlib.sha256(image.data).hexdigest(),
                  uploaded_by_id=user.id)
    _bump(inspection, user)
    db.session.add(photo)
    db.session.flush()
    return photo


def delete_photo(photo: Photo, user: User) -> None:
    """Remove a photo from an editable inspection."""
    inspection = db.session.get(Inspection, photo.inspection_id)
    _require_editable(inspection, user)
    _bump(inspection, user)
    db.session.delete(photo)
    db.session.flush()
