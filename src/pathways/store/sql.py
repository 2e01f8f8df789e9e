"""One SQLAlchemy Core store serving SQLite (embedded default) and PostgreSQL (many workers).

Concurrency is optimistic and enforced by the database, never by this process:

* a case row moves only with ``UPDATE cases … WHERE id = ? AND seq = ? AND version = ?``;
  no row updated means another writer got there first → :class:`ConcurrentUpdate`;
* a shared place is taken only with ``UPDATE resources SET in_use = in_use + 1 WHERE
  id = ? AND in_use + 1 <= capacity``; no row → :class:`NoCapacity`;
* events, case rows and places change in one transaction (SQLite: ``BEGIN IMMEDIATE``
  in WAL mode; PostgreSQL: READ COMMITTED, whose row locks re-check the WHERE clauses);
  on PostgreSQL the usual move of one case is a single statement (see ``_pg_move``).

The hot path (``load`` and ``commit``) runs statements compiled once per store on DB-API
connections the store keeps idle between calls; the rest goes through SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from .. import _arguments as _args
from .. import logs
from ..case import Case, Event
from ..errors import NotAStore, PathwaysError, StoreError, StoreUnreachable, UnknownCase
from . import schema
from .base import (
    ApprovalWait,
    CaseSummary,
    CaseWrite,
    Loaded,
    MigrationRecord,
    case_from_row,
    case_row,
    chain,
    check_awaiting,
    citizen_key,
    concurrent,
    fits,
    inbox,
    lag_of,
    loaded_from_row,
    no_capacity,
    row_event,
    summary_from_row,
    to_micros,
    unchanged,
    wait_from_row,
    wait_row,
)
from .keys import AuditKeys

__all__ = ["SQLStore"]

_log = logs.get("store")

_C = schema.cases
_E = schema.events
_R = schema.resources
_O = schema.case_owners
_W = schema.approval_waits
_M = schema.migrations

_FIXED = ("id", "citizen", "citizen_key", "pathway_id")
"""Case columns a write never moves (the migration's update sets them to what they were)."""

_SUMMARY = (_C.c.id, _C.c.citizen, _C.c.pathway_id, _C.c.version, _C.c.state, _C.c.seq, _C.c.due_at, _C.c.terminal)


class _Prepared:
    """A Core statement compiled once for a dialect, run with the driver's own parameters.

    The hot path (read a case, write its events and row) runs thousands of times a
    second; compiling and cache-keying a fresh expression each time costs more than the
    database work, so those statements are built and compiled once per store.
    """

    def __init__(self, stmt: sa.ClauseElement, dialect: sa.Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        self.sql = str(compiled)
        self._order: list[str] | None = getattr(compiled, "positiontup", None)
        self._fixed = {k: v for k, v in compiled.params.items() if v is not None}  # constants of the shared rules

    def args(self, values: Mapping[str, Any]) -> Any:
        if self._fixed:
            values = {**self._fixed, **values}
        return tuple(values[k] for k in self._order) if self._order else dict(values)

    def run(self, cursor: Any, values: Mapping[str, Any]) -> int:
        """Execute on a DB-API cursor of the current transaction; the rows it touched."""
        cursor.execute(self.sql, self.args(values))
        return int(cursor.rowcount)

    def run_many(self, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        if len(rows) == 1:  # the usual case; psycopg's executemany costs a pipeline sync
            cursor.execute(self.sql, self.args(rows[0]))
        else:
            cursor.executemany(self.sql, [self.args(r) for r in rows])


def _bind(*names: str) -> dict[str, Any]:
    return {n: sa.bindparam(n) for n in names}


_TIMEOUTS = {
    "55P03": "another transaction held the rows this needs for longer than lock_timeout; try again",
    "57014": "the statement ran longer than statement_timeout and was cancelled",
}
"""PostgreSQL's SQLSTATEs for the two timeouts, in words."""


def _reason(exc: BaseException) -> str:
    """The database's own first line, without SQL or parameters (they may hold data)."""
    orig = getattr(exc, "orig", None) or exc
    if (words := _TIMEOUTS.get(getattr(orig, "sqlstate", None) or "")) is not None:
        return words
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def _open_error(exc: sa.exc.SQLAlchemyError, url: str) -> StoreError:
    """Why a store cannot be opened: unreachable, not a database, or another failure."""
    message = f"cannot open the case store at {url}: {_reason(exc)}"
    if isinstance(exc, sa.exc.OperationalError):
        return StoreUnreachable(message, url=url)
    if type(exc) is sa.exc.DatabaseError:  # SQLite: "file is not a database"
        return NotAStore(message, url=url)
    return StoreError(message)


def _unchanged_since_read() -> sa.ColumnElement[bool]:
    """The optimistic-concurrency rule (:func:`~pathways.store.base.unchanged`) as a WHERE clause."""
    return cast(sa.ColumnElement[bool], unchanged(_C.c.seq, _C.c.version, sa.bindparam("w_seq"), sa.bindparam("w_version")))


def _pg_move_sql(n_events: int, owners: bool, dialect: sa.Dialect) -> str:
    """The single PostgreSQL statement of :meth:`SQLStore._pg_move` for ``n_events`` events."""
    guard = str(_unchanged_since_read().compile(dialect=dialect))
    moved = [c.name for c in _C.columns if c.name not in _FIXED]
    sets = ", ".join(f"{c} = %(c_{c})s" for c in moved)
    ecols = [c.name for c in _E.columns]
    values = ", ".join(
        "(" + ", ".join("(SELECT id FROM u)" if c == "case_id" else f"%(e{i}_{c})s" for c in ecols) + ")"
        for i in range(n_events)
    )
    owner_ctes = (
        ", d AS (DELETE FROM case_owners WHERE case_id = (SELECT id FROM u) AND role <> ALL(%(roles)s::text[]))"
        ", o AS (INSERT INTO case_owners (case_id, role, sector)"
        " SELECT u.id, r.role, r.sector FROM u CROSS JOIN unnest(%(roles)s::text[], %(sectors)s::text[]) AS r(role, sector)"
        " ON CONFLICT (case_id, role) DO UPDATE SET sector = excluded.sector)"
        if owners else ""
    )
    return (
        f"WITH u AS (UPDATE cases SET {sets} WHERE id = %(w_id)s AND {guard}"
        f" RETURNING id){owner_ctes} INSERT INTO events ({', '.join(ecols)}) VALUES {values}"
    )


class SQLStore:
    """Cases in SQLite or PostgreSQL; see :func:`pathways.store.open_store`.

    Args:
        url: a SQLAlchemy URL, ``sqlite:///path`` or ``postgresql+psycopg://…``.
        synchronous: ``FULL`` (default): a commit is on disk before it returns and
            survives power loss. ``NORMAL``: a commit survives a crashed application
            process but the last moments may be lost if the machine or database server
            crashes (SQLite ``synchronous=NORMAL`` in WAL; PostgreSQL
            ``synchronous_commit=off``); never a partial or inconsistent write.
        pool_size: PostgreSQL connections kept per process.
        create: make the schema in an empty database (and the SQLite file); when false,
            a missing file or an empty database raises :class:`StoreError`.
        audit_keys: the HMAC keys events are chained with (see :mod:`pathways.store.keys`).
        lock_timeout, statement_timeout: PostgreSQL gives up (→ :class:`StoreError`, nothing
            written) when a verb waits this many seconds for a row another transaction
            holds, or a statement runs this long (SQLite waits up to 30 s for the writer lock).
    """

    def __init__(
        self, url: str | sa.URL, *, synchronous: str = "FULL", pool_size: int = 5, create: bool = True,
        audit_keys: AuditKeys | None = None, lock_timeout: float = 5.0, statement_timeout: float = 30.0,
    ) -> None:
        self.audit_keys = audit_keys
        for name, seconds in (("lock_timeout", lock_timeout), ("statement_timeout", statement_timeout)):
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds < 86_400:
                raise StoreError(f"{name} must be a number of seconds between 0 and 86400, not {seconds!r}")
        try:
            parsed = sa.make_url(url)
            parsed.port  # noqa: B018 - parsing the port raises ValueError for e.g. ':notaport'
        except (sa.exc.ArgumentError, ValueError) as exc:
            detail = "the port must be a number; " if isinstance(exc, ValueError) else ""
            raise StoreError(
                f"not a database URL or path; {detail}use a file path, sqlite:///path or postgresql+psycopg://user@host:5432/db"
            ) from None
        self.url = parsed.render_as_string(hide_password=True)
        self.dialect = parsed.get_backend_name()
        if synchronous not in ("FULL", "NORMAL"):
            raise StoreError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
        if self.dialect == "sqlite":
            if not create and not (parsed.database and os.path.isfile(parsed.database)):
                raise StoreUnreachable(
                    f"no case store at {parsed.database or self.url}: the file does not exist; check the path "
                    "(a store is created by the host application that starts cases)",
                    url=self.url,
                )
            self._engine = self._sqlite(parsed, synchronous)
        elif self.dialect == "postgresql":
            if parsed.get_driver_name() != "psycopg":
                parsed = parsed.set(drivername="postgresql+psycopg")
            options = f"-c lock_timeout={round(lock_timeout * 1000)} -c statement_timeout={round(statement_timeout * 1000)}"
            options += " -c synchronous_commit=off" if synchronous == "NORMAL" else ""
            self._engine = sa.create_engine(
                parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False,
                connect_args={"connect_timeout": 5, "application_name": "pathways", "options": options},
            )
        else:
            raise StoreError(
                f"unsupported database {self.dialect!r} in {self.url}; pathways stores cases in sqlite or postgresql"
            )
        self._prepare_statements(self._engine.dialect)
        self._dbapi: Any = self._engine.dialect.dbapi
        self._local = threading.local()  # .claim: the DB-API connection of an open claim_due
        self._idle: list[Any] = []  # hot-path connections kept out of the pool (see _raw)
        self._pid = os.getpid()
        self._keep = pool_size if self.dialect == "postgresql" else 5  # the pool keeps as many for other reads
        self._pg_moves: dict[tuple[int, bool], str] = {}
        try:
            with self._write() as conn:
                found = schema.ensure_schema(conn, self.url, may_create=create)
            if self.dialect == "sqlite":
                raw = self._engine.raw_connection()
                try:
                    raw.cursor().execute("PRAGMA journal_mode=WAL")
                finally:
                    raw.close()
        except PathwaysError:
            self._engine.dispose()
            raise
        except sa.exc.SQLAlchemyError as exc:
            self._engine.dispose()
            raise _open_error(exc, self.url) from None
        if found == 0:
            _log.info("created a case store (schema version %d) at %s", schema.CURRENT_VERSION, self.url)
        elif found < schema.CURRENT_VERSION:
            _log.info("upgraded the case store at %s from schema version %d to %d", self.url, found, schema.CURRENT_VERSION)
        else:
            _log.debug("opened the case store at %s", self.url)

    def _prepare_statements(self, dialect: sa.Dialect) -> None:
        row_cols = [c.name for c in _C.columns]
        moved = [c for c in row_cols if c not in _FIXED]
        self._load = _Prepared(sa.select(_C.c.snapshot, _C.c.seq, _C.c.head_hash).where(_C.c.id == sa.bindparam("id")), dialect)
        self._insert_case = _Prepared(_C.insert().values(_bind(*row_cols)), dialect)
        self._update_case = _Prepared(
            _C.update()
            .where(_C.c.id == sa.bindparam("w_id"), _unchanged_since_read())
            .values(_bind(*moved)),
            dialect,
        )
        self._insert_events = _Prepared(_E.insert().values(_bind(*(c.name for c in _E.columns))), dialect)
        self._delete_owners = _Prepared(_O.delete().where(_O.c.case_id == sa.bindparam("case_id")), dialect)
        self._insert_owner = _Prepared(_O.insert().values(_bind("case_id", "role", "sector")), dialect)
        self._delete_waits = _Prepared(_W.delete().where(_W.c.case_id == sa.bindparam("case_id")), dialect)
        self._insert_wait = _Prepared(_W.insert().values(_bind(*(c.name for c in _W.columns))), dialect)
        self._in_use = _Prepared(sa.select(_R.c.in_use).where(_R.c.id == sa.bindparam("res")), dialect)
        self._capacity = _Prepared(sa.select(_R.c.capacity).where(_R.c.id == sa.bindparam("res")), dialect)
        delta = sa.bindparam("delta", type_=sa.Integer)
        self._take = _Prepared(
            _R.update()
            .where(_R.c.id == sa.bindparam("res"), fits(_R.c.in_use, delta, _R.c.capacity))
            .values(in_use=_R.c.in_use + delta),
            dialect,
        )

    def _sqlite(self, url: sa.URL, synchronous: str) -> sa.Engine:
        path = url.database or ""
        if path in ("", ":memory:"):
            raise StoreError("a SQLite store needs a file path (an in-memory SQLite database is private to one connection); use 'memory://' for tests")
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise StoreError(f"cannot create the case store {path!r}: folder {parent!r} does not exist")
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _begin)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout = 30000")
            cur.execute(f"PRAGMA synchronous = {synchronous}")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            immediate = conn.get_execution_options().get("pathways_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    # -- transactions ----------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self._engine.connect().execution_options(pathways_write=True) as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        try:
            with self._engine.connect() as conn, conn.begin():
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"reading the case store at {self.url} failed: {_reason(exc)}") from None

    def close(self) -> None:
        while self._idle:
            self._release(self._idle.pop())
        self._engine.dispose()

    # -- writing ---------------------------------------------------------------------

    def ensure_resources(self, capacities: Mapping[str, int]) -> None:
        have = self.resources()
        if all(have.get(r, (None, 0))[0] == c for r, c in capacities.items()):
            return
        insert = pg_dialect.insert if self.dialect == "postgresql" else sqlite_dialect.insert
        with self._guard(None), self._write() as conn:
            for res, cap in sorted(capacities.items()):
                conn.execute(insert(_R).values(id=res, capacity=cap, in_use=0).on_conflict_do_nothing())
                conn.execute(_R.update().where(_R.c.id == res, _R.c.capacity != cap).values(capacity=cap))

    @contextlib.contextmanager
    def _guard(self, case_id: str | None, expected: int | None = None) -> Iterator[None]:
        try:
            yield
        except (sa.exc.IntegrityError, self._dbapi.IntegrityError):
            raise concurrent(case_id or "?", expected) from None
        except self._dbapi.OperationalError as exc:
            if self.dialect == "postgresql" and getattr(exc, "sqlstate", "") in ("40001", "40P01"):
                raise concurrent(case_id or "?", expected) from None
            raise StoreError(f"writing to the case store at {self.url} failed: {_reason(exc)}; nothing was written") from None
        except self._dbapi.Error as exc:
            raise StoreError(f"writing to the case store at {self.url} failed: {_reason(exc)}; nothing was written") from None
        except sa.exc.OperationalError as exc:
            if self.dialect == "postgresql" and getattr(exc.orig, "sqlstate", "") in ("40001", "40P01"):
                raise concurrent(case_id or "?", expected) from None
            raise StoreError(f"writing to the case store at {self.url} failed: {_reason(exc)}; nothing was written") from None
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"writing to the case store at {self.url} failed: {_reason(exc)}; nothing was written") from None

    @contextlib.contextmanager
    def _raw(self) -> Iterator[Any]:
        """A DB-API connection for the hot path, without a SQLAlchemy ``Connection`` around it.

        Inside :meth:`claim_due` it is the claim's connection (its transaction is open).
        Otherwise it comes from this store's own small stack of idle connections (taken
        from the pool once, so no checkout and reset per call), in autocommit: on
        PostgreSQL each statement, or an explicit ``BEGIN`` … ``COMMIT``, is its own
        transaction; SQLite runs with ``isolation_level=None``. A connection left inside a
        transaction or broken by an error is discarded, never reused.
        """
        bound = getattr(self._local, "claim", None)
        if bound is not None:
            yield bound
            return
        if self._pid != os.getpid():  # forked: the idle connections belong to the parent
            self._idle, self._pid = [], os.getpid()
        try:
            fairy = self._idle.pop()
        except IndexError:
            fairy = self._engine.raw_connection()
            if self.dialect == "postgresql":
                fairy.driver_connection.autocommit = True  # type: ignore[union-attr]
        dbapi: Any = fairy.driver_connection
        try:
            yield dbapi
        except BaseException:
            if self._is_idle(dbapi):
                self._put_back(fairy)
            else:
                fairy.invalidate()
            raise
        self._put_back(fairy)

    def _is_idle(self, dbapi: Any) -> bool:
        """Whether a hot-path connection is usable and outside any transaction."""
        try:
            if self.dialect == "postgresql":
                return not dbapi.closed and int(dbapi.info.transaction_status) == 0  # IDLE
            return not dbapi.in_transaction
        except Exception:
            return False

    def _put_back(self, fairy: Any) -> None:
        if len(self._idle) < self._keep:
            self._idle.append(fairy)
        else:
            self._release(fairy)

    def _release(self, fairy: Any) -> None:
        """Hand a hot-path connection back to the pool, in the mode SQLAlchemy expects."""
        if self.dialect == "postgresql":
            try:
                fairy.driver_connection.autocommit = False
            except self._dbapi.Error:
                fairy.invalidate()
                return
        fairy.close()

    def commit(self, writes: Sequence[CaseWrite], deltas: Mapping[str, int]) -> None:
        ordered = sorted(writes, key=lambda w: w.case.id)
        first = ordered[0] if ordered else None
        with self._guard(first.case.id if first else None, first.expected_seq if first else None), self._raw() as dbapi:
            cur = dbapi.cursor()
            bound = getattr(self._local, "claim", None) is not None
            if (
                self.dialect == "postgresql" and len(ordered) == 1 and ordered[0].expected_seq is not None
                and ordered[0].events and not any(deltas.values()) and not ordered[0].waits_changed
            ):
                self._pg_move(cur, ordered[0])  # one statement = one round trip = one transaction
                return
            if not bound:
                cur.execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
            try:
                self._write_rows(cur, ordered, deltas)
                if not bound:
                    cur.execute("COMMIT")
            except BaseException:
                if not bound:
                    with contextlib.suppress(self._dbapi.Error):
                        cur.execute("ROLLBACK")
                raise

    def _write_rows(self, cur: Any, ordered: Sequence[CaseWrite], deltas: Mapping[str, int]) -> None:
        for w in ordered:
            rows = chain(w, self.audit_keys)
            crow = case_row(w, rows[-1]["hash"] if rows else w.prev_hash)
            if w.expected_seq is None:
                self._insert_case.run(cur, crow)
            else:
                crow.update(w_id=w.case.id, w_seq=w.expected_seq, w_version=w.case.version)
                if self._update_case.run(cur, crow) != 1:
                    raise concurrent(w.case.id, w.expected_seq)
            if w.owners_changed or w.expected_seq is None:
                self._set_owners(cur, w.case.id, w.owners, new=w.expected_seq is None)
            if w.waits_changed:
                self._delete_waits.run(cur, {"case_id": w.case.id})
                if w.waits:
                    self._insert_wait.run_many(cur, [wait_row(x) for x in w.waits])
            if rows:
                self._insert_events.run_many(cur, rows)
        for res, delta in sorted(deltas.items()):
            if delta and self._take.run(cur, {"res": res, "delta": delta}) != 1:
                self._capacity.run(cur, {"res": res})
                found = cur.fetchone()
                raise no_capacity(res, found[0] if found else None, delta)

    def _pg_move(self, cur: Any, w: CaseWrite) -> None:
        """Move one PostgreSQL case in a single statement: row, events and owners.

        The events' ``case_id`` is the id the guarded ``UPDATE … RETURNING`` gave back; when
        another writer moved the case first, that is NULL and the NOT NULL constraint aborts
        the whole statement (→ :class:`ConcurrentUpdate`), so nothing is written.
        """
        rows = chain(w, self.audit_keys)
        crow = case_row(w, rows[-1]["hash"])
        params: dict[str, Any] = {f"c_{k}": v for k, v in crow.items()}
        params.update(w_id=w.case.id, w_seq=w.expected_seq, w_version=w.case.version)
        for i, row in enumerate(rows):
            params.update({f"e{i}_{k}": v for k, v in row.items()})
        if w.owners_changed:
            params["roles"] = [r for r, _ in w.owners]
            params["sectors"] = [s for _, s in w.owners]
        key = (len(rows), w.owners_changed)
        sql = self._pg_moves.get(key)
        if sql is None:
            sql = self._pg_moves[key] = _pg_move_sql(*key, self._engine.dialect)
        cur.execute(sql, params)
        if cur.rowcount != len(rows):  # pragma: no cover - the NOT NULL guard raises first
            raise concurrent(w.case.id, w.expected_seq)

    @contextlib.contextmanager
    def claim_due(self, when: datetime, *, skip: Collection[str] = ()) -> Iterator[CaseSummary | None]:
        """Hold the soonest due case (not in ``skip``) for one transaction; ``None`` if none.

        PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``, so concurrent workers each get a
        different case and never wait for one another. SQLite: the claim runs under
        ``BEGIN IMMEDIATE`` (one writer at a time), which is exclusive by itself. Verbs of
        a :class:`DurableEngine` on this store and thread read and write inside the claim;
        it commits when the block ends and rolls back if it raises.
        """
        if getattr(self._local, "claim", None) is not None:
            raise StoreError("claim_due is already open on this thread; finish that claim first")
        query = sa.select(*_SUMMARY).where(_C.c.due_at <= to_micros(when))
        if skip:
            query = query.where(_C.c.id.not_in(sorted(skip)))
        query = query.order_by(_C.c.due_at, _C.c.id).limit(1).with_for_update(skip_locked=True)
        with self._guard(None), self._write() as conn:
            row = conn.execute(query).mappings().first()
            self._local.claim = conn.connection.dbapi_connection
            try:
                yield summary_from_row(row) if row is not None else None
            finally:
                self._local.claim = None

    def _set_owners(self, cur: Any, case_id: str, owners: Sequence[tuple[str, str]], *, new: bool) -> None:
        if not new:
            self._delete_owners.run(cur, {"case_id": case_id})
        if owners:
            self._insert_owner.run_many(cur, [{"case_id": case_id, "role": r, "sector": s} for r, s in owners])

    def migrate(self, write: CaseWrite, record: MigrationRecord) -> None:
        crow = case_row(write, write.prev_hash)
        with self._guard(write.case.id, write.expected_seq), self._write() as conn:
            done = conn.execute(
                _C.update()
                .where(_C.c.id == write.case.id, unchanged(_C.c.seq, _C.c.version, write.expected_seq, record.from_version))
                .values({k: v for k, v in crow.items() if k != "id"})
            )
            if done.rowcount != 1:
                raise concurrent(write.case.id, write.expected_seq)
            cursor = conn.connection.cursor()
            self._set_owners(cursor, write.case.id, write.owners, new=False)
            if write.waits_changed:
                self._delete_waits.run(cursor, {"case_id": write.case.id})
                if write.waits:
                    self._insert_wait.run_many(cursor, [wait_row(x) for x in write.waits])
            conn.execute(_M.insert().values(
                case_id=record.case_id, at_seq=record.at_seq, pathway_id=record.pathway_id,
                from_version=record.from_version, to_version=record.to_version,
                from_state=record.from_state, to_state=record.to_state, at=record.at.isoformat(),
            ))

    # -- reading ---------------------------------------------------------------------

    def _row(self, conn: sa.Connection, case_id: str) -> sa.RowMapping:
        row = conn.execute(
            sa.select(_C.c.snapshot, _C.c.seq, _C.c.head_hash).where(_C.c.id == case_id)
        ).mappings().first()
        if row is None:
            raise UnknownCase(f"no case {case_id!r} in the store at {self.url}")
        return row

    def _first(self, stmt: _Prepared, values: Mapping[str, Any]) -> Any:
        """The first row a prepared read returns on the hot path (``None`` if it returns none)."""
        try:
            with self._raw() as dbapi:
                cur = dbapi.cursor()
                stmt.run(cur, values)
                return cur.fetchone()
        except self._dbapi.Error as exc:
            raise StoreError(f"reading the case store at {self.url} failed: {_reason(exc)}") from None

    def load(self, case_id: str) -> Loaded:
        row = self._first(self._load, {"id": case_id})
        if row is None:
            raise UnknownCase(f"no case {case_id!r} in the store at {self.url}")
        return loaded_from_row({"snapshot": row[0], "seq": row[1], "head_hash": row[2]}, case_id)

    def exists(self, case_id: str) -> bool:
        with self._read() as conn:
            return conn.execute(sa.select(_C.c.id).where(_C.c.id == case_id)).first() is not None

    def get(self, case_id: str, *, history: bool = True) -> Case:
        with self._read() as conn:
            return case_from_row(self._row(conn, case_id), case_id, self._history(conn, case_id) if history else None)

    def _history(self, conn: sa.Connection, case_id: str) -> list[Event]:
        rows = conn.execute(sa.select(_E).where(_E.c.case_id == case_id).order_by(_E.c.seq)).mappings()
        return [row_event(r) for r in rows]

    def history(self, case_id: str) -> list[Event]:
        with self._read() as conn:
            return self._history(conn, case_id)

    def summary(self, case_id: str) -> CaseSummary:
        with self._read() as conn:
            row = conn.execute(sa.select(*_SUMMARY).where(_C.c.id == case_id)).mappings().first()
        if row is None:
            raise UnknownCase(f"no case {case_id!r} in the store at {self.url}")
        return summary_from_row(row)

    def _summaries(self, query: sa.Select[Any]) -> list[CaseSummary]:
        with self._read() as conn:
            return [summary_from_row(r) for r in conn.execute(query).mappings()]

    def in_state(self, pathway_id: str, state: str, *, limit: int = 100, after: str = "") -> list[CaseSummary]:
        return self._summaries(
            sa.select(*_SUMMARY)
            .where(_C.c.pathway_id == pathway_id, _C.c.state == state, _C.c.id > after)
            .order_by(_C.c.id).limit(limit)
        )

    def owned_by(
        self, *, role: str | None = None, sector: str | None = None, limit: int = 100, after: str = ""
    ) -> list[CaseSummary]:
        if (role is None) == (sector is None):
            raise StoreError("owned_by needs exactly one of role= or sector=")
        if role is not None:
            ids = sa.select(_O.c.case_id).where(_O.c.role == role, _O.c.case_id > after)
        else:
            ids = sa.select(_O.c.case_id).where(_O.c.sector == sector, _O.c.case_id > after).distinct()
        sub = ids.order_by(_O.c.case_id).limit(limit).subquery()
        return self._summaries(
            sa.select(*_SUMMARY).join_from(sub, _C, _C.c.id == sub.c.case_id).order_by(_C.c.id)
        )

    def due_before(self, when: datetime, *, limit: int = 100) -> list[CaseSummary]:
        return self._summaries(
            sa.select(*_SUMMARY).where(_C.c.due_at <= to_micros(when)).order_by(_C.c.due_at, _C.c.id).limit(limit)
        )

    def awaiting(
        self, *, role: str | None = None, sector: str | None = None, person: str | None = None, limit: int = 100
    ) -> list[ApprovalWait]:
        check_awaiting(role, sector, person)
        query = sa.select(_W)
        if role is not None:
            query = query.where(_W.c.role == role)
        if sector is not None:
            query = query.where(_W.c.sector == sector)
        if person is not None:  # four-eyes in the database, so a page is full when it can be
            query = query.where(_W.c.requested_by != person, ~_W.c.approved_by.contains(f",{person},", autoescape=True))
        query = query.order_by(_W.c.requested_at, _W.c.case_id, _W.c.role)
        fetch = limit if sector is None else limit * 2  # a sector may have several open roles per case
        while True:
            with self._read() as conn:
                rows = conn.execute(query.limit(fetch)).mappings().all()
            found = inbox(map(wait_from_row, rows), person, limit)
            if len(found) == limit or len(rows) < fetch:
                return found
            fetch *= 4

    def of_citizen(self, citizen: str, *, limit: int = 100) -> list[CaseSummary]:
        _args.ident(citizen, "citizen")
        key = citizen_key(citizen)
        return self._summaries(sa.select(*_SUMMARY).where(_C.c.citizen_key == key).order_by(_C.c.id).limit(limit))

    def lag(self, now: datetime) -> timedelta:
        with self._read() as conn:
            oldest = conn.execute(sa.select(sa.func.min(_C.c.due_at))).scalar()
        return lag_of(oldest, now)

    def on_version(self, pathway_id: str, version: int) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(
                sa.select(_C.c.id).where(
                    _C.c.pathway_id == pathway_id, _C.c.version == version, _C.c.terminal == sa.false()
                ).order_by(_C.c.id)
            ).scalars())

    def in_use(self, resource: str) -> int:
        """Places taken now (inside :meth:`claim_due`: as the claim's transaction sees it)."""
        row = self._first(self._in_use, {"res": resource})
        return int(row[0]) if row else 0

    def resources(self) -> dict[str, tuple[int, int]]:
        with self._read() as conn:
            return {r.id: (r.capacity, r.in_use) for r in conn.execute(sa.select(_R))}

    def case_ids(self) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(sa.select(_C.c.id).order_by(_C.c.id)).scalars())

    def event_rows(self) -> Iterator[dict[str, Any]]:
        after: tuple[str, int] = ("", -1)
        while True:
            with self._read() as conn:
                page = [dict(r) for r in conn.execute(
                    sa.select(_E).where(sa.tuple_(_E.c.case_id, _E.c.seq) > sa.tuple_(*after))
                    .order_by(_E.c.case_id, _E.c.seq).limit(5000)
                ).mappings()]
            if not page:
                return
            yield from page
            after = (page[-1]["case_id"], page[-1]["seq"])

    def heads(self) -> dict[str, tuple[int, str]]:
        with self._read() as conn:
            return {r.id: (r.seq, r.head_hash) for r in conn.execute(sa.select(_C.c.id, _C.c.seq, _C.c.head_hash))}

    def case_rows(self) -> Iterator[dict[str, Any]]:
        after = ""
        while True:
            with self._read() as conn:
                page = [dict(r) for r in conn.execute(
                    sa.select(_C).where(_C.c.id > after).order_by(_C.c.id).limit(2000)
                ).mappings()]
                if not page:
                    return
                owners: dict[str, list[tuple[str, str]]] = {}
                for cid, role, sector in conn.execute(
                    sa.select(_O.c.case_id, _O.c.role, _O.c.sector)
                    .where(_O.c.case_id > after, _O.c.case_id <= page[-1]["id"])
                ):
                    owners.setdefault(cid, []).append((role, sector))
            for row in page:
                row["owners"] = sorted(owners.get(row["id"], ()))
            yield from page
            after = page[-1]["id"]

    def add_checkpoint(self, record: Mapping[str, Any], heads: Sequence[tuple[str, int, str]]) -> None:
        with self._guard(None), self._write() as conn:
            conn.execute(schema.checkpoints.insert().values(n=record["n"], body=record["body"], signature=record["signature"]))
            if heads:
                conn.execute(schema.checkpoint_heads.insert(), [
                    {"n": record["n"], "case_id": c, "seq": s, "head_hash": h} for c, s, h in heads
                ])

    def checkpoints(self) -> list[dict[str, Any]]:
        with self._read() as conn:
            return [dict(r) for r in conn.execute(sa.select(schema.checkpoints).order_by(schema.checkpoints.c.n)).mappings()]

    def checkpoint_heads(self, n: int) -> list[tuple[str, int, str]]:
        t = schema.checkpoint_heads
        with self._read() as conn:
            return [(r.case_id, r.seq, r.head_hash) for r in conn.execute(
                sa.select(t.c.case_id, t.c.seq, t.c.head_hash).where(t.c.n == n).order_by(t.c.case_id)
            )]

    def migrations(self, case_id: str) -> list[MigrationRecord]:
        with self._read() as conn:
            rows = conn.execute(sa.select(_M).where(_M.c.case_id == case_id).order_by(_M.c.at_seq)).mappings()
            return [
                MigrationRecord(
                    r["case_id"], r["at_seq"], r["pathway_id"], r["from_version"], r["to_version"],
                    r["from_state"], r["to_state"], datetime.fromisoformat(r["at"]),
                )
                for r in rows
            ]

    # -- maintenance -----------------------------------------------------------------

    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine (for bulk loads in benchmarks and for tests)."""
        return self._engine


def dumps_owners(owners: Sequence[tuple[str, str]]) -> str:
    """Schema v1 kept owners as JSON in the case row (used to build v1 stores in tests)."""
    return json.dumps([list(o) for o in owners])

