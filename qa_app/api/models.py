"""Idempotency keys of the offline sync: a retried request gets the stored response, never a second write."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db, intpk, timestamp


class SyncRequest(db.Model):
    """One processed sync request: who sent it under which key, a hash of its body, and the answer given.

    The row is written in the same transaction as the changes the request made, so either both exist or
    neither does: a connection dropped after the commit leaves a row whose response is replayed on retry.
    """

    __tablename__ = "sync_request"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "key"),
        sa.CheckConstraint("length(key) >= 8", name="key_length"),
        sa.CheckConstraint("status_code >= 200 AND status_code < 500", name="status_code_range"),
    )

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(80))
    # sha256 of the canonical JSON body: the same key with another body is refused, not replayed.
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    inspection_uuid: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    status_code: Mapped[int]
    response: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[timestamp]
