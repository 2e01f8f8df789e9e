"""A tour of the psychiatry house: one citizen from the walk-in to treatment at home.

A host application's view of `pathways`, using only the public API. One citizen (a
pseudonym, never a CPR number) walks in to Socialvagten in the evening, is accompanied to
an overnight place, stays past the review deadline, gets an extension signed off by the
shared leadership of region and municipality, is discharged early to the outgoing
ambulant team and finishes treatment at home with their housing support.

Run: .venv/bin/python examples/house_tour.py [--definitions PATH]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pathways
from pathways import Actor, Case, Engine, Event, EventKind, ManualClock

CITIZEN = "c-7f3a"
"""The host's pseudonymous id for the citizen; the library never sees a CPR number."""

DEFAULT_DEFINITIONS = Path(__file__).resolve().parent.parent / "definitions"

# The people in the story: a staff id, the role they act in, and their sector.
citizen = Actor(CITIZEN, "citizen", "citizen")
socialvagt = Actor("sv-anna", "social_duty_worker", "municipal_social")
outreach = Actor("ud-omar", "outreach_worker", "municipal_social")
nurse = Actor("rn-lise", "nurse", "region")
social_worker = Actor("sr-karim", "social_worker", "municipal_social")
psychiatrist = Actor("md-hansen", "psychiatrist", "region")
leader_region = Actor("lr-berg", "leader_region", "region")
leader_municipality = Actor("lm-juhl", "leader_municipality", "municipal_social")
housing_support = Actor("bs-maja", "housing_support", "municipal_social")


class Tour:
    """Prints what happens, in words a colleague in the house would use."""

    def __init__(self, engine: Engine, clock: ManualClock) -> None:
        self.engine = engine
        self.clock = clock

    def say(self, text: str) -> None:
        print(f"[{self.clock.now():%a %d %b %H:%M}] {text}")

    def where(self, case: Case) -> str:
        state = self.engine.pathway_of(case).state(case.state)
        return f"{case.pathway_id}: {state.label.en} ({case.state})"

    def fire(self, case: Case, trigger: str, actor: Actor, why: str) -> None:
        self.engine.fire(case, trigger, actor)
        self.say(f"{actor.person} ({actor.role}) — {why}")
        self.say(f"    now {self.where(case)}")

    def wait(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        events = self.engine.fire_due()
        self.say(f"… {delta} later; fire_due() fired {len(events)} event(s)")
        for e in events:
            self.say(f"    {e.case_id}: {e.kind.value} {e.trigger} {e.from_state} → {e.to_state} ({e.reason})")


def _who(event: Event) -> str:
    """Who caused an event; events without an actor come from a deadline or the other case."""
    if event.actor is not None:
        return event.actor.person
    if event.link is not None:
        return f"the answer in {event.link.case_id}"
    return "the clock (deadline)"


def tour(definitions: Path) -> int:
    registry = pathways.load_registry(definitions)
    clock = ManualClock(datetime(2026, 1, 5, 21, 30, tzinfo=UTC))
    ids = (f"case-{n}" for n in itertools.count(1))
    engine = Engine(registry, clock=clock, new_id=lambda: next(ids))
    t = Tour(engine, clock)

    print("== The walk-in: Åben rådgivning, open 16-24, no referral ==")
    walk = engine.start("walk_in", CITIZEN, actor=socialvagt)
    t.say(f"{CITIZEN} walks in without an appointment; {t.where(walk)}")
    t.fire(walk, "start_conversation", socialvagt, "starts the conversation")
    reasons = engine.why_not(walk, "consult_region", socialvagt)
    t.say("Can Socialvagten consult the regional nurse yet? " + "; ".join(r.message for r in reasons))
    engine.set_fact(walk, "consent_to_consult_region", True, citizen)
    t.say(f"{CITIZEN} consents to sharing information with the region")
    t.fire(walk, "consult_region", socialvagt, "asks the regional nurse next door for advice")
    clock.advance(timedelta(minutes=20))
    t.fire(walk, "regional_advice_given", nurse, "advises an overnight place as an alternative to admission")
    t.fire(walk, "refer_overnight", outreach, "refers to an overnight place and accompanies the citizen")
    assert walk.referral is not None
    stay = engine.case(walk.referral.case_id)
    t.say(f"    a hand-over case is waiting: {t.where(stay)}; Socialvagten stays responsible")

    print("\n== The overnight place: 16 shared places, no coercion ==")
    t.fire(stay, "accept", nurse, "accepts the referral")
    t.say(f"    and the walk-in case ends: {t.where(walk)}")
    t.say("What may the citizen do here? "
          + ", ".join(o.trigger for o in engine.options(stay, citizen) if o.allowed))
    reasons = engine.why_not(stay, "admit", social_worker)
    t.say("Why can't the social worker admit yet? " + "; ".join(r.message for r in reasons))
    try:
        engine.fire(stay, "admit", social_worker)
    except pathways.GuardFailed as exc:
        t.say(f"    refused ({type(exc).__name__}): {exc}")
    engine.set_fact(stay, "consent_given", True, citizen)
    t.say(f"{CITIZEN} says yes to the stay")
    t.fire(stay, "admit", social_worker, "admits to a free place")
    t.say(f"    places in use: {engine.in_use('overnight_places')} of {engine.capacity('overnight_places')}")

    t.wait(timedelta(days=2))
    t.say(f"    {t.where(stay)}")
    t.fire(stay, "request_extension", nurse, "asks the shared leadership to extend the stay")
    try:
        engine.approve(stay, nurse)
    except pathways.SelfApproval as exc:
        t.say(f"    the nurse tries to approve her own request — refused: {exc}")
    for option in engine.options(stay, leader_region):
        if option.kind == "approve":
            t.say(f"    the regional leader may approve ({option.needs_approval})")
    engine.approve(stay, leader_region)
    t.say(f"{leader_region.person} (leader_region) approves; still waiting for the municipality")
    engine.approve(stay, leader_municipality)
    t.say(f"{leader_municipality.person} (leader_municipality) approves; now {t.where(stay)}")

    t.wait(timedelta(days=2))
    t.fire(stay, "discharge_early", psychiatrist, "discharges early to finish treatment at home")
    assert stay.referral is not None
    home = engine.case(stay.referral.case_id)
    t.say(f"    the overnight place is kept until the ambulant team answers: {t.where(home)}")

    print("\n== The outgoing ambulant team: treatment at home ==")
    t.fire(home, "accept", nurse, "the ambulant team accepts")
    t.say(f"    overnight case: {t.where(stay)}; places in use: {engine.in_use('overnight_places')}")
    engine.set_fact(home, "consent_to_home_treatment", True, citizen)
    t.fire(home, "start_home_treatment", psychiatrist, "starts intensive treatment at home")
    engine.set_fact(home, "has_housing_support", True, nurse)
    t.fire(home, "involve_housing_support", nurse, "involves the citizen's housing support")
    t.wait(timedelta(days=10))
    t.fire(home, "continue_with_housing_support", housing_support,
           "closes the team's part; the housing support carries on")
    done = engine.pathway_of(home).state(home.state)
    if done.follow_up is not None:
        t.say(f"    follow-up offer: {done.follow_up.en}")

    print("\n== History ==")
    for case in (walk, stay, home):
        print(f"{case.id} {case.pathway_id} v{case.version} (citizen {case.citizen})")
        for e in case.history:
            what = ", ".join(e.facts) if e.kind is EventKind.FACT_SET else (e.trigger or "-")
            print(f"  {e.seq:>2} {e.at:%d %b %H:%M} {e.kind.value:<18} {what:<30} "
                  f"{e.from_state} → {e.to_state}  by {_who(e)}")

    print("\n== JSON snapshot round-trip ==")
    text = json.dumps(engine.snapshot(stay), indent=None)
    restored = Engine(registry, clock=clock).restore(json.loads(text))
    same = restored == stay
    print(f"{stay.id}: {len(text)} bytes of JSON, {len(restored.history)} events; restored equals original: {same}")
    return 0 if same else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--definitions", type=Path, default=DEFAULT_DEFINITIONS,
                        help="folder of pathway definitions (default: the repository's definitions/)")
    args = parser.parse_args(argv)
    try:
        return tour(args.definitions)
    except pathways.PathwaysError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
