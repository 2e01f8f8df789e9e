"""An evening at the 16 overnight places, with every case kept in a durable store.

What a host application does when cases must survive crashes and several staff act at
once: eighteen citizens arrive for sixteen places; the database, not the process,
counts the places; two staff act on the same case at the same moment and one of them
is told to re-read; the deadline worker moves a citizen who waited too long on to an
alternative; the host queries its cases and verifies the tamper-evident audit trail.
Everyone is discharged at the end, so the example can run again on the same database.

Run: python examples/durable_house.py [--db out/house.db | postgresql+psycopg://user:pw@host/db]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pathways
from pathways import Actor, ConcurrentUpdate, ManualClock, NoCapacity
from pathways.store import DurableEngine, open_store, retry, verify

ROOT = Path(__file__).resolve().parent.parent
PLACES = "overnight_places"

nurse = Actor("rn-lise", "nurse", "region")
psychiatrist = Actor("md-hansen", "psychiatrist", "region")
social_worker = Actor("sr-karim", "social_worker", "municipal_social")
outreach = Actor("ud-omar", "outreach_worker", "municipal_social")


def evening(engine: DurableEngine, clock: ManualClock, arrivals: int) -> int:
    store = engine.store
    free = engine.registry.resources()[PLACES].capacity - store.in_use(PLACES)
    print(f"== {arrivals} citizens arrive; {free} of the overnight places are free ==")
    admitted: list[str] = []
    waiting: list[str] = []
    for _ in range(arrivals):
        citizen = Actor(f"c-{secrets.token_hex(3)}", "citizen", "citizen")  # a pseudonym, never a CPR number
        case = engine.start("overnight_stay", citizen.person)
        engine.fire(case.id, "assess", nurse)
        engine.set_fact(case.id, "consent_given", True, citizen)
        try:
            engine.fire(case.id, "admit", social_worker)
            admitted.append(case.id)
        except NoCapacity as exc:
            print(f"  {citizen.person}: not admitted — {exc}")
            engine.fire(case.id, "wait_for_place", nurse)
            waiting.append(case.id)
    print(f"  admitted {len(admitted)}; places in use (counted in the database): {store.in_use(PLACES)}")

    print("\n== Two staff act on the same case at the same moment ==")
    first = admitted[0]
    seen_by_nurse = engine.case(first)
    seen_by_psychiatrist = engine.case(first)
    engine.fire(seen_by_nurse, "stay_review", nurse)
    print(f"  {nurse.person} starts the review of {first}")
    try:
        engine.fire(seen_by_psychiatrist, "discharge", psychiatrist)
    except ConcurrentUpdate as exc:
        print(f"  {psychiatrist.person} is told: {exc}")
    retry(lambda: engine.fire(first, "discharge", psychiatrist))
    print(f"  {psychiatrist.person} re-reads, is still allowed, and discharges; places in use: {store.in_use(PLACES)}")
    admitted.remove(first)
    if waiting:
        engine.fire(waiting[0], "admit", social_worker)
        admitted.append(waiting.pop(0))
        print(f"  the first waiting citizen gets the free place; places in use: {store.in_use(PLACES)}")

    print("\n== Three hours later, the deadline worker runs ==")
    clock.advance(timedelta(hours=3))
    for event in engine.fire_due():
        print(f"  {event.case_id}: {event.trigger} {event.from_state} → {event.to_state} ({event.reason})")
    for case_id in waiting:
        engine.fire(case_id, "outreach_home", outreach)
        print(f"  {case_id}: the outreach team takes the citizen home instead — {engine.case(case_id).state}")

    print("\n== What the host can ask the store ==")
    print(f"  staying now: {len(store.in_state('overnight_stay', 'staying', limit=1000))}")
    print(f"  owned by a social worker: {len(store.owned_by(role='social_worker', limit=1000))}")
    print(f"  owned by the municipality's social services: {len(store.owned_by(sector='municipal_social', limit=1000))}")
    print(f"  deadlines in the next two days: {len(store.due_before(clock.now() + timedelta(days=2), limit=1000))}")
    for event in store.history(admitted[0]):
        who = event.actor.person if event.actor else ("the clock" if event.kind.value == "escalated" else "-")
        print(f"  {event.seq:>2} {event.kind.value:<9} {event.trigger or '-':<12} {event.from_state} → {event.to_state} by {who}")

    print("\n== The end of the evening: everyone is discharged ==")
    for case_id in admitted:
        engine.fire(case_id, "discharge", nurse)
    report = verify(store)
    print(f"  places in use: {store.in_use(PLACES)}; audit trail: "
          + (f"intact ({report.cases} cases, {report.events} events)" if report.ok else f"TAMPERED: {report.problem}"))
    return 0 if report.ok and store.in_use(PLACES) == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", default=os.environ.get("PATHWAYS_DB", "out/house.db"),
                        help="SQLite file or PostgreSQL URL (default: $PATHWAYS_DB or out/house.db)")
    parser.add_argument("--definitions", type=Path, default=ROOT / "definitions")
    parser.add_argument("--arrivals", type=int, default=18)
    args = parser.parse_args(argv)
    if "://" not in args.db:
        Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    try:
        registry = pathways.load_registry(args.definitions)
        store = open_store(args.db)
        try:
            clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
            print(f"case store: {args.db}\n")
            return evening(DurableEngine(registry, store, clock=clock), clock, args.arrivals)
        finally:
            store.close()
    except pathways.PathwaysError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
