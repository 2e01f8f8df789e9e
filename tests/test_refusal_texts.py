"""Every refusal speaks the host's language: one refusal of each code, in English and in Danish.

The language is the one chosen with :func:`pathways.i18n.use_language` around the call (a
context variable: one request's Danish never leaks into another's); the code and the data
stay the same in both languages, so a host branches on them, never on the words.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pathways import (
    ActionRefused,
    Actor,
    CapacityError,
    Engine,
    Link,
    ManualClock,
    RefusalCode,
    Registry,
    UnknownCase,
    UnknownPathway,
    load_registry,
    load_text,
)
from pathways.i18n import current_language, use_language

STAY = """\
id: stay
version: 1
title: {da: Ophold, en: Overnight stay}
description: {da: Kort ophold, en: Short stay}
initial: arrived
sectors:
  region: {label: {da: Regionen, en: Region}}
  kommune: {label: {da: Kommunen, en: Municipality}}
  borger: {label: {da: Borgeren, en: Citizen}}
roles:
  nurse: {sector: region, label: {da: Sygeplejerske, en: Nurse}}
  lead_r: {sector: region, label: {da: Leder (region), en: Regional leader}}
  lead_k: {sector: kommune, label: {da: Leder (kommune), en: Municipal leader}}
  social: {sector: kommune, label: {da: Socialrådgiver, en: Social worker}}
  citizen: {sector: borger, label: {da: Borger, en: Citizen}}
facts:
  consent: {label: {da: Samtykke, en: Consent}, set_by: [citizen], recorded_by: [nurse]}
resources:
  beds: {capacity: 1, label: {da: Senge, en: Beds}}
states:
  - {id: arrived, kind: active, label: {da: Ankommet, en: Arrived}, responsible: [nurse]}
  - {id: staying, kind: active, label: {da: Ophold, en: Staying}, responsible: [nurse]}
  - {id: done, kind: terminal, outcome: completed, label: {da: Afsluttet, en: Done}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: Gået, en: Left}, follow_up: {da: Ring, en: Call}}
transitions:
  - {trigger: admit, source: arrived, dest: staying, roles: [nurse], guards: [consent], takes: beds}
  - {trigger: finish, source: staying, dest: done, roles: [nurse]}
  - {trigger: tidy, source: arrived, dest: arrived, roles: [nurse], releases: beds}
  - trigger: close
    source: arrived
    dest: done
    roles: [nurse]
    approval: {rule: all_of, roles: [lead_r, lead_k], on_refusal: arrived, timeout: PT4H}
  - {trigger: leave, source: "*", dest: left, roles: [citizen]}
"""

NURSE = Actor("nina", "nurse", "region")
LEAD_R = Actor("lars", "lead_r", "region")
SOCIAL = Actor("sofie", "social", "kommune")
T0 = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)


def _engine() -> Engine:
    return Engine(Registry([load_text(STAY)]), clock=ManualClock(T0), new_id=lambda: "c1")


def _started(engine: Engine, **facts: bool) -> str:
    return engine.start("stay", "citizen-1", facts=facts).id


def _unknown_trigger(e: Engine) -> None:
    e.fire(_started(e), "admt", NURSE)


def _state(e: Engine) -> None:
    e.fire(_started(e), "finish", NURSE)


def _closed(e: Engine) -> None:
    case = _started(e)
    e.fire(case, "leave", Actor("citizen-1", "citizen", "borger"))
    e.fire(case, "admit", NURSE)


def _service_closed(_: Engine) -> None:
    house = load_registry(Path(__file__).resolve().parent.parent / "definitions")
    Engine(house, clock=ManualClock(datetime(2026, 1, 5, 8, tzinfo=UTC))).start("walk_in", "c-1")


def _role(e: Engine) -> None:
    e.fire(_started(e, consent=True), "admit", SOCIAL)


def _sector(e: Engine) -> None:
    e.fire(_started(e, consent=True), "admit", Actor("nils", "nurse", "kommune"))


def _guard(e: Engine) -> None:
    e.fire(_started(e), "admit", NURSE)


def _capacity(e: Engine) -> None:
    e.fire(e.start("stay", "citizen-1", facts={"consent": True}, case_id="first"), "admit", NURSE)
    e.fire(_started(e, consent=True), "admit", NURSE)


def _release(e: Engine) -> None:
    e.fire(_started(e), "tidy", NURSE)


def _pending(e: Engine) -> None:
    case = _started(e)
    e.fire(case, "close", NURSE)
    e.fire(case, "close", NURSE)


def _no_pending_approval(e: Engine) -> None:
    e.approve(_started(e), LEAD_R)


def _self_approval(e: Engine) -> None:
    case = _started(e)
    e.fire(case, "close", NURSE)
    e.approve(case, NURSE)


def _duplicate_approval(e: Engine) -> None:
    case = _started(e)
    e.fire(case, "close", NURSE)
    e.approve(case, LEAD_R)
    e.approve(case, LEAD_R)


def _not_an_approver(e: Engine) -> None:
    case = _started(e)
    e.fire(case, "close", NURSE)
    e.approve(case, SOCIAL)


def _fact_permission(e: Engine) -> None:
    e.set_fact(_started(e), "consent", True, SOCIAL)


def _reason_required(e: Engine) -> None:
    e.set_fact(_started(e), "consent", True, NURSE)


def _not_own_case(e: Engine) -> None:
    e.fire(_started(e), "leave", Actor("carl", "citizen", "borger"))


def _unknown_fact(e: Engine) -> None:
    e.set_fact(_started(e), "consnt", True, NURSE)


def _case_exists(e: Engine) -> None:
    _started(e)
    _started(e)


def _refused(e: Engine) -> None:
    e.receive("stay", "citizen-1", sender=Link("elsewhere-1", "refer"))


REFUSALS: dict[RefusalCode, Callable[[Engine], None]] = {
    RefusalCode.UNKNOWN_TRIGGER: _unknown_trigger,
    RefusalCode.STATE: _state,
    RefusalCode.CLOSED: _closed,
    RefusalCode.SERVICE_CLOSED: _service_closed,
    RefusalCode.ROLE: _role,
    RefusalCode.SECTOR: _sector,
    RefusalCode.GUARD: _guard,
    RefusalCode.CAPACITY: _capacity,
    RefusalCode.RELEASE: _release,
    RefusalCode.PENDING: _pending,
    RefusalCode.NO_PENDING_APPROVAL: _no_pending_approval,
    RefusalCode.SELF_APPROVAL: _self_approval,
    RefusalCode.DUPLICATE_APPROVAL: _duplicate_approval,
    RefusalCode.NOT_AN_APPROVER: _not_an_approver,
    RefusalCode.FACT_PERMISSION: _fact_permission,
    RefusalCode.REASON_REQUIRED: _reason_required,
    RefusalCode.NOT_OWN_CASE: _not_own_case,
    RefusalCode.UNKNOWN_FACT: _unknown_fact,
    RefusalCode.CASE_EXISTS: _case_exists,
    RefusalCode.REFUSED: _refused,
}


def _refusal(code: RefusalCode, lang: str) -> ActionRefused | CapacityError:
    with use_language(lang), pytest.raises((ActionRefused, CapacityError)) as info:
        REFUSALS[code](_engine())
    assert isinstance(info.value, ActionRefused | CapacityError)
    return info.value


def test_every_refusal_code_has_a_case_here() -> None:
    assert set(REFUSALS) == set(RefusalCode)


WHERE_EN, WHERE_DA = "case 'c1' (stay, state 'arrived')", "sag 'c1' (stay, tilstand 'arrived')"

WORDS: dict[RefusalCode, tuple[str, str]] = {
    RefusalCode.UNKNOWN_TRIGGER: (
        f"{WHERE_EN}: pathway has no trigger 'admt' (did you mean 'admit'?)",
        f"{WHERE_DA}: forløbet har ingen handling 'admt' (mente du 'admit'?)",
    ),
    RefusalCode.STATE: (
        f"'finish' cannot fire in {WHERE_EN}; possible here: admit, tidy, close, leave",
        f"'finish' kan ikke udføres i {WHERE_DA}; muligt her: admit, tidy, close, leave",
    ),
    RefusalCode.CLOSED: (
        "case 'c1' (stay, state 'left') is closed; 'admit' cannot fire",
        "sag 'c1' (stay, tilstand 'left') er afsluttet; 'admit' kan ikke udføres",
    ),
    RefusalCode.SERVICE_CLOSED: (
        "'walk_in' cannot start a case at Monday 09:00 (Europe/Copenhagen): service 'socialvagten' is open "
        "every_day 16:00-24:00; it opens again Monday 16:00; out of hours the house's services without referral "
        "take the citizen",
        "'walk_in' kan ikke starte en sag mandag 09:00 (Europe/Copenhagen): tilbuddet 'socialvagten' har åbent "
        "every_day 16:00-24:00; det åbner igen mandag 16:00; uden for åbningstiden tager husets tilbud uden "
        "visitation imod borgeren",
    ),
    RefusalCode.ROLE: ("role 'social' may not fire 'admit' (allowed: nurse)", "rollen 'social' må ikke udføre 'admit' (tilladt: nurse)"),
    RefusalCode.SECTOR: (
        "role 'nurse' belongs to sector 'region', not 'kommune'", "rollen 'nurse' hører til sektoren 'region', ikke 'kommune'",
    ),
    RefusalCode.GUARD: ("guard 'consent' does not hold", "betingelsen 'consent' er ikke opfyldt"),
    RefusalCode.CAPACITY: ("all 1 places of 'beds' are taken", "alle 1 pladser i 'beds' er optaget"),
    RefusalCode.RELEASE: (
        "'tidy' releases a place of 'beds', but the case holds none (a defect in the pathway: release only what was taken)",
        "'tidy' frigiver en plads i 'beds', men sagen har ingen (en fejl i forløbet: frigiv kun det, der blev taget)",
    ),
    RefusalCode.PENDING: ("'close' already awaits approval (0 given)", "'close' venter allerede på godkendelse (0 givet)"),
    RefusalCode.NO_PENDING_APPROVAL: (
        f"{WHERE_EN} has no request awaiting approval", f"{WHERE_DA} har ingen anmodning, der venter på godkendelse",
    ),
    RefusalCode.SELF_APPROVAL: (
        "nina requested this and cannot also approve it (four-eyes)",
        "nina har selv anmodet om dette og kan ikke også godkende det (fire øjne)",
    ),
    RefusalCode.DUPLICATE_APPROVAL: ("lars has already approved this request", "lars har allerede godkendt denne anmodning"),
    RefusalCode.NOT_AN_APPROVER: (
        "role 'social' is not among the approvers (all of: lead_r, lead_k)",
        "rollen 'social' er ikke blandt dem, der godkender (alle af: lead_r, lead_k)",
    ),
    RefusalCode.FACT_PERMISSION: (
        "role 'social' may not set 'consent' (set by citizen; recorded with a reason by nurse)",
        "rollen 'social' må ikke sætte 'consent' (sættes af citizen; noteres med en begrundelse af nurse)",
    ),
    RefusalCode.REASON_REQUIRED: (
        "role 'nurse' records 'consent' on the citizen's word and must give a reason (what the citizen said, and when)",
        "rollen 'nurse' noterer 'consent' på borgerens ord og skal give en begrundelse (hvad borgeren sagde, og hvornår)",
    ),
    RefusalCode.NOT_OWN_CASE: (
        "'carl' acts as the citizen ('citizen'), and a citizen acts only on their own case",
        "'carl' handler som borgeren ('citizen'), og en borger handler kun i sin egen sag",
    ),
    RefusalCode.UNKNOWN_FACT: (
        "pathway 'stay' has no fact 'consnt' (did you mean 'consent'?)", "forløbet 'stay' har intet forhold 'consnt' (mente du 'consent'?)",
    ),
    RefusalCode.CASE_EXISTS: ("a case with id 'c1' already exists", "der findes allerede en sag med id 'c1'"),
    RefusalCode.REFUSED: (
        "pathway 'stay' has no intake, so it cannot receive a referral; refer to a pathway with 'intake'",
        "forløbet 'stay' har intet indtag (intake), så det kan ikke modtage en henvisning; henvis til et forløb med 'intake'",
    ),
}


@pytest.mark.parametrize("code", list(RefusalCode), ids=lambda c: c.value)
def test_a_refusal_says_why_in_english_and_in_danish(code: RefusalCode) -> None:
    english, danish = _refusal(code, "en"), _refusal(code, "da")
    assert (english.code, danish.code) == (code, code)
    assert (english.reasons[0].message, danish.reasons[0].message) == WORDS[code]


@pytest.mark.parametrize("code", list(RefusalCode), ids=lambda c: c.value)
def test_the_data_of_a_refusal_is_the_same_in_both_languages(code: RefusalCode) -> None:
    english, danish = _refusal(code, "en"), _refusal(code, "da")
    data = ("case_id", "pathway", "state", "trigger", "actor")
    assert type(english) is type(danish)
    assert [getattr(english, k) for k in data] == [getattr(danish, k) for k in data]


def test_the_exception_names_the_actor_the_trigger_and_the_case_around_the_reason() -> None:
    english, danish = _refusal(RefusalCode.GUARD, "en"), _refusal(RefusalCode.GUARD, "da")
    assert str(english) == f"nina (nurse, region) cannot fire 'admit' in {WHERE_EN}: guard 'consent' does not hold"
    assert str(danish) == f"nina (nurse, region) kan ikke udføre 'admit' i {WHERE_DA}: betingelsen 'consent' er ikke opfyldt"
    approval = _refusal(RefusalCode.SELF_APPROVAL, "da")
    assert str(approval) == (
        "nina (nurse, region) kan ikke svare på anmodningen om 'close' i sag 'c1': "
        "nina har selv anmodet om dette og kan ikke også godkende det (fire øjne)"
    )


def test_why_not_and_options_speak_the_language_of_the_call() -> None:
    engine = _engine()
    case = _started(engine)
    with use_language("da"):
        assert [r.message for r in engine.why_not(case, "admit", NURSE)] == ["betingelsen 'consent' er ikke opfyldt"]
        close = next(o for o in engine.options(case, NURSE) if o.trigger == "close")
        assert close.needs_approval == "alle af: lead_r, lead_k"
    with use_language("en"):
        assert [r.message for r in engine.why_not(case, "admit", NURSE)] == ["guard 'consent' does not hold"]


def test_one_thread_speaking_danish_leaves_another_in_english() -> None:
    """The language is a context variable: a host serving two users at once keeps them apart."""
    assert current_language() == "en"  # nothing chosen here: the process default (tests/conftest.py)
    engine = _engine()
    case = _started(engine)
    inside, started, done = [], threading.Event(), threading.Event()

    def danish_request() -> None:
        with use_language("da"):
            started.set()
            done.wait(5)
            inside.append(engine.why_not(case, "admit", NURSE)[0].message)

    worker = threading.Thread(target=danish_request)
    worker.start()
    started.wait(5)
    outside = engine.why_not(case, "admit", NURSE)[0].message  # while the other thread speaks Danish
    done.set()
    worker.join(5)
    assert (inside, outside) == (["betingelsen 'consent' er ikke opfyldt"], "guard 'consent' does not hold")


def test_docs_errors_shows_each_refusal_in_both_languages() -> None:
    """docs/errors.md has the table of one refusal per code, English and Danish, as asserted here."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "errors.md").read_text(encoding="utf-8")
    for code, (english, danish) in WORDS.items():
        assert f"| `{code.value}` | {english} | {danish} |" in text


def test_an_unknown_pathway_or_case_is_named_in_the_chosen_language() -> None:
    engine = _engine()
    with use_language("da"), pytest.raises(UnknownPathway) as pathway:
        engine.start("stya", "citizen-1")
    with use_language("da"), pytest.raises(UnknownCase) as case:
        engine.case("c9")
    assert (str(pathway.value), str(case.value)) == (
        "intet forløb 'stya' er indlæst (indlæst: stay)", "motoren kender ingen sag 'c9'",
    )
    with use_language("en"), pytest.raises(UnknownPathway) as english:
        engine.start("stya", "citizen-1")
    assert str(english.value) == "no pathway 'stya' is loaded (loaded: stay)"
