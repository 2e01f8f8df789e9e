"""The deadline worker: fire due escalations and approval timeouts, forever or once.

Every case is fired in its own transaction guarded by its seq, so a worker killed
mid-batch loses nothing (unfired cases stay due) and two workers never fire the same
escalation twice (the second one's ``UPDATE … WHERE seq = ?`` matches no row).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..errors import ActionRefused, CapacityError, ConcurrentUpdate
from .durable import DurableEngine

__all__ = ["run_worker"]


def run_worker(
    engine: DurableEngine,
    *,
    once: bool = False,
    batch: int = 100,
    interval: float = 5.0,
    stop: Callable[[], bool] | None = None,
    log: Callable[[str], None] | None = None,
) -> int:
    """Fire due work until ``stop()`` is true (or, with ``once``, until nothing is due).

    Returns the number of events fired. A case whose escalation is refused (e.g. no
    place free) is logged by id and retried on the next pass, never fired twice.
    """
    say = log or (lambda _text: None)
    fired = 0
    while stop is None or not stop():
        now = engine.clock.now()
        n_events = 0
        due = engine.store.due_before(now, limit=batch)
        for summary in due:
            try:
                n_events += len(engine.fire_due_case(summary.id, now))
            except ConcurrentUpdate:
                say(f"case {summary.id}: handled by another worker")
            except (ActionRefused, CapacityError) as exc:
                say(f"case {summary.id}: escalation refused ({type(exc).__name__})")
        fired += n_events
        if n_events:
            say(f"fired {n_events} event(s) on {len(due)} due case(s)")
        if once and n_events == 0:
            break
        if not once and n_events == 0:
            time.sleep(interval)
    return fired
