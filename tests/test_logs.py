"""The library logs through `logging` under `pathways`, with structured fields and no personal data by default."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

import pathways
from pathways.store import CURRENT_VERSION, open_store

DEFINITIONS = Path(__file__).resolve().parent.parent / "definitions"


@pytest.fixture
def personal_off() -> Iterator[None]:
    yield
    pathways.log_personal_data(False)


def _walk_in(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    caplog.set_level(logging.DEBUG, logger="pathways.engine")
    engine = pathways.Engine(pathways.load_registry(DEFINITIONS), clock=pathways.ManualClock())  # Monday 17:00: open
    case = engine.start("walk_in", citizen="c-0042")
    staff = pathways.Actor("sv-17", "social_duty_worker", "municipal_social")
    option = next(o for o in engine.options(case, staff) if o.allowed)
    engine.fire(case, option.trigger, staff)
    return [r for r in caplog.records if r.name == "pathways.engine"]


def test_an_engine_record_carries_case_pathway_trigger_role_and_sector(caplog: pytest.LogCaptureFixture) -> None:
    record = _walk_in(caplog)[-1]
    assert (record.levelname, record.pathway, record.role, record.sector) == (  # type: ignore[attr-defined]
        "DEBUG", "walk_in", "social_duty_worker", "municipal_social",
    )
    assert record.case_id and record.trigger  # type: ignore[attr-defined]


def test_no_record_holds_the_citizen_unless_the_host_turns_it_on(caplog: pytest.LogCaptureFixture, personal_off: None) -> None:
    assert all(not hasattr(r, "citizen") and "c-0042" not in r.getMessage() for r in _walk_in(caplog))
    caplog.clear()
    pathways.log_personal_data(True)
    assert {getattr(r, "citizen", None) for r in _walk_in(caplog)} == {"c-0042"}


def test_creating_a_store_is_logged_at_info(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pathways.store")
    open_store(tmp_path / "cases.db").close()
    assert [r.getMessage() for r in caplog.records] == [f"created a case store (schema version {CURRENT_VERSION}) at sqlite:///{tmp_path / 'cases.db'}"]

