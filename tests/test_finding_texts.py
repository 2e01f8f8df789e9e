"""Findings speak the designer's language: message, fix and story of each week-aware kind, in English and Danish.

The time-free kinds are shown in both languages, verbatim, on their pages in docs/findings
(``tests/test_check_docs.py``); the week-aware kinds are pinned here on a small house whose
gaps are plain: Socialvagten open 16-24, the outreach team 16-08, an ambulant team on weekdays
08-16 that answers hand-overs, and no service without referral in the daytime. States and
roles are named by their labels with the id after; kinds, states and transitions stay ids.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pathways import load_registry
from pathways.findings import Finding, FindingKind
from pathways.i18n import use_language
from pathways.registry import Registry
from pathways.stranding import check
from test_check_week import HOUSE, WALK_IN
from test_citizen import in_aarhus, network

MINI = HOUSE.replace("""  overnatning:
    label: {da: Overnatningspladserne, en: The overnight places}
    without_referral: true
""", """  ambulant:
    label: {da: Ambulant team, en: Ambulant team}
    pathways: [ambulant]
    open: [{days: weekdays, hours: "08:00-16:00"}]
""").replace("""  citizen: {sector: borger, label: {da: Borger, en: Citizen}}
""", """  citizen: {sector: borger, label: {da: Borger, en: Citizen}}
  day_nurse: {sector: municipal, label: {da: Dagsygeplejerske, en: Day nurse}}
""") + """  day_nurse:
    - {days: weekdays, hours: "08:00-16:00", people: 2}
"""

REFERRING = WALK_IN.replace("  - {id: done,", (
    "  - {id: sent, kind: waiting, label: {da: Henvist, en: Referred}, responsible: [duty_worker],\n"
    "     deadline: {after: PT1H, trigger: no_answer}}\n  - {id: done,"
)) + """\
  - {trigger: refer, source: in_conversation, dest: sent, roles: [duty_worker],
     handover: {to: ambulant, accepted: done, declined: in_conversation}}
  - {trigger: no_answer, source: sent, dest: in_conversation, roles: [duty_worker]}
"""

AMBULANT = """\
id: ambulant
version: 1
house: mini
title: {da: Ambulant team, en: Ambulant team}
description: {da: Behandling i hjemmet, en: Treatment at home}
initial: intake
states:
  - {id: intake, kind: waiting, label: {da: Visitation, en: Intake}, responsible: [day_nurse], deadline: {after: P1D, trigger: decline}}
  - {id: done, kind: terminal, outcome: completed, label: {da: Afsluttet, en: Done}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: Gået, en: Left}, follow_up: {da: Ring, en: Call us}}
transitions:
  - {trigger: accept, source: intake, dest: done, roles: [day_nurse]}
  - {trigger: decline, source: intake, dest: done, roles: [day_nurse]}
  - {trigger: leave, source: "*", dest: left, roles: [citizen]}
intake: {state: intake, accept: accept, decline: decline}
"""

DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "da": ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"),
}


def _daily(lang: str, start: str, end: str, *, overnight: bool = False) -> str:
    """``from Monday 08:00 to Monday 16:00, …`` every day of the week (``fra … til …`` in Danish)."""
    days = DAYS[lang]
    word = ("from", "to") if lang == "en" else ("fra", "til")
    return ", ".join(
        f"{word[0]} {d} {start} {word[1]} {days[(i + 1) % 7] if overnight else d} {end}" for i, d in enumerate(days)
    )


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    folder: Path = tmp_path_factory.mktemp("mini")
    (folder / "houses").mkdir()
    (folder / "houses" / "mini.yaml").write_text(MINI, encoding="utf-8")
    (folder / "walk_in.yaml").write_text(REFERRING, encoding="utf-8")
    (folder / "ambulant.yaml").write_text(AMBULANT, encoding="utf-8")
    return load_registry(folder)


def _found(registry: Registry, kind: FindingKind, lang: str) -> Finding:
    with use_language(lang):
        [f] = check(registry).of_kind(kind)
    return f


@pytest.mark.parametrize("lang", ["en", "da"])
def test_no_safety_net_names_the_hours_nobody_takes_a_citizen_in_crisis(mini: Registry, lang: str) -> None:
    f = _found(mini, FindingKind.NO_SAFETY_NET, lang)
    assert (f.pathway, f.states, f.counterexample) == ("mini", (), None)
    expected = {
        "en": (f"no service of house 'mini' takes a citizen in acute crisis without referral {_daily('en', '08:00', '16:00')}",
               "open a service with 'without_referral: true' at those hours and staff it (e.g. the outreach team or the "
               "overnight places)"),
        "da": (f"intet tilbud i huset 'mini' tager imod en borger i akut krise uden visitation {_daily('da', '08:00', '16:00')}",
               "åbn et tilbud med 'without_referral: true' på de tidspunkter, og bemand det (fx udrykningsteamet eller "
               "overnatningspladserne)"),
    }
    assert (f.message, f.fix) == expected[lang]


@pytest.mark.parametrize("lang", ["en", "da"])
def test_unstaffed_names_the_state_the_roles_and_the_hours(mini: Registry, lang: str) -> None:
    f = _found(mini, FindingKind.UNSTAFFED, lang)
    assert f.states == ("in_conversation",)
    expected = {
        "en": (
            "Monday 00:00 the citizen can be in Conversation [in_conversation] and nobody responsible there "
            "(Duty worker (Municipality) [duty_worker]) is on duty until Monday 16:00; unstaffed: "
            + _daily("en", "00:00", "16:00"),
            "make a role that is on duty at those hours responsible in Conversation [in_conversation] (and able to act "
            "there), or give Conversation [in_conversation] a deadline or hand-over that moves the citizen to a staffed "
            "state before the gap begins",
            "the citizen arrives at Socialvagten (Conversation [in_conversation]) on Sunday 23:40; Sunday 23:40: Duty "
            "worker (Municipality) [duty_worker] fires `refer` → Referred [sent]; Monday 00:40: PT1H pass; the deadline "
            "fires `no_answer` → Conversation [in_conversation]; nobody responsible (Duty worker (Municipality) "
            "[duty_worker]) is on duty — stuck in Conversation [in_conversation]",
        ),
        "da": (
            "mandag 00:00 kan borgeren være i Samtale [in_conversation], og ingen ansvarlig der (Socialvagten (Kommunen) "
            "[duty_worker]) er på vagt indtil mandag 16:00; uden bemanding: " + _daily("da", "00:00", "16:00"),
            "giv en rolle, der er på vagt på de tidspunkter, ansvaret i Samtale [in_conversation] (og mulighed for at "
            "handle der), eller giv Samtale [in_conversation] en frist eller overdragelse, der flytter borgeren til en "
            "bemandet tilstand, før hullet begynder",
            "borgeren kommer til Socialvagten (Samtale [in_conversation]) søndag 23:40; søndag 23:40: Socialvagten "
            "(Kommunen) [duty_worker] udfører `refer` → Henvist [sent]; mandag 00:40: PT1H går; fristen udløser "
            "`no_answer` → Samtale [in_conversation]; ingen ansvarlig (Socialvagten (Kommunen) [duty_worker]) er på "
            "vagt — fast i Samtale [in_conversation]",
        ),
    }
    assert f.counterexample is not None
    with use_language(lang):
        assert (f.message, f.fix, f.counterexample.story()) == expected[lang]


@pytest.mark.parametrize("lang", ["en", "da"])
def test_handover_unanswered_names_the_hours_the_receiver_cannot_answer(mini: Registry, lang: str) -> None:
    f = _found(mini, FindingKind.HANDOVER_UNANSWERED, lang)
    assert (f.states, f.transitions) == (("in_conversation", "sent"), ("refer",))
    expected = {
        "en": (
            f"a hand-over `refer` to 'ambulant' sent {_daily('en', '16:00', '00:00', overnight=True)} cannot be answered "
            "before the deadline of Referred [sent] passes: 'ambulant' is closed or its staff are off duty until then",
            "let the wait in Referred [sent] last until the receiving service is open (e.g. a deadline in working days), "
            "or staff the receiving intake at those hours",
            "the citizen arrives at Socialvagten (Conversation [in_conversation]) on Monday 16:40; Monday 16:40: Duty "
            "worker (Municipality) [duty_worker] fires `refer` → Referred [sent]; 'ambulant' cannot answer before the "
            "deadline of Referred [sent] — stuck in Referred [sent]",
        ),
        "da": (
            f"en overdragelse `refer` til 'ambulant' sendt {_daily('da', '16:00', '00:00', overnight=True)} kan ikke "
            "besvares, før fristen for Henvist [sent] udløber: 'ambulant' er lukket, eller dets personale har fri indtil da",
            "lad ventetiden i Henvist [sent] vare, til det modtagende tilbud er åbent (fx en frist i arbejdsdage), eller "
            "bemand modtagelsen på de tidspunkter",
            "borgeren kommer til Socialvagten (Samtale [in_conversation]) mandag 16:40; mandag 16:40: Socialvagten "
            "(Kommunen) [duty_worker] udfører `refer` → Henvist [sent]; 'ambulant' kan ikke svare før fristen for "
            "Henvist [sent] — fast i Henvist [sent]",
        ),
    }
    assert f.counterexample is not None
    with use_language(lang):
        assert (f.message, f.fix, f.counterexample.story()) == expected[lang]


@pytest.mark.parametrize("lang", ["en", "da"])
def test_approval_out_of_hours_names_the_rule_the_hours_and_the_timeout(lang: str) -> None:
    with use_language(lang):
        [f] = in_aarhus(network(approvers="leader_region"))
        assert f.counterexample is not None
        story = f.counterexample.story()
    nights = {
        "en": "from Monday 00:00 to Monday 07:00, " + ", ".join(
            f"from {d} 16:00 to {n} 07:00" for d, n in zip(DAYS["en"][:4], DAYS["en"][1:5], strict=True)
        ) + ", from Friday 16:00 to Monday 00:00",
        "da": "fra mandag 00:00 til mandag 07:00, " + ", ".join(
            f"fra {d} 16:00 til {n} 07:00" for d, n in zip(DAYS["da"][:4], DAYS["da"][1:5], strict=True)
        ) + ", fra fredag 16:00 til mandag 00:00",
    }
    expected = {
        "en": (
            f"a request for `network_meeting` (all of: leader_region) made {nights['en']} always times out after PT2H: "
            "too few approvers are on duty (people count, not roles; the requester never approves)",
            "staff the approvers at those hours (e.g. an on-call leader), let the timeout last until they are back (e.g. "
            "in working days), or let fewer people approve",
            "the citizen arrives at Desk (t [talk]) on Monday 00:40; Monday 00:40: the citizen asks for approval of "
            "`network_meeting`; the request for `network_meeting` always times out after PT2H — stuck in t [talk]",
        ),
        "da": (
            f"en anmodning om `network_meeting` (alle af: leader_region) fremsat {nights['da']} udløber altid efter PT2H: "
            "for få, der kan godkende, er på vagt (det er personer, der tæller, ikke roller; den, der anmoder, godkender aldrig)",
            "bemand dem, der godkender, på de tidspunkter (fx en leder med rådighedsvagt), lad tidsgrænsen vare, til de "
            "er tilbage (fx i arbejdsdage), eller lad færre godkende",
            "borgeren kommer til Skranke (t [talk]) mandag 00:40; mandag 00:40: borgeren beder om godkendelse af "
            "`network_meeting`; anmodningen om `network_meeting` udløber altid efter PT2H — fast i t [talk]",
        ),
    }
    assert (f.message, f.fix, story) == expected[lang]


def test_the_report_speaks_danish_and_its_json_keeps_the_ids(mini: Registry) -> None:
    with use_language("da"):
        report = check(mini)
        text, data = report.to_text(), json.loads(json.dumps(report.to_json()))
    assert text.splitlines()[0] == "FEJL no_safety_net i mini"
    assert text.endswith("STRANDET: 3 fejl, 0 advarsel(er) i 2 forløb; 7 konfigurationer undersøgt; ugen tjekket for mini")
    assert data["lang"] == "da"
    assert [(f["kind"], f["title"], f["severity"], f["pathway"], f["states"]) for f in data["findings"]] == [
        ("no_safety_net", "Intet sikkerhedsnet", "error", "mini", []),
        ("unstaffed", "Ingen på vagt", "error", "walk_in", ["in_conversation"]),
        ("handover_unanswered", "Ubesvaret overdragelse", "error", "walk_in", ["in_conversation", "sent"]),
    ]
    with use_language("en"):
        english = check(mini).to_json()
    assert [f["kind"] for f in english["findings"]] == [f["kind"] for f in data["findings"]]
    assert english["lang"] == "en" and english["findings"][0]["title"] == "No safety net"
