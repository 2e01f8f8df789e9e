"""Shared helpers of the store tests: back-end URLs, a small house pathway, actors.

Named ``test_store_*`` so it belongs with the store tests; it holds no tests itself.
PostgreSQL comes from ``PATHWAYS_TEST_POSTGRES_URL``, which the test run sets itself when
PostgreSQL is installed (``tests/throwaway_postgres.py``); without either the postgres
cases fail under ``CI=true`` and are skipped elsewhere, saying how to install it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

import pathways
from pathways.store import CaseStore, open_store

FIXTURES = Path(__file__).parent / "fixtures" / "mini"
BACKENDS = ["memory", "sqlite", "postgres"]
SQL_BACKENDS = ["sqlite", "postgres"]

NIGHT_V1 = """
id: night
version: 1
title: {da: Nat, en: Night}
description: {da: d, en: d}
initial: arrived
sectors:
  region: {label: {da: Region, en: Region}}
  social: {label: {da: Social, en: Social}}
  citizen: {label: {da: Borger, en: Citizen}}
roles:
  nurse: {sector: region, label: {da: S, en: Nurse}}
  social_worker: {sector: social, label: {da: S, en: Social worker}}
  leader_region: {sector: region, label: {da: L, en: L}}
  leader_social: {sector: social, label: {da: L, en: L}}
  citizen: {sector: citizen, label: {da: B, en: Citizen}}
facts:
  consent_given: {label: {da: Samtykke, en: Consent}}
resources:
  beds: {capacity: 16, label: {da: Pladser, en: Places}}
states:
  - {id: arrived, kind: active, label: {da: a, en: a}, responsible: [nurse, social_worker], deadline: {after: PT2H, trigger: escalate}}
  - {id: staying, kind: active, label: {da: b, en: b}, responsible: [nurse]}
  - {id: planned, kind: active, label: {da: b, en: b}, responsible: [social_worker]}
  - {id: done, kind: terminal, outcome: completed, label: {da: b, en: b}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: b, en: b}, follow_up: {da: x, en: x}}
transitions:
  - {trigger: admit, source: arrived, dest: staying, roles: [nurse], guards: [consent_given], takes: beds}
  - {trigger: plan, source: arrived, dest: planned, roles: [social_worker],
     approval: {rule: one_per_sector, sectors: [region, social], on_refusal: done, timeout: PT4H}}
  - {trigger: escalate, source: arrived, dest: done, roles: [nurse]}
  - {trigger: discharge, source: staying, dest: done, roles: [nurse], releases: beds}
  - {trigger: finish, source: planned, dest: done, roles: [social_worker]}
  - {trigger: leave, source: "*", dest: left, roles: [citizen]}
"""

NIGHT_V2 = NIGHT_V1.replace("version: 1", "version: 2").replace(
    "  - {id: planned, kind: active, label: {da: b, en: b}, responsible: [social_worker]}\n",
    "  - {id: agreed, kind: active, label: {da: b, en: b}, responsible: [social_worker]}\n",
).replace("dest: planned", "dest: agreed").replace("source: planned", "source: agreed")

NURSE = pathways.Actor("n-1", "nurse", "region")
NURSE2 = pathways.Actor("n-2", "nurse", "region")
SOCIAL = pathways.Actor("s-1", "social_worker", "social")
LEAD_R = pathways.Actor("lr-1", "leader_region", "region")
LEAD_S = pathways.Actor("ls-1", "leader_social", "social")
CITIZEN = pathways.Actor("cit-1", "citizen", "citizen")
"""The citizen of the cases started as ``cit-1``; a citizen acts only on their own case."""


def citizen(person: str) -> pathways.Actor:
    """The citizen ``person`` acting on their own case (started with ``citizen=person``)."""
    return pathways.Actor(person, "citizen", "citizen")

AMBULANT = pathways.Actor("a-1", "ambulant", "region")


def registry(*extra: str) -> pathways.Registry:
    """The mini fixture (stay → amb hand-over) plus the night pathway and any extra versions."""
    reg = pathways.load_registry(FIXTURES)
    for text in (NIGHT_V1, *extra):
        reg.add(pathways.load_text(text))
    return reg


def postgres_url() -> str:
    url = os.environ.get("PATHWAYS_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("PATHWAYS_TEST_POSTGRES_URL is not set, but CI=true: the PostgreSQL back-end must be tested")
        from throwaway_postgres import INSTALL_HINT

        pytest.skip(INSTALL_HINT)
    return url


def reset_postgres(url: str) -> None:
    """Empty the test database (drop every table) so each test starts fresh."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        engine.dispose()


def backend_url(backend: str, tmp: Path) -> str:
    """A fresh, empty store location for a back-end."""
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return str(tmp / "cases.db")
    url = postgres_url()
    reset_postgres(url)
    return url


def fresh_store(backend: str, tmp: Path) -> CaseStore:
    return open_store(backend_url(backend, tmp))
