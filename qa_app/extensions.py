"""Unbound Flask extensions and the declarative base; imports only third-party code."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Annotated, Any

import sqlalchemy as sa
from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, mapped_column, registry

# Named constraints, so that migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator):
    """Timestamps stored as naive UTC and returned timezone-aware, identically on SQLite and PostgreSQL."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return value.replace(tzinfo=dt.UTC) if value is not None else None


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


intpk = Annotated[int, mapped_column(primary_key=True)]
timestamp = Annotated[dt.datetime, mapped_column(UTCDateTime(), default=utcnow)]


class Base(DeclarativeBase):
    """Declarative base with the constraint naming convention."""

    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime(), dict: sa.JSON, list: sa.JSON},
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # SQLite ignores foreign keys unless asked, and WAL plus a busy timeout lets autosaves from
    # several tablets wait for each other instead of failing with "database is locked".
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "connect")
def _postgresql_without_jit(dbapi_connection: Any, connection_record: Any) -> None:
    # PostgreSQL compiles a query to machine code (JIT) when its estimated cost is high, as the dashboard's
    # one-statement overview is at national scale: 2.1 s of compilation for 1.2 s of execution, on every
    # request, since compiled code is not kept between statements. The app's queries are all short; never JIT.
    if type(dbapi_connection).__module__.startswith("psycopg"):
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a SET outside any transaction, so it lasts for the session
        dbapi_connection.execute("SET jit = off")
        dbapi_connection.autocommit = autocommit


@event.listens_for(Engine, "savepoint")
def _sqlite_savepoint_needs_a_transaction(conn: Any, name: str) -> None:
    # Python's sqlite3 only opens a transaction before INSERT/UPDATE/DELETE, not before SAVEPOINT. A savepoint
    # taken before the request's first write would itself become the outermost transaction, and releasing it
    # would COMMIT the nested insert at once: a crash later in the request would leave a half-write (an answer
    # stored without the inspection's revision bump). Opening the transaction first keeps the request atomic.
    if conn.dialect.name == "sqlite":
        dbapi_connection = conn.connection.driver_connection
        if not dbapi_connection.in_transaction:
            dbapi_connection.execute("BEGIN")


def refresh_statistics(engine: Engine) -> None:
    """Gather the query planner's statistics (``ANALYZE``) after a bulk load.

    Without them both planners guess: a freshly generated national SQLite file ran the whole-country dashboard
    for over four minutes instead of four seconds, and PostgreSQL chose nested loops over the CTE scans (1.6 s
    instead of ~0.1 s on the province). PostgreSQL's autovacuum would catch up within a minute; SQLite never does.
    """
    with engine.connect() as connection:
        # ANALYZE cannot run inside a transaction block on PostgreSQL.
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
