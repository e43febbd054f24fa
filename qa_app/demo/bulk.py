"""Bulk writing for the demo generator: Core inserts in chunks that return the new ids in order, and the
check that the database is empty first."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from ..auth.models import User
from ..extensions import db
from ..facilities.models import Facility
from ..inspections.models import (
    Inspection,
)
from ..regions.models import AdminUnit


def _require_empty() -> None:
    for model in (AdminUnit, User, Facility, Inspection):
        if db.session.scalar(sa.select(sa.func.count()).select_from(model)):
            raise RuntimeError(f"demo data goes into an empty database; table {model.__tablename__} has rows")


def _chunks(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _insert_returning(table: sa.Table, rows: list[dict[str, Any]], size: int = 5_000) -> list[int]:
    """Insert rows and return their new ids in the same order (one batched statement per chunk)."""
    ids: list[int] = []
    for chunk in _chunks(rows, size):
        stmt = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids += db.session.execute(stmt, list(chunk)).scalars().all()
    return ids
