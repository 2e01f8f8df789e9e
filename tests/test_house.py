"""The house file: vocabulary declared once, the calendar in local time, and closed services.

Times are given in UTC and read in Europe/Copenhagen: CET is UTC+1, CEST (summer) UTC+2.
In 2026 the clocks go forward on Sunday 29 March (02:00 → 03:00) and back on Sunday
25 October (03:00 → 02:00).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pathways
from pathways import (
    Calendar,
    Counting,
    Deadline,
    Engine,
    ManualClock,
    ServiceClosed,
    calendar,
    load_file,
    load_house,
    load_registry,
    load_text,
)

ROOT = Path(__file__).parent.parent
DEFINITIONS = ROOT / "definitions"
REGISTRY = load_registry(DEFINITIONS)
AARHUS = REGISTRY.houses["aarhus"]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class TestTheHouseFile:
    def test_the_aarhus_house_declares_the_vocabulary_of_the_six_seed_pathways(self) -> None:
        for pid in ("walk_in", "overnight_stay", "ambulant_team", "counselling", "open_dialogue", "job_bridge"):
            p = REGISTRY[pid]
            assert p.house == "aarhus"
            assert dict(p.roles) == dict(AARHUS.roles)
            assert p.resources["overnight_places"].capacity == 16

    def test_a_pathway_file_loads_alone_and_finds_its_house_beside_it(self) -> None:
        p = load_file(DEFINITIONS / "walk_in.yaml")
        assert p.calendar is not None and p.calendar.service == "socialvagten"
        assert p.roles["nurse"].sector == "region"

    def test_load_text_takes_the_house_as_an_argument(self) -> None:
        text = (DEFINITIONS / "walk_in.yaml").read_text(encoding="utf-8")
        assert load_text(text, houses=[AARHUS]).calendar == AARHUS.calendar_for("walk_in")
        with pytest.raises(pathways.DefinitionError) as info:
            load_text(text, "walk_in.yaml")
        assert str(info.value.problems[0]) == (
            "walk_in.yaml:25:1: house: unknown house 'aarhus' "
            "(put the house file in 'houses/' beside the pathways, or load it with the pathway)"
        )

    def test_a_house_service_may_name_a_pathway_the_registry_has_not_loaded(self) -> None:
        """The week proof asks the registry for each service's pathways; one left out is ``None``, not an error."""
        aarhus_only = pathways.Registry([p for p in REGISTRY.values() if p.house == "aarhus"], houses=[AARHUS])
        assert "acute_ward" in AARHUS.services["akutmodtagelsen"].pathways
        assert (aarhus_only.get("acute_ward"), aarhus_only.get("acute_ward", REGISTRY["walk_in"]).id) == (None, "walk_in")

    def test_a_pathway_in_no_service_is_open_around_the_clock(self) -> None:
        assert AARHUS.calendar_for("nowhere").opening == ()

    def test_the_calendar_is_never_written_back_into_a_pathway(self) -> None:
        data = pathways._converter.converter.unstructure(REGISTRY["walk_in"])
        assert "calendar" not in data and data["house"] == "aarhus"

    def test_the_docs_examples_load(self, tmp_path: Path) -> None:
        text = (ROOT / "docs" / "house-reference.md").read_text(encoding="utf-8")
        blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
        house = next(b for b in blocks if b.startswith("house:"))
        visit = next(b for b in blocks if b.startswith("id: visit"))
        (tmp_path / "houses").mkdir()
        (tmp_path / "houses" / "mini.yaml").write_text(house, encoding="utf-8")
        (tmp_path / "visit.yaml").write_text(visit, encoding="utf-8")
        registry = load_registry(tmp_path)
        assert registry["visit"].calendar == registry.houses["mini"].calendar_for("visit")
        mini = load_house(tmp_path / "houses" / "mini.yaml")
        assert (mini.on_duty("nurse", utc(2026, 12, 25, 10)), mini.on_duty("nurse", utc(2026, 12, 25, 16))) == (0, 1)


class TestOpeningHours:
    cal = AARHUS.calendar_for("walk_in")

    @pytest.mark.parametrize(
        ("when", "is_open"),
        [
            (utc(2026, 1, 5, 14, 59), False),  # Monday 15:59 CET
            (utc(2026, 1, 5, 15, 0), True),  # Monday 16:00
            (utc(2026, 1, 5, 22, 59), True),  # Monday 23:59
            (utc(2026, 1, 5, 23, 0), False),  # Tuesday 00:00
            (utc(2026, 7, 6, 14, 0), True),  # Monday 16:00 CEST
            (utc(2026, 7, 6, 13, 59), False),  # Monday 15:59 CEST
        ],
    )
    def test_walk_in_is_open_every_day_16_to_24_local_time(self, when: datetime, is_open: bool) -> None:
        assert calendar.is_open(self.cal, when) is is_open

    def test_on_the_spring_night_the_walk_in_closes_at_local_midnight(self) -> None:
        assert calendar.is_open(self.cal, utc(2026, 3, 28, 22, 59))  # Saturday 23:59 CET
        assert not calendar.is_open(self.cal, utc(2026, 3, 28, 23, 0))  # Sunday 00:00 CET
        assert not calendar.is_open(self.cal, utc(2026, 3, 29, 13, 59))  # Sunday 15:59 CEST
        assert calendar.is_open(self.cal, utc(2026, 3, 29, 14, 0))  # Sunday 16:00 CEST

    def test_daytime_counselling_is_closed_on_a_public_holiday(self) -> None:
        cal = AARHUS.calendar_for("counselling")
        assert calendar.is_open(cal, utc(2026, 12, 23, 9))  # Wednesday 10:00
        assert not calendar.is_open(cal, utc(2026, 12, 25, 9))  # juledag, a Friday

    @given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)))
    def test_walk_in_is_open_exactly_when_the_local_hour_is_16_to_23(self, when: datetime) -> None:
        local = when.astimezone(calendar._zone("Europe/Copenhagen"))
        assert calendar.is_open(self.cal, when) is (16 <= local.hour <= 23)


class TestShiftsAcrossDaylightSaving:
    def test_the_spring_night_shift_lasts_seven_real_hours(self) -> None:
        start, end = utc(2026, 3, 28, 22), utc(2026, 3, 29, 5)  # Sat 23:00 CET → Sun 07:00 CEST
        hours = [AARHUS.on_duty("nurse", start + timedelta(minutes=m)) for m in range(-1, 8 * 60, 30)]
        assert hours[0] == 3 and set(hours[1:15]) == {1} and hours[15] == 4
        assert end - start == timedelta(hours=7)

    def test_the_autumn_night_shift_lasts_nine_real_hours(self) -> None:
        start = utc(2026, 10, 24, 21)  # Sat 23:00 CEST
        night = [AARHUS.on_duty("nurse", start + timedelta(minutes=m)) for m in range(0, 9 * 60, 30)]
        assert set(night) == {1}
        assert AARHUS.on_duty("nurse", utc(2026, 10, 25, 6)) == 4  # Sun 07:00 CET

    def test_both_02_30s_of_the_autumn_night_are_in_the_night_shift(self) -> None:
        assert AARHUS.on_duty("nurse", utc(2026, 10, 25, 0, 30)) == 1  # 02:30 CEST
        assert AARHUS.on_duty("nurse", utc(2026, 10, 25, 1, 30)) == 1  # 02:30 CET

    def test_leaders_work_weekdays_8_to_16_and_not_on_a_holiday(self) -> None:
        assert AARHUS.on_duty("leader_region", utc(2026, 12, 23, 7)) == 1  # Wednesday 08:00
        assert AARHUS.on_duty("leader_region", utc(2026, 12, 23, 15)) == 0  # Wednesday 16:00
        assert AARHUS.on_duty("leader_region", utc(2026, 12, 25, 9)) == 0  # juledag
        assert AARHUS.on_duty("leader_region", utc(2026, 12, 26, 9)) == 0  # Saturday

    def test_a_role_of_the_citizens_side_has_no_shifts(self) -> None:
        assert not AARHUS.staffed("citizen") and AARHUS.staffed("nurse")


class TestDeadlines:
    cal = Calendar("Europe/Copenhagen", frozenset({date(2026, 12, 25), date(2026, 12, 26)}))

    def test_an_hour_is_one_real_hour_across_the_spring_change(self) -> None:
        entered = utc(2026, 3, 29, 0, 30)  # 01:30 CET
        due = calendar.due(Deadline(timedelta(hours=1), "t"), self.cal, entered)
        assert due == utc(2026, 3, 29, 1, 30)  # 03:30 CEST
        assert due.astimezone(calendar._zone("Europe/Copenhagen")).hour == 3

    def test_an_hour_is_one_real_hour_across_the_autumn_change(self) -> None:
        entered = utc(2026, 10, 25, 0, 30)  # 02:30 CEST
        due = calendar.due(Deadline(timedelta(hours=1), "t"), self.cal, entered)
        assert due.astimezone(calendar._zone("Europe/Copenhagen")).strftime("%H:%M %Z") == "02:30 CET"

    def test_two_working_days_from_friday_evening_end_tuesday_at_midnight(self) -> None:
        d = Deadline(timedelta(days=2), "t", Counting.WORKING_DAYS)
        due = calendar.due(d, self.cal, utc(2026, 12, 11, 19))  # Friday 20:00
        assert due == utc(2026, 12, 15, 23)  # Wednesday 00:00 CET

    def test_working_days_skip_christmas(self) -> None:
        d = Deadline(timedelta(days=2), "t", Counting.WORKING_DAYS)
        due = calendar.due(d, self.cal, utc(2026, 12, 23, 9))  # Wednesday 10:00
        assert due == utc(2026, 12, 28, 23)  # Thursday 24th, Monday 28th → Tuesday 00:00

    def test_opening_hours_count_only_while_the_service_is_open(self) -> None:
        cal = AARHUS.calendar_for("walk_in")
        d = Deadline(timedelta(hours=1), "t", Counting.OPENING_HOURS)
        assert calendar.due(d, cal, utc(2026, 1, 5, 22, 30)) == utc(2026, 1, 6, 15, 30)  # Mon 23:30 → Tue 16:30

    def test_until_closing_falls_at_the_closing_time_if_that_comes_first(self) -> None:
        cal = AARHUS.calendar_for("walk_in")
        d = Deadline(timedelta(hours=8), "t", Counting.UNTIL_CLOSING)
        assert calendar.due(d, cal, utc(2026, 1, 5, 21, 30)) == utc(2026, 1, 5, 23)  # Mon 22:30 → 24:00
        assert calendar.due(d, cal, utc(2026, 1, 5, 15)) == utc(2026, 1, 5, 23)  # Mon 16:00 → 24:00, not 00:00 + 8 h
        short = Deadline(timedelta(hours=1), "t", Counting.UNTIL_CLOSING)
        assert calendar.due(short, cal, utc(2026, 1, 5, 15)) == utc(2026, 1, 5, 16)  # an hour comes first

    def test_until_closing_falls_at_once_when_the_service_is_closed(self) -> None:
        cal = AARHUS.calendar_for("walk_in")
        d = Deadline(timedelta(hours=8), "t", Counting.UNTIL_CLOSING)
        assert calendar.due(d, cal, utc(2026, 1, 6, 9)) == utc(2026, 1, 6, 9)  # Tuesday 10:00: closed

    def test_until_closing_across_the_autumn_change(self) -> None:
        """The outreach team's night of 25 October 2026 is 17 real hours (16:00 CEST to 08:00 CET)."""
        cal = AARHUS.calendar_for("outreach_team")
        d = Deadline(timedelta(hours=20), "t", Counting.UNTIL_CLOSING)
        assert calendar.due(d, cal, utc(2026, 10, 24, 14)) == utc(2026, 10, 25, 7)

    def test_a_case_gets_its_deadline_from_the_calendar(self) -> None:
        engine = Engine(REGISTRY, clock=ManualClock(utc(2026, 1, 5, 16)))
        case = engine.start("walk_in", "c-1")
        assert case.deadline_at == utc(2026, 1, 5, 23)  # Socialvagten closes at 24:00 (Monday 17:00 + 8 h is later)

    def test_at_closing_socialvagten_hands_the_citizen_to_the_udrykningsteam(self) -> None:
        clock = ManualClock(utc(2026, 1, 5, 22, 30))  # Monday 23:30
        engine = Engine(REGISTRY, clock=clock)
        case = engine.start("walk_in", "c-1")
        engine.fire(case, "start_conversation", pathways.Actor("sv-1", "social_duty_worker", "municipal_social"))
        clock.advance(timedelta(minutes=30))
        engine.fire_due()
        assert case.state == "awaiting_night_team" and case.referral is not None
        assert engine.case(case.referral.case_id).state == "referred"  # the outreach team's intake

    def test_a_hand_over_fired_late_by_its_deadline_starts_the_receiver_when_the_deadline_fell(self) -> None:
        clock = ManualClock(utc(2026, 1, 5, 22, 30))  # Monday 23:30
        engine = Engine(REGISTRY, clock=clock)
        case = engine.start("walk_in", "c-1")
        clock.advance(timedelta(days=3))  # a worker that was down catches up
        engine.fire_due()
        night = [c for c in engine.cases.values() if c.pathway_id == "outreach_team"]
        assert [c.history[0].at for c in night] == [utc(2026, 1, 5, 23)]  # 24:00, when Socialvagten closed
        assert [(e.to_state, e.at) for e in night[0].history[1:]] == [("returned_to_sender", utc(2026, 1, 6, 0))]  # its clock, 01:00
        assert case.state == "closed_with_offer"  # no call back during Tuesday's evening: closed with an offer


class TestClosedServices:
    def test_a_closed_service_cannot_start_a_case_and_says_its_hours(self) -> None:
        engine = Engine(REGISTRY, clock=ManualClock(utc(2026, 1, 5, 8)))  # Monday 09:00 CET
        with pytest.raises(ServiceClosed) as info:
            engine.start("walk_in", "c-1")
        assert str(info.value) == "'walk_in' cannot start a case at Monday 09:00 (Europe/Copenhagen): service 'socialvagten' is open every_day 16:00-24:00; it opens again Monday 16:00; out of hours the house's services without referral take the citizen"
        assert (info.value.pathway, info.value.service, info.value.hours) == ("walk_in", "socialvagten", "every_day 16:00-24:00")
        assert info.value.opens_at == utc(2026, 1, 5, 15)
        assert engine.cases == {}

    def test_at_02_00_the_overnight_places_take_the_citizen(self) -> None:
        engine = Engine(REGISTRY, clock=ManualClock(utc(2026, 1, 6, 1)))  # Tuesday 02:00 CET
        with pytest.raises(ServiceClosed):
            engine.start("walk_in", "c-1")
        assert engine.start("overnight_stay", "c-1").state == "at_door"

    def test_a_hand_over_reaches_a_closed_service_and_waits_in_its_intake(self) -> None:
        clock = ManualClock(utc(2026, 1, 5, 21))  # Monday 22:00: counselling is closed
        engine = Engine(REGISTRY, clock=clock)
        case = engine.start("walk_in", "c-1")
        worker = pathways.Actor("w", "social_duty_worker", "municipal_social")
        engine.fire(case, "start_conversation", worker)
        events = engine.fire(case, "refer_counselling", worker)
        assert case.state == "awaiting_counselling_answer" and len(events) == 2


@settings(max_examples=40, deadline=None)
@given(
    pathway=st.sampled_from(sorted(p.id for p in REGISTRY.values() if p.calendar is not None and p.calendar.opening)),
    minute=st.integers(0, 366 * 24 * 60), second=st.integers(0, 59), minutes=st.integers(1, 3000),
)
def test_a_deadline_until_closing_is_the_first_closed_minute_counted_from_the_start(
    pathway: str, minute: int, second: int, minutes: int,
) -> None:
    """Only the instants where opening hours change are looked at; the answer is the minute-by-minute one."""
    from pathways.model import Counting, Deadline

    cal = REGISTRY[pathway].calendar
    assert cal is not None
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minute, seconds=second)
    end, probe, expected = start + timedelta(minutes=minutes), start, None
    while probe < end and expected is None:
        expected = probe if not pathways.calendar.is_open(cal, probe) else None
        probe += timedelta(minutes=1)
    deadline = Deadline(timedelta(minutes=minutes), "closing", Counting.UNTIL_CLOSING)
    assert pathways.calendar.due(deadline, cal, start) == (expected or end)
