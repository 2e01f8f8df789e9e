"""A pathway without a house, listed by the services of two houses, is checked under each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pathways import load_registry
from pathways.findings import FindingKind
from pathways.i18n import use_language
from pathways.stranding import check


def _house(house: str, coordinator: str) -> str:
    return f"""\
house: {house}
title: {{da: Huset {house}, en: The {house} house}}
time_zone: Europe/Copenhagen
sectors:
  municipal: {{label: {{da: Kommunen, en: Municipality}}}}
roles:
  coordinator: {{sector: municipal, label: {{da: Koordinator, en: Coordinator}}}}
services:
  lokaler:
    label: {{da: Lokaleudlån, en: Room lending}}
    pathways: [lending]
    open: [{{days: weekdays, hours: "08:00-16:00"}}]
  overnatning:
    label: {{da: Overnatning, en: Overnight places}}
    without_referral: true
staffing:
{coordinator}"""


LENDING = """\
id: lending
version: 1
subject: organisation
title: {da: Lokaleudlån, en: Room lending}
description: {da: En organisation låner et lokale, en: An organisation borrows a room}
initial: request
sectors:
  municipal: {label: {da: Kommunen, en: Municipality}}
  civil_society: {label: {da: Civilsamfundet, en: Civil society}}
roles:
  organisation: {sector: civil_society, label: {da: Organisationen, en: The organisation}}
  coordinator: {sector: municipal, label: {da: Koordinator, en: Coordinator}}
states:
  - {id: request, kind: active, label: {da: Anmodning, en: Request}, responsible: [coordinator]}
  - {id: lent, kind: terminal, outcome: completed, label: {da: Udlånt, en: Lent}, follow_up: {da: Velkommen igen, en: Welcome again}}
  - {id: withdrawn, kind: terminal, outcome: left_by_choice, label: {da: Trukket tilbage, en: Withdrawn}, follow_up: {da: Søg igen, en: Apply again}}
transitions:
  - {trigger: lend, source: request, dest: lent, roles: [coordinator]}
  - {trigger: withdraw, source: "*", dest: withdrawn, roles: [organisation]}
"""

STAFFED = '  coordinator:\n    - {days: weekdays, hours: "08:00-16:00", people: 1}\n'
UNSTAFFED = "  coordinator: []\n"


def _folder(tmp_path: Path, *, west: str = UNSTAFFED) -> Path:
    (tmp_path / "houses").mkdir()
    (tmp_path / "houses" / "east.yaml").write_text(_house("east", STAFFED), encoding="utf-8")
    (tmp_path / "houses" / "west.yaml").write_text(_house("west", west), encoding="utf-8")
    (tmp_path / "lending.yaml").write_text(LENDING, encoding="utf-8")
    return tmp_path


EN = ("under house 'west': Monday 08:00 the organisation's request can be in Request [request] and nobody "
      "responsible there (Coordinator (Municipality) [coordinator]) is on duty at all; unstaffed: from Monday 08:00 "
      "to Monday 16:00, from Tuesday 08:00 to Tuesday 16:00, from Wednesday 08:00 to Wednesday 16:00, from Thursday "
      "08:00 to Thursday 16:00, from Friday 08:00 to Friday 16:00")


class TestSharedPathway:
    def test_it_passes_under_the_staffed_house_and_is_unstaffed_under_the_other(self, tmp_path: Path) -> None:
        report = check(load_registry(_folder(tmp_path)))
        assert report.week == ("east", "west")
        (finding,) = report.findings
        assert finding.kind is FindingKind.UNSTAFFED
        assert (finding.pathway, finding.house, finding.states) == ("lending", "west", ("request",))
        assert finding.message == EN
        assert finding.to_json()["house"] == "west"

    def test_the_message_names_the_house_in_danish(self, tmp_path: Path) -> None:
        registry = load_registry(_folder(tmp_path))
        with use_language("da"):
            (finding,) = check(registry).findings
        assert finding.message.startswith(
            "under huset 'west': mandag 08:00 kan organisationens anmodning være i Anmodning [request], og ingen "
            "ansvarlig der (Koordinator (Kommunen) [coordinator]) er på vagt")

    def test_the_story_opens_with_the_organisations_request_not_a_citizen(self, tmp_path: Path) -> None:
        registry = load_registry(_folder(tmp_path))
        (finding,) = check(registry).findings
        assert finding.counterexample is not None
        assert finding.counterexample.story() == (
            "the organisation's request arrives at Room lending (Request [request]) on Monday 15:40; nobody responsible "
            "(Coordinator (Municipality) [coordinator]) is on duty — stuck in Request [request]")
        with use_language("da"):
            (danish,) = check(registry).findings
            assert danish.counterexample is not None
            assert danish.counterexample.story() == (
                "organisationens anmodning kommer til Lokaleudlån (Anmodning [request]) mandag 15:40; ingen ansvarlig "
                "(Koordinator (Kommunen) [coordinator]) er på vagt — fast i Anmodning [request]")

    def test_staffed_in_both_houses_it_passes(self, tmp_path: Path) -> None:
        assert check(load_registry(_folder(tmp_path, west=STAFFED))).ok

    def test_without_the_week_it_is_checked_once_by_role(self, tmp_path: Path) -> None:
        assert check(load_registry(_folder(tmp_path)), week=False).ok


@pytest.mark.parametrize("lang", ["en", "da"])
def test_the_cli_json_carries_the_house(tmp_path: Path, lang: str, capsys: pytest.CaptureFixture[str]) -> None:
    from pathways.cli import main

    code = main(["check", str(_folder(tmp_path)), "--format", "json", "--lang", lang])
    data = json.loads(capsys.readouterr().out)
    assert code != 0
    assert [f["house"] for f in data["findings"]] == ["west"]
