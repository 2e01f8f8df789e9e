"""The versioned database schema, created and upgraded by SQLAlchemy itself.

Version history (``schema_version.version``):

1. events, cases (responsible roles kept as a JSON column ``owners``), resources.
2. responsible roles move to the indexed table ``case_owners`` (so "owned by" is fast at
   a million cases) and ``migrations`` records definition-version moves.
3. ``approval_waits`` holds the open slots of pending approval requests (a leader's inbox
   by role or sector) and ``cases`` gets an index by citizen. Requests pending when a
   store is upgraded enter the inbox at their next approval or refusal.
4. events carry the ``key_id`` of the HMAC key that chained them (``NULL``: unkeyed) and,
   on a case's first event, the ``citizen``;
   ``checkpoints`` / ``checkpoint_heads`` keep signed checkpoints of every case's head.
5. ``cases.citizen_key`` (indexed, replacing the index by ``citizen``): the citizen's
   normalised id as :func:`~pathways.store.base.citizen_key` computes it, so a citizen's
   cases are found however the id is spelled (``P-1`` is ``p-1``); the upgrade computes it
   for every stored case. ``citizen`` keeps the id as given.

:func:`ensure_schema` creates the current version in an empty database, upgrades an
older one step by step in one transaction, and refuses a database that is not a
pathways store or whose schema is newer than this code, writing nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from .._limits import MAX_CASE_ID, MAX_ID
from ..errors import NotAStore, SchemaTooNew
from .base import citizen_key

__all__ = ["CURRENT_VERSION", "approval_waits", "ensure_schema", "metadata", "metadata_v1"]

CURRENT_VERSION = 5


def _events(md: sa.MetaData, *, key_id: bool = True) -> sa.Table:
    return sa.Table(
        "events", md,
        sa.Column("case_id", sa.String(MAX_CASE_ID), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor_person", sa.String(MAX_ID)),
        sa.Column("actor_role", sa.String(MAX_ID)),
        sa.Column("actor_sector", sa.String(MAX_ID)),
        sa.Column("trigger", sa.String(MAX_ID)),
        sa.Column("from_state", sa.String(MAX_ID), nullable=False),
        sa.Column("to_state", sa.String(MAX_ID), nullable=False),
        sa.Column("approvals", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("facts", sa.Text, nullable=False),
        sa.Column("link", sa.Text),
        sa.Column("pathway_id", sa.String(MAX_ID), nullable=False),
        sa.Column("pathway_version", sa.Integer, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        *([sa.Column("key_id", sa.String(64)), sa.Column("citizen", sa.String(MAX_ID))] if key_id else []),
    )


def _cases(md: sa.MetaData, *, owners_column: bool, citizen_key: bool = True) -> sa.Table:
    extra: list[Any] = [sa.Column("owners", sa.Text, nullable=False, server_default="[]")] if owners_column else []
    if citizen_key:
        extra += [sa.Column("citizen_key", sa.String(64), nullable=False), sa.Index("ix_cases_citizen_key", "citizen_key", "id")]
    return sa.Table(
        "cases", md,
        sa.Column("id", sa.String(MAX_CASE_ID), primary_key=True),
        sa.Column("citizen", sa.String(MAX_ID), nullable=False),
        sa.Column("pathway_id", sa.String(MAX_ID), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(MAX_ID), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("terminal", sa.Boolean, nullable=False),
        sa.Column("due_at", sa.BigInteger),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),
        *extra,
        sa.Index("ix_cases_state", "pathway_id", "state", "id"),
        sa.Index("ix_cases_due", "due_at"),
        sa.Index("ix_cases_version", "pathway_id", "version", "terminal"),
    )


def _resources(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "resources", md,
        sa.Column("id", sa.String(MAX_ID), primary_key=True),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("in_use", sa.Integer, nullable=False),
        sa.CheckConstraint("in_use >= 0", name="ck_resources_in_use"),
    )


def _version_table(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "schema_version", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer, nullable=False),
    )


def _owners(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "case_owners", md,
        sa.Column("case_id", sa.String(MAX_CASE_ID), primary_key=True),
        sa.Column("role", sa.String(MAX_ID), primary_key=True),
        sa.Column("sector", sa.String(MAX_ID), nullable=False),
        sa.Index("ix_owners_role", "role", "case_id"),
        sa.Index("ix_owners_sector", "sector", "case_id"),
    )


def _approval_waits(md: sa.MetaData) -> sa.Table:
    """One row per open (role, sector) slot of a case's pending approval request."""
    return sa.Table(
        "approval_waits", md,
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(128), primary_key=True),
        sa.Column("sector", sa.String(128), nullable=False),
        sa.Column("pathway_id", sa.String(128), nullable=False),
        sa.Column("trigger", sa.String(128), nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("requested_at", sa.BigInteger, nullable=False),
        sa.Column("approved_by", sa.Text, nullable=False),
        sa.Index("ix_waits_role", "role", "requested_at", "case_id"),
        sa.Index("ix_waits_sector", "sector", "requested_at", "case_id", "role"),
    )


def _migrations(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "migrations", md,
        sa.Column("case_id", sa.String(MAX_CASE_ID), primary_key=True),
        sa.Column("at_seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("pathway_id", sa.String(MAX_ID), nullable=False),
        sa.Column("from_version", sa.Integer, nullable=False),
        sa.Column("to_version", sa.Integer, nullable=False),
        sa.Column("from_state", sa.String(MAX_ID), nullable=False),
        sa.Column("to_state", sa.String(MAX_ID), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
    )


def _checkpoints(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "checkpoints", md,
        sa.Column("n", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
    )


def _checkpoint_heads(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "checkpoint_heads", md,
        sa.Column("n", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("case_id", sa.String(MAX_CASE_ID), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
    )


metadata_v1 = sa.MetaData()
"""Schema version 1 (kept to test the upgrade)."""
_events(metadata_v1, key_id=False)
_cases(metadata_v1, owners_column=True, citizen_key=False)
_resources(metadata_v1)
_version_table(metadata_v1)

metadata = sa.MetaData()
"""The current schema."""
events = _events(metadata)
cases = _cases(metadata, owners_column=False)
resources = _resources(metadata)
schema_version = _version_table(metadata)
case_owners = _owners(metadata)
migrations = _migrations(metadata)
approval_waits = _approval_waits(metadata)
checkpoints = _checkpoints(metadata)
checkpoint_heads = _checkpoint_heads(metadata)


def _upgrade_1_to_2(conn: sa.Connection) -> None:
    md = sa.MetaData()
    _owners(md).create(conn)
    _migrations(md).create(conn)
    old = sa.table("cases", sa.column("id"), sa.column("owners"))
    rows = []
    for case_id, owners in conn.execute(sa.select(old.c.id, old.c.owners)):
        rows += [{"case_id": case_id, "role": role, "sector": sector} for role, sector in json.loads(owners)]
    if rows:
        conn.execute(case_owners.insert(), rows)
    conn.exec_driver_sql("ALTER TABLE cases DROP COLUMN owners")


def _upgrade_2_to_3(conn: sa.Connection) -> None:
    md = sa.MetaData()
    _approval_waits(md).create(conn)
    conn.exec_driver_sql("CREATE INDEX ix_cases_citizen ON cases (citizen, id)")  # not sa.Index: it would join `cases`


def _upgrade_3_to_4(conn: sa.Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE events ADD COLUMN key_id VARCHAR(64)")
    conn.exec_driver_sql(f"ALTER TABLE events ADD COLUMN citizen VARCHAR({MAX_ID})")
    md = sa.MetaData()
    _checkpoints(md).create(conn)
    _checkpoint_heads(md).create(conn)


def _upgrade_4_to_5(conn: sa.Connection) -> None:
    """Every stored case gets its citizen's key, computed here (SQL has no NFKC), page by page."""
    conn.exec_driver_sql("ALTER TABLE cases ADD COLUMN citizen_key VARCHAR(64)")
    old = sa.table("cases", sa.column("id"), sa.column("citizen"), sa.column("citizen_key"))
    fill = old.update().where(old.c.id == sa.bindparam("w_id")).values(citizen_key=sa.bindparam("key"))
    after = ""
    while page := conn.execute(
        sa.select(old.c.id, old.c.citizen).where(old.c.id > after).order_by(old.c.id).limit(5000)
    ).all():
        conn.execute(fill, [{"w_id": case_id, "key": citizen_key(citizen)} for case_id, citizen in page])
        after = page[-1][0]
    if conn.dialect.name == "postgresql":  # SQLite cannot add NOT NULL to a column; every row has its key
        conn.exec_driver_sql("ALTER TABLE cases ALTER COLUMN citizen_key SET NOT NULL")
    conn.exec_driver_sql("DROP INDEX ix_cases_citizen")
    conn.exec_driver_sql("CREATE INDEX ix_cases_citizen_key ON cases (citizen_key, id)")


_UPGRADES: dict[int, Callable[[sa.Connection], None]] = {
    1: _upgrade_1_to_2, 2: _upgrade_2_to_3, 3: _upgrade_3_to_4, 4: _upgrade_4_to_5,
}


def create(conn: sa.Connection, md: sa.MetaData, version: int) -> None:
    """Create a schema version in an empty database (``md`` is that version's metadata)."""
    md.create_all(conn)
    conn.execute(sa.insert(md.tables["schema_version"]).values(id=1, version=version))


def ensure_schema(conn: sa.Connection, where: str, *, may_create: bool = True) -> int:
    """Create or upgrade the schema inside the caller's transaction; return the old version.

    Raises:
        NotAStore: the database holds other tables (or an empty schema_version), or
            (with ``may_create=False``) nothing at all.
        SchemaTooNew: the schema is from a newer pathways.
    """
    tables = set(sa.inspect(conn).get_table_names())
    if not tables and not may_create:
        raise NotAStore(f"{where} holds no case store (the database is empty); check the URL or database name", url=where)
    if not tables:
        create(conn, metadata, CURRENT_VERSION)
        return 0
    if "schema_version" not in tables:
        shown = ", ".join(sorted(tables)[:5])
        raise NotAStore(
            f"{where} is not a pathways store: it holds other tables ({shown}) and no schema_version; "
            "point --db at a new file or an empty database",
            url=where,
        )
    found = conn.execute(sa.select(schema_version.c.version)).scalar()
    if found is None:
        raise NotAStore(f"{where}: the schema_version table is empty; the store is damaged or not a pathways store", url=where)
    if isinstance(found, bool) or not isinstance(found, int) or found < 1:
        raise NotAStore(
            f"{where}: the stored schema version is {str(found)[:20]!r}, which no pathways ever wrote; "
            "the store is damaged: restore it from a backup, nothing was changed",
            url=where,
        )
    if found > CURRENT_VERSION:
        raise SchemaTooNew(
            f"{where} has schema version {found}, newer than this pathways understands ({CURRENT_VERSION}); "
            "upgrade the pathways package, nothing was changed",
            url=where, found=int(found), supported=CURRENT_VERSION,
        )
    for step in range(found, CURRENT_VERSION):
        _UPGRADES[step](conn)
    if found < CURRENT_VERSION:
        conn.execute(schema_version.update().values(version=CURRENT_VERSION))
    return int(found)
