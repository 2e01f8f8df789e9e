"""The deadline worker: fire due escalations and approval timeouts, forever or once.

Every case is fired in its own transaction guarded by its seq, so a worker killed
mid-batch loses nothing (unfired cases stay due) and two workers never fire the same
escalation twice (the second one's ``UPDATE … WHERE seq = ?`` matches no row). Each case
is first claimed (:meth:`~pathways.store.base.CaseStore.claim_due`: PostgreSQL ``FOR UPDATE
SKIP LOCKED``, SQLite ``BEGIN IMMEDIATE``, memory: the seq guard alone) and fired inside
that claim, so concurrent workers take different cases instead of racing for the same one.

It logs through ``pathways.worker`` (see :mod:`pathways.logs`): INFO per pass that fired,
WARNING per refused escalation, DEBUG per lost race; each record carries ``case_id``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from .. import logs
from ..errors import (
    ActionRefused,
    CapacityError,
    ConcurrentUpdate,
    InvalidArgument,
    SnapshotError,
    UnknownPathway,
    UnreadableCase,
)
from .durable import DurableEngine

__all__ = ["run_worker"]

_log = logs.get("worker")


def run_worker(
    engine: DurableEngine,
    *,
    once: bool = False,
    batch: int = 100,
    interval: float = 5.0,
    stop: Callable[[], bool] | None = None,
) -> int:
    """Fire due work until ``stop()`` is true (or, with ``once``, until nothing is due).

    Returns the number of events fired. A case whose escalation is refused (e.g. no
    place free) is logged by id and retried on the next pass, never fired twice. A case
    that cannot be read, or runs on a definition version that is not loaded, is logged
    as an error and skipped: one bad case never stops the worker for the others.

    Raises:
        InvalidArgument: ``interval`` below 0 or ``batch`` below 1.
    """
    if isinstance(interval, bool) or not isinstance(interval, int | float) or not interval >= 0:
        raise InvalidArgument("interval", "a number of seconds of at least 0", str(interval) if isinstance(interval, int | float) else type(interval).__name__)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise InvalidArgument("batch", "a whole number of at least 1", str(batch) if isinstance(batch, int) else type(batch).__name__)
    fired = 0
    while stop is None or not stop():
        n_events, n_cases = _claimed_pass(engine, engine.clock.now(), batch)
        fired += n_events
        if n_events:
            _log.info("fired %d event(s) on %d due case(s)", n_events, n_cases)
        if once and n_events == 0:
            break
        if not once and n_events == 0:
            time.sleep(interval)
    return fired


def _lost(case_id: str) -> None:
    _log.debug("case %s: handled by another worker", case_id, extra=logs.fields(case_id))


def _refused(case_id: str, exc: Exception) -> None:
    _log.warning("case %s: escalation refused (%s); retried on the next pass", case_id, type(exc).__name__, extra=logs.fields(case_id))


def _unreadable(case_id: str, exc: Exception) -> None:
    """One bad case never stops the worker: it is logged and the others are fired."""
    _log.error(
        "case %s: cannot be fired (%s: %s); skipped, the other cases go on — run 'pathways audit verify'",
        case_id, type(exc).__name__, exc, extra=logs.fields(case_id),
    )


def _claimed_pass(engine: DurableEngine, now: datetime, batch: int) -> tuple[int, int]:
    """Claim due cases one by one (the store's ``claim_due``) and fire each inside its claim.

    On a SQL store the claim's transaction is the firing's: it commits with the events,
    or rolls back (releasing the case, still due) when the escalation is refused or
    fails; a case tried once is not claimed again in this pass.
    """
    store = engine.store
    tried: list[str] = []
    n_events = 0
    while len(tried) < batch:
        try:
            with store.claim_due(now, skip=tried) as claimed:
                if claimed is None:
                    break
                tried.append(claimed.id)
                n_events += len(engine.fire_due(now, cases=[claimed.id]))
        except ConcurrentUpdate:
            _lost(tried[-1] if tried else "?")
        except (ActionRefused, CapacityError) as exc:
            _refused(tried[-1] if tried else "?", exc)
        except (UnreadableCase, UnknownPathway, SnapshotError) as exc:
            _unreadable(tried[-1] if tried else "?", exc)
    return n_events, len(tried)

