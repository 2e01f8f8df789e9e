"""Durable cases: one store interface; SQLite by default, PostgreSQL for many workers.

>>> from pathways.store import DurableEngine, open_store      # doctest: +SKIP
>>> store = open_store("cases.db")                             # doctest: +SKIP
>>> engine = DurableEngine(registry, store)                    # doctest: +SKIP
"""

from .._extras import needs as _needs

with _needs("store", "the case store (pathways.store)"):
    from ._open import open_store
    from .audit import AuditResult, replay_stored, verify
    from .base import ApprovalWait, CaseStore, CaseSummary, CaseWrite, Loaded, MigrationRecord
    from .checkpoint import (
        CheckpointResult,
        export_checkpoints,
        generate_signing_key,
        load_public_key,
        load_signing_key,
        verify_export,
        write_checkpoint,
    )
    from .durable import DurableEngine, retry
    from .keys import AuditKeys
    from .memory import MemoryStore
    from .migrate import MigrationResult, migrate
    from .schema import CURRENT_VERSION
    from .sql import SQLStore
    from .worker import run_worker

__all__ = [
    "CURRENT_VERSION",
    "ApprovalWait",
    "AuditKeys",
    "AuditResult",
    "CaseStore",
    "CaseSummary",
    "CaseWrite",
    "CheckpointResult",
    "DurableEngine",
    "Loaded",
    "MemoryStore",
    "MigrationRecord",
    "MigrationResult",
    "SQLStore",
    "export_checkpoints",
    "generate_signing_key",
    "load_public_key",
    "load_signing_key",
    "migrate",
    "open_store",
    "replay_stored",
    "retry",
    "run_worker",
    "verify",
    "verify_export",
    "write_checkpoint",
]
