"""Pick a back-end from what the host passes: a path, a URL, or ``memory://``."""

from __future__ import annotations

import os

from .._extras import require
from ..errors import StoreError
from .base import CaseStore
from .keys import AuditKeys
from .memory import MemoryStore
from .sql import SQLStore

__all__ = ["open_store"]


def open_store(
    url_or_path: str | os.PathLike[str], *, synchronous: str = "FULL", pool_size: int = 5, create: bool = True,
    audit_keys: AuditKeys | None = None, lock_timeout: float = 5.0, statement_timeout: float = 30.0,
) -> CaseStore:
    """Open (and create or upgrade) a case store.

    With ``create=False`` (what every command that reads a store uses) a missing SQLite
    file or an empty database is an error instead of a new, empty store: a mistyped
    ``--db`` must not report "0 cases, all well".

    New events are chained with ``audit_keys`` (HMAC-SHA256), or with the keys in the file
    that ``PATHWAYS_AUDIT_KEYS`` names; with neither, the audit is unkeyed (plain SHA-256,
    which an insider with write access can recompute; see docs/storage.md).

    On PostgreSQL a verb gives up with a :class:`StoreError` (nothing written) after
    ``lock_timeout`` seconds waiting for a row lock, or ``statement_timeout`` seconds running.

    * a plain file path or ``sqlite:///path`` → SQLite in WAL mode with a busy timeout;
    * ``postgresql+psycopg://user:pw@host:5432/db`` (or ``postgresql://…``) → PostgreSQL;
    * ``memory://`` → an in-process store (tests, examples).

    Raises:
        StoreError: not a database, a foreign or damaged file, a schema from the future,
            or a server that cannot be reached; nothing is written in any of these cases.
    """
    if audit_keys is None:
        audit_keys = AuditKeys.from_env()
    text = os.fspath(url_or_path)
    if not text.strip():
        raise StoreError("no case store given; pass a file path or a database URL")
    if text == "memory://":
        return MemoryStore(audit_keys=audit_keys)
    if "://" not in text:
        if os.path.isdir(text):
            raise StoreError(f"{text!r} is a folder; give the path of a database file inside it, e.g. {os.path.join(text, 'cases.db')!r}")
        return SQLStore("sqlite:///" + os.path.abspath(text), synchronous=synchronous, create=create, audit_keys=audit_keys,
                        lock_timeout=lock_timeout, statement_timeout=statement_timeout)
    if text.startswith("postgresql://") or text.startswith("postgres://"):
        text = "postgresql+psycopg://" + text.split("://", 1)[1]
    if text.startswith("postgresql"):
        require("postgres", "a PostgreSQL case store")
    return SQLStore(text, synchronous=synchronous, pool_size=pool_size, create=create, audit_keys=audit_keys,
                        lock_timeout=lock_timeout, statement_timeout=statement_timeout)
