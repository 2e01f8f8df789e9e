"""Durable cases: one behaviour suite, run on the memory, SQLite and PostgreSQL stores."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import pathways
from pathways import EventKind
from pathways.cli import main as cli
from pathways.errors import (
    ActionRefused,
    CaseClosed,
    ConcurrentUpdate,
    NoCapacity,
    NotAStore,
    NotPermitted,
    SchemaTooNew,
    StoreError,
    StoreUnreachable,
    UnknownCase,
)
from pathways.store import (
    CURRENT_VERSION,
    CaseStore,
    DurableEngine,
    MemoryStore,
    SQLStore,
    migrate,
    open_store,
    replay_stored,
    retry,
    run_worker,
    verify,
)
from pathways.store import schema as store_schema
from test_store_support import (
    AMBULANT,
    BACKENDS,
    CITIZEN,
    LEAD_R,
    LEAD_S,
    NIGHT_V2,
    NURSE,
    SOCIAL,
    SQL_BACKENDS,
    backend_url,
    citizen,
    fresh_store,
    postgres_url,
    registry,
)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStore]:
    s = fresh_store(request.param, tmp_path)
    yield s
    s.close()


@pytest.fixture(params=SQL_BACKENDS)
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request.param, tmp_path)


@pytest.fixture
def clock() -> pathways.ManualClock:
    return pathways.ManualClock()


@pytest.fixture
def engine(store: CaseStore, clock: pathways.ManualClock) -> DurableEngine:
    return DurableEngine(registry(), store, clock=clock)


def _sa(url: str) -> str:
    """A SQLAlchemy URL for a store location (a plain path means SQLite)."""
    return url if "://" in url else f"sqlite:///{url}"


def _execute(store: CaseStore, sql: str) -> None:
    assert isinstance(store, SQLStore)
    with store.engine().begin() as conn:
        conn.exec_driver_sql(sql)


class TestCases:
    def test_a_started_case_reads_back_equal_with_its_history(self, engine: DurableEngine) -> None:
        case = engine.start("night", "cit-1", facts={"consent_given": True}, case_id="k1")
        assert engine.case("k1") == case
        assert [e.kind for e in engine.store.history("k1")] == [EventKind.STARTED]

    def test_firing_appends_one_event_and_moves_the_state_row(self, engine: DurableEngine) -> None:
        engine.start("night", "cit-1", facts={"consent_given": True}, case_id="k1")
        events = engine.fire("k1", "admit", NURSE)
        assert [(e.seq, e.kind, e.to_state) for e in events] == [(1, EventKind.FIRED, "staying")]
        summary = engine.store.summary("k1")
        assert (summary.state, summary.seq, summary.due_at) == ("staying", 2, None)
        assert engine.store.resources()["beds"] == (16, 1)

    def test_a_refused_action_writes_nothing(self, engine: DurableEngine) -> None:
        engine.start("night", "cit-1", case_id="k1")
        with pytest.raises(NotPermitted, match="role 'citizen' may not fire 'admit'"):
            engine.fire("k1", "admit", CITIZEN)
        with pytest.raises(pathways.GuardFailed, match="guard 'consent_given' does not hold"):
            engine.fire("k1", "admit", NURSE)
        assert engine.store.summary("k1").seq == 1
        assert engine.store.resources()["beds"] == (16, 0)

    def test_an_unknown_case_is_a_clear_error(self, engine: DurableEngine) -> None:
        with pytest.raises(UnknownCase, match="no case 'nope' in the store"):
            engine.fire("nope", "admit", NURSE)

    def test_a_case_id_cannot_be_started_twice(self, engine: DurableEngine) -> None:
        engine.start("night", "cit-1", case_id="k1")
        with pytest.raises(ActionRefused, match="a case with id 'k1' already exists"):
            engine.start("night", "cit-2", case_id="k1")
        assert engine.store.summary("k1").citizen == "cit-1"

    def test_a_closed_case_refuses_everything(self, engine: DurableEngine) -> None:
        engine.start("night", "cit-1", case_id="k1")
        engine.fire("k1", "leave", CITIZEN)
        with pytest.raises(CaseClosed):
            engine.fire("k1", "admit", NURSE)
        assert engine.store.summary("k1").terminal is True

    def test_options_and_why_not_read_the_stored_state(self, engine: DurableEngine) -> None:
        engine.start("night", "cit-1", case_id="k1")
        allowed = {o.trigger for o in engine.options("k1", NURSE) if o.allowed}
        assert allowed == {"escalate"}
        assert [r.code for r in engine.why_not("k1", "admit", NURSE)] == ["guard"]
        engine.set_fact("k1", "consent_given", True, NURSE, reason="the citizen said yes")
        assert engine.why_not("k1", "admit", NURSE) == []


class TestConcurrency:
    def test_acting_on_a_stale_case_is_a_concurrent_update(self, engine: DurableEngine) -> None:
        engine.start("night", "cit-1", facts={"consent_given": True}, case_id="k1")
        seen = engine.case("k1")
        engine.set_fact("k1", "consent_given", True, NURSE, reason="the citizen said yes")
        with pytest.raises(ConcurrentUpdate, match=r"case 'k1' was changed by another writer since it was read at seq 1 \(stored seq 2, version 1\)"):
            engine.fire(seen, "admit", NURSE)
        assert engine.store.summary("k1").state == "arrived"

    def test_the_store_refuses_a_write_based_on_an_old_seq(self, store: CaseStore, engine: DurableEngine) -> None:
        engine.start("night", "cit-1", facts={"consent_given": True}, case_id="k1")
        other = DurableEngine(registry(), store)
        loaded = other.store.load("k1")
        engine.fire("k1", "admit", NURSE)
        from pathways.store import CaseWrite

        write = CaseWrite(loaded.case, 1, (), loaded.head_hash, None, (), False, False)
        with pytest.raises(ConcurrentUpdate, match="re-read it and try again"):
            store.commit([write], {})

    def test_a_stale_write_with_events_and_new_owners_writes_nothing(self, store: CaseStore, engine: DurableEngine) -> None:
        engine.start("night", "cit-1", facts={"consent_given": True}, case_id="k1")
        loaded = store.load("k1")
        engine.fire("k1", "admit", NURSE)  # another writer moves k1 to seq 2
        from pathways.store import CaseWrite

        at = engine.clock.now()
        loaded.case.state = "planned"
        loaded.case.history.append(pathways.Event("k1", 1, at, EventKind.FIRED, "arrived", "planned", actor=SOCIAL, trigger="plan"))
        write = CaseWrite(loaded.case, 1, tuple(loaded.case.history), loaded.head_hash, None, (("social_worker", "social"),), False, True)
        with pytest.raises(ConcurrentUpdate, match=r"case 'k1' was changed by another writer since it was read at seq 1; re-read it"):
            store.commit([write], {})
        assert [(e.seq, e.to_state) for e in store.history("k1")] == [(0, "arrived"), (1, "staying")]
        assert [s.id for s in store.owned_by(role="nurse")] == ["k1"]
        assert store.owned_by(role="social_worker") == []
        assert verify(store).ok

    def test_two_leaders_approving_at_once_both_count_exactly_once(self, engine: DurableEngine) -> None:
        engine.start("night", "cit-1", case_id="k1")
        engine.fire("k1", "plan", SOCIAL)
        read_by_r, read_by_s = engine.case("k1"), engine.case("k1")
        engine.approve(read_by_r, LEAD_R)
        with pytest.raises(ConcurrentUpdate):
            engine.approve(read_by_s, LEAD_S)
        events = retry(lambda: engine.approve("k1", LEAD_S))
        assert [e.kind for e in events] == [EventKind.APPROVED, EventKind.FIRED]
        assert [a.actor.person for a in events[-1].approvals] == ["lr-1", "ls-1"]
        assert engine.store.summary("k1").state == "planned"

    def test_retry_re_checks_the_rules_on_the_new_state(self, engine: DurableEngine) -> None:
        engine.start("night", "cit-1", case_id="k1")
        calls = []

        def act() -> list[pathways.Event]:
            calls.append(1)
            if len(calls) == 1:
                engine.fire("k1", "leave", CITIZEN)
                raise ConcurrentUpdate("simulated")
            return engine.fire("k1", "escalate", NURSE)

        with pytest.raises(CaseClosed):
            retry(act)
        assert len(calls) == 2

    def test_capacity_is_enforced_by_the_store(self, engine: DurableEngine) -> None:
        for i in range(17):
            engine.start("night", f"cit-{i}", facts={"consent_given": True}, case_id=f"k{i:02}")
        for i in range(16):
            engine.fire(f"k{i:02}", "admit", NURSE)
        with pytest.raises(NoCapacity, match="all 16 places of 'beds' are taken"):
            engine.fire("k16", "admit", NURSE)
        engine.fire("k00", "discharge", NURSE)
        engine.fire("k16", "admit", NURSE)
        assert engine.store.resources()["beds"] == (16, 16)


class TestHandover:
    def test_a_handover_writes_both_cases_and_the_answer_moves_the_sender(self, engine: DurableEngine) -> None:
        engine.start("stay", "cit-1", facts={"consent_given": True}, case_id="s1")
        engine.fire("s1", "admit", NURSE)
        engine.approve("s1", LEAD_R)
        engine.approve("s1", LEAD_S)
        events = engine.fire("s1", "refer", NURSE)
        assert [(e.case_id == "s1", e.kind) for e in events] == [(True, EventKind.FIRED), (False, EventKind.STARTED)]
        amb = events[0].link
        assert amb is not None
        assert engine.store.summary(amb.case_id).state == "intake"
        assert engine.store.resources()["places"] == (1, 0)
        engine.fire(amb.case_id, "accept", AMBULANT)
        assert engine.store.summary("s1").state == "gone"
        assert engine.store.summary(amb.case_id).state == "treat"


class TestQueries:
    def test_cases_in_a_state_owned_by_a_role_or_sector_and_due(self, engine: DurableEngine, clock: pathways.ManualClock) -> None:
        for i in range(5):
            engine.start("night", f"cit-{i}", facts={"consent_given": True}, case_id=f"k{i}")
        engine.fire("k1", "admit", NURSE)
        engine.fire("k2", "leave", citizen("cit-2"))
        store = engine.store
        assert [s.id for s in store.in_state("night", "arrived")] == ["k0", "k3", "k4"]
        assert [s.id for s in store.in_state("night", "arrived", limit=2, after="k0")] == ["k3", "k4"]
        assert [s.id for s in store.owned_by(role="nurse")] == ["k0", "k1", "k3", "k4"]
        assert [s.id for s in store.owned_by(role="social_worker")] == ["k0", "k3", "k4"]
        assert [s.id for s in store.owned_by(sector="social", limit=1)] == ["k0"]
        assert store.due_before(clock.now() + timedelta(hours=1)) == []
        due = store.due_before(clock.now() + timedelta(hours=2))
        assert [(s.id, s.due_at) for s in due] == [(k, clock.now() + timedelta(hours=2)) for k in ("k0", "k3", "k4")]

    def test_owned_by_needs_one_criterion(self, store: CaseStore) -> None:
        with pytest.raises(StoreError, match="exactly one of role= or sector="):
            store.owned_by()


class TestDeadlines:
    def test_fire_due_escalates_once(self, engine: DurableEngine, clock: pathways.ManualClock) -> None:
        engine.start("night", "cit-1", case_id="k1")
        engine.start("night", "cit-2", case_id="k2")
        engine.fire("k2", "plan", SOCIAL)
        clock.advance(timedelta(hours=3))
        events = engine.fire_due()
        assert [(e.case_id, e.kind, e.to_state) for e in events] == [
            ("k1", EventKind.ESCALATED, "done"), ("k2", EventKind.ESCALATED, "done"),
        ]
        assert engine.fire_due() == []

    def test_an_approval_timeout_takes_the_refusal_path(self, engine: DurableEngine, clock: pathways.ManualClock) -> None:
        engine.start("night", "cit-1", case_id="k1")
        engine.set_fact("k1", "consent_given", True, NURSE, reason="the citizen said yes")
        clock.advance(timedelta(hours=1))
        engine.fire("k1", "plan", SOCIAL)
        engine.fire_due(clock.now() + timedelta(minutes=30))
        assert engine.store.summary("k1").state == "arrived"
        events = engine.fire_due(clock.now() + timedelta(hours=5))
        assert [(e.kind, e.reason) for e in events] == [(EventKind.ESCALATED, "deadline passed")]

    def test_two_workers_never_fire_the_same_escalation(self, store: CaseStore, sql_or_same: str, clock: pathways.ManualClock) -> None:
        reg = registry()
        first = DurableEngine(reg, store, clock=clock)
        for i in range(30):
            first.start("night", f"cit-{i}", case_id=f"k{i:02}")
        clock.advance(timedelta(hours=3))
        stores = [store if sql_or_same == "memory://" else open_store(sql_or_same) for _ in range(2)]
        workers = [DurableEngine(reg, s, clock=clock) for s in stores]
        counts: list[int] = []
        threads = [threading.Thread(target=lambda w=w: counts.append(run_worker(w, once=True, batch=7))) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for s in stores:
            if s is not store:
                s.close()
        assert sum(counts) == 30
        for i in range(30):
            kinds = [e.kind for e in store.history(f"k{i:02}")]
            assert kinds == [EventKind.STARTED, EventKind.ESCALATED]
        assert verify(store).ok


@pytest.fixture
def sql_or_same(store: CaseStore) -> str:
    """The URL to open a second connection to ``store`` (memory: the same object)."""
    if isinstance(store, MemoryStore):
        return "memory://"
    assert isinstance(store, SQLStore)
    return store.engine().url.render_as_string(hide_password=False)


class TestAudit:
    def _history(self, engine: DurableEngine) -> None:
        engine.start("night", "cit-1", facts={"consent_given": True}, case_id="k1")
        engine.start("night", "cit-2", case_id="k2")
        engine.fire("k1", "admit", NURSE)
        engine.fire("k1", "discharge", NURSE, reason="went home")
        engine.fire("k2", "leave", citizen("cit-2"))

    def test_an_untouched_store_verifies(self, engine: DurableEngine) -> None:
        self._history(engine)
        report = verify(engine.store)
        assert (report.ok, report.cases, report.events) == (True, 2, 5)

    def test_an_altered_event_is_reported(self, engine: DurableEngine) -> None:
        self._history(engine)
        store = engine.store
        if isinstance(store, MemoryStore):
            store.tamper("k1", 2, reason="nothing happened")
        else:
            _execute(store, "UPDATE events SET reason = 'nothing happened' WHERE case_id = 'k1' AND seq = 2")
        report = verify(store)
        assert (report.problem, report.case_id, report.seq) == (
            "case 'k1': event 2 was altered (its hash does not match its content)", "k1", 2,
        )

    def test_a_deleted_event_is_reported(self, sql_url: str) -> None:
        store = open_store(sql_url)
        self._history(DurableEngine(registry(), store, clock=pathways.ManualClock()))
        _execute(store, "DELETE FROM events WHERE case_id = 'k1' AND seq = 1")
        assert verify(store).problem == "case 'k1': event 1 is missing (next stored is 2)"
        _execute(store, "DELETE FROM events WHERE case_id = 'k2' AND seq = 1")
        assert verify(store).problem == "case 'k1': event 1 is missing (next stored is 2)"
        store.close()

    def test_a_dropped_last_event_is_reported(self, sql_url: str) -> None:
        store = open_store(sql_url)
        self._history(DurableEngine(registry(), store, clock=pathways.ManualClock()))
        _execute(store, "DELETE FROM events WHERE case_id = 'k2' AND seq = 1")
        assert verify(store).problem == "case 'k2': event 1 is missing (the case row says 2 events)"
        store.close()

    def test_a_rehashed_forgery_breaks_the_chain(self, sql_url: str) -> None:
        store = open_store(sql_url)
        self._history(DurableEngine(registry(), store, clock=pathways.ManualClock()))
        row = next(r for r in store.event_rows() if (r["case_id"], r["seq"]) == ("k1", 1))
        row["reason"] = "forged"
        from pathways.store.base import event_hash

        forged = event_hash(row)
        _execute(store, f"UPDATE events SET reason = 'forged', hash = '{forged}' WHERE case_id = 'k1' AND seq = 1")
        assert verify(store).problem == (
            "case 'k1': event 2 does not follow event 1 (chain broken: altered, inserted or replaced)"
        )
        store.close()

    def test_cli_audit_verify_exit_codes(self, sql_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        store = open_store(sql_url)
        self._history(DurableEngine(registry(), store, clock=pathways.ManualClock()))
        assert cli(["audit", "verify", "--db", sql_url]) == 0
        assert "OK: 2 cases, 5 events" in capsys.readouterr().out
        _execute(store, "UPDATE events SET to_state = 'left' WHERE case_id = 'k1' AND seq = 1")
        assert cli(["audit", "verify", "--db", sql_url]) == 1
        assert "case 'k1': event 1 was altered" in capsys.readouterr().out
        store.close()

    def test_replay_reproduces_every_stored_case(self, engine: DurableEngine) -> None:
        self._history(engine)
        for case_id in engine.store.case_ids():
            assert replay_stored(engine.store, engine.registry, case_id) == engine.store.get(case_id)


class TestMigration:
    def _two_cases(self, store: CaseStore) -> DurableEngine:
        engine = DurableEngine(registry(), store, clock=pathways.ManualClock())
        engine.start("night", "cit-1", case_id="k1")
        engine.fire("k1", "plan", SOCIAL)
        engine.approve("k1", LEAD_R)
        engine.approve("k1", LEAD_S)
        engine.start("night", "cit-2", case_id="k2")
        return engine

    def test_a_new_version_does_not_touch_running_cases(self, store: CaseStore) -> None:
        self._two_cases(store)
        engine = DurableEngine(registry(NIGHT_V2), store, clock=pathways.ManualClock())
        engine.fire("k1", "finish", SOCIAL)
        assert (store.summary("k1").version, store.summary("k1").state) == (1, "done")
        assert engine.start("night", "cit-3", case_id="k3").version == 2

    def test_migration_maps_states_and_the_case_runs_on(self, store: CaseStore) -> None:
        self._two_cases(store)
        reg = registry(NIGHT_V2)
        report = migrate(store, reg, "night", 1, 2, {"planned": "agreed"}, at=pathways.ManualClock().now())
        assert report.moved == (("k1", "planned", "agreed"), ("k2", "arrived", "arrived"))
        assert [(s.id, s.version) for s in store.owned_by(role="social_worker")] == [("k1", 2), ("k2", 2)]
        assert replay_stored(store, reg, "k1") == store.get("k1")
        engine = DurableEngine(reg, store, clock=pathways.ManualClock())
        engine.fire("k1", "finish", SOCIAL)
        assert replay_stored(store, reg, "k1") == store.get("k1")
        assert verify(store).ok

    def test_migration_refuses_a_state_that_no_longer_exists(self, store: CaseStore) -> None:
        self._two_cases(store)
        with pytest.raises(StoreError) as info:
            migrate(store, registry(NIGHT_V2), "night", 1, 2, {}, at=pathways.ManualClock().now())
        assert str(info.value) == (
            "migration of 'night' v1 → v2 refused, no case moved:\n"
            "  case 'k1': state 'planned' is kept, which 'night' v2 no longer has; map it to an existing state"
        )
        assert [store.summary(k).version for k in ("k1", "k2")] == [1, 1]

    def test_migration_refuses_a_map_from_unknown_states(self, store: CaseStore) -> None:
        self._two_cases(store)
        with pytest.raises(StoreError, match="the state map names states 'plan' that 'night' v1 does not have"):
            migrate(store, registry(NIGHT_V2), "night", 1, 2, {"plan": "agreed"}, at=pathways.ManualClock().now())

    def test_an_action_racing_a_migration_loses(self, store: CaseStore) -> None:
        engine = self._two_cases(store)
        stale = engine.case("k2")
        loaded = store.load("k2")
        migrate(store, registry(NIGHT_V2), "night", 1, 2, {"planned": "agreed"}, at=pathways.ManualClock().now())
        with pytest.raises(ConcurrentUpdate, match="version 2"):
            engine.fire(stale, "leave", CITIZEN)
        from pathways.store import CaseWrite

        write = CaseWrite(loaded.case, 1, (), loaded.head_hash, None, (), False, False)
        with pytest.raises(ConcurrentUpdate):
            store.commit([write], {})
        assert store.summary("k2").version == 2


class TestBadInput:
    def test_a_corrupt_file_is_refused_and_left_alone(self, tmp_path: Path) -> None:
        path = tmp_path / "cases.db"
        path.write_bytes(b"this is not a database, just some notes\n" * 200)
        before = path.read_bytes()
        with pytest.raises(NotAStore, match=r"cannot open the case store at sqlite:///.*cases.db: file is not a database") as info:
            open_store(path)
        assert info.value.url == f"sqlite:///{path}"
        assert path.read_bytes() == before

    def test_a_foreign_sqlite_file_is_refused_and_left_alone(self, tmp_path: Path) -> None:
        path = tmp_path / "other.db"
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE patients (cpr TEXT)")
        before = path.read_bytes()
        with pytest.raises(NotAStore, match=r"is not a pathways store: it holds other tables \(patients\)"):
            open_store(path)
        assert path.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]

    def test_a_schema_from_the_future_is_refused_and_left_alone(self, sql_url: str) -> None:
        open_store(sql_url).close()
        engine = sa.create_engine(_sa(sql_url))
        with engine.begin() as conn:
            conn.exec_driver_sql(f"UPDATE schema_version SET version = {CURRENT_VERSION + 1}")
        engine.dispose()
        with pytest.raises(SchemaTooNew, match=f"has schema version {CURRENT_VERSION + 1}, newer than this pathways understands") as info:
            open_store(sql_url)
        assert (info.value.found, info.value.supported) == (CURRENT_VERSION + 1, CURRENT_VERSION)
        engine = sa.create_engine(_sa(sql_url))
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version FROM schema_version").scalar() == CURRENT_VERSION + 1
        engine.dispose()

    @pytest.mark.parametrize(
        ("url", "message"),
        [
            ("mysql://u@localhost/db", "unsupported database 'mysql'"),
            ("sqlite://", "a SQLite store needs a file path"),
            ("not-a-scheme://?", "not a database URL or path"),
            ("", "no case store given"),
        ],
    )
    def test_a_wrong_url_is_a_clear_error(self, url: str, message: str) -> None:
        with pytest.raises(StoreError, match=message):
            open_store(url)

    def test_an_unknown_durability_mode_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(StoreError, match="synchronous must be FULL or NORMAL, not 'OFF'"):
            open_store(tmp_path / "cases.db", synchronous="OFF")
        assert list(tmp_path.iterdir()) == []

    def test_a_folder_is_not_a_store(self, tmp_path: Path) -> None:
        with pytest.raises(StoreError, match="is a folder; give the path of a database file inside it"):
            open_store(tmp_path)

    def test_a_missing_folder_is_a_clear_error(self, tmp_path: Path) -> None:
        with pytest.raises(StoreError, match=r"folder '.*nowhere' does not exist"):
            open_store(tmp_path / "nowhere" / "cases.db")
        assert list(tmp_path.iterdir()) == []

    def test_an_unreachable_server_is_a_clear_error(self) -> None:
        with pytest.raises(StoreUnreachable, match=r"cannot open the case store at postgresql\+psycopg://pathways:\*\*\*@127.0.0.1:1/x: .*") as info:
            open_store("postgresql://pathways:secret@127.0.0.1:1/x")
        assert info.value.url == "postgresql+psycopg://pathways:***@127.0.0.1:1/x"

    def test_the_password_never_appears_in_errors(self) -> None:
        with pytest.raises(StoreError) as info:
            open_store("postgresql://pathways:s3cret-pw@127.0.0.1:1/x")
        assert "s3cret-pw" not in str(info.value)


def _back_to_v4(conn: sa.Connection) -> None:
    """Rewrite a current store's cases as schema 4 had them: no citizen key, an index by citizen."""
    conn.exec_driver_sql("DROP INDEX ix_cases_citizen_key")
    conn.exec_driver_sql("ALTER TABLE cases DROP COLUMN citizen_key")
    conn.exec_driver_sql("CREATE INDEX ix_cases_citizen ON cases (citizen, id)")


def _back_to_v3_events(conn: sa.Connection) -> None:
    """Rewrite a current store's events as schema 3 wrote them: no key id, no citizen, and
    hashes over the remaining columns (so this also proves the upgrade keeps old chains)."""
    from pathways.store.base import event_hash

    rows = [dict(r) for r in conn.exec_driver_sql("SELECT * FROM events ORDER BY case_id, seq").mappings()]
    prev: dict[str, str] = {}
    for row in rows:
        row.update(key_id=None, citizen=None, prev_hash=prev.get(row["case_id"], "0" * 64))
        row["hash"] = prev[row["case_id"]] = event_hash(row)
        conn.execute(sa.text("UPDATE events SET prev_hash = :p, hash = :h WHERE case_id = :c AND seq = :s"),
                     {"p": row["prev_hash"], "h": row["hash"], "c": row["case_id"], "s": row["seq"]})
    for case_id, head in prev.items():
        conn.execute(sa.text("UPDATE cases SET head_hash = :h WHERE id = :c"), {"h": head, "c": case_id})
    conn.exec_driver_sql("ALTER TABLE events DROP COLUMN key_id")
    conn.exec_driver_sql("ALTER TABLE events DROP COLUMN citizen")
    conn.exec_driver_sql("DROP TABLE checkpoint_heads")
    conn.exec_driver_sql("DROP TABLE checkpoints")


class TestSchemaUpgrade:
    def test_a_version_1_store_is_upgraded_in_place(self, sql_url: str) -> None:
        engine = sa.create_engine(_sa(sql_url))
        with engine.begin() as conn:
            store_schema.create(conn, store_schema.metadata_v1, 1)
        store = open_store(sql_url)
        durable = DurableEngine(registry(), store, clock=pathways.ManualClock())
        durable.start("night", "cit-1", case_id="k1")
        store.close()
        # a v1 store written by the old code: owners as JSON in the case row
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE case_owners")
            conn.exec_driver_sql("DROP TABLE migrations")
            conn.exec_driver_sql("DROP TABLE approval_waits")
            _back_to_v4(conn)
            conn.exec_driver_sql("DROP INDEX ix_cases_citizen")
            _back_to_v3_events(conn)
            conn.exec_driver_sql("ALTER TABLE cases ADD COLUMN owners TEXT NOT NULL DEFAULT '[]'")
            conn.exec_driver_sql("""UPDATE cases SET owners = '[["nurse","region"],["social_worker","social"]]'""")
            conn.exec_driver_sql("UPDATE schema_version SET version = 1")
        engine.dispose()
        store = open_store(sql_url)
        assert [s.id for s in store.owned_by(sector="social")] == ["k1"]
        assert isinstance(store, SQLStore)
        with store.engine().connect() as conn:
            assert conn.exec_driver_sql("SELECT version FROM schema_version").scalar() == CURRENT_VERSION
            columns = {c["name"] for c in sa.inspect(conn).get_columns("cases")}
        assert "owners" not in columns
        store.close()

    def test_a_version_3_store_is_upgraded_and_its_audit_still_verifies(self, sql_url: str) -> None:
        """Events written before keys and citizens were chained still verify after the upgrade."""
        store = open_store(sql_url)
        TestAudit()._history(DurableEngine(registry(), store, clock=pathways.ManualClock()))
        store.close()
        engine = sa.create_engine(_sa(sql_url))
        with engine.begin() as conn:
            _back_to_v4(conn)
            _back_to_v3_events(conn)
            conn.exec_driver_sql("UPDATE schema_version SET version = 3")
        engine.dispose()
        store = open_store(sql_url)
        result = verify(store, registry())
        assert (result.ok, result.cases, result.events) == (True, 2, 5)
        DurableEngine(registry(), store, clock=pathways.ManualClock()).start("night", "cit-3", case_id="k3")
        assert verify(store, registry()).ok
        store.close()

    def test_a_version_3_store_finds_a_citizen_under_any_spelling_after_the_upgrade(self, sql_url: str) -> None:
        """The upgrade computes every stored case's citizen key; the ids stay as given."""
        store = open_store(sql_url)
        durable = DurableEngine(registry(), store, clock=pathways.ManualClock())
        for case_id, who in [("k1", "Cit-1"), ("k2", "cit-1"), ("k3", "\uff23\uff29\uff34-\uff11"), ("k4", "cit-2")]:
            durable.start("night", who, case_id=case_id)
        store.close()
        engine = sa.create_engine(_sa(sql_url))
        with engine.begin() as conn:
            _back_to_v4(conn)
            _back_to_v3_events(conn)
            conn.exec_driver_sql("UPDATE schema_version SET version = 3")
        engine.dispose()
        store = open_store(sql_url)
        assert [(s.id, s.citizen) for s in store.of_citizen("CIT-1")] == [("k1", "Cit-1"), ("k2", "cit-1"), ("k3", "\uff23\uff29\uff34-\uff11")]
        assert [s.id for s in store.of_citizen("cit-2")] == ["k4"]
        assert verify(store, registry()).ok
        assert isinstance(store, SQLStore)
        with store.engine().connect() as conn:
            assert conn.exec_driver_sql("SELECT version FROM schema_version").scalar() == CURRENT_VERSION == 5
            indexes = {i["name"]: i["column_names"] for i in sa.inspect(conn).get_indexes("cases")}
        assert indexes["ix_cases_citizen_key"] == ["citizen_key", "id"]
        assert "ix_cases_citizen" not in indexes
        store.close()

    def test_a_fresh_v1_schema_upgrades_to_the_current_tables(self, sql_url: str) -> None:
        engine = sa.create_engine(_sa(sql_url))
        with engine.begin() as conn:
            store_schema.create(conn, store_schema.metadata_v1, 1)
        engine.dispose()
        store = open_store(sql_url)
        assert isinstance(store, SQLStore)
        with store.engine().connect() as conn:
            inspect = sa.inspect(conn)
            tables = set(inspect.get_table_names())
            columns = [c["name"] for c in inspect.get_columns("cases")]
            indexes = sorted(str(i["name"]) for i in inspect.get_indexes("cases"))
        assert tables == set(store_schema.metadata.tables)
        assert columns == [c.name for c in store_schema.cases.columns]
        assert indexes == sorted(str(i.name) for i in store_schema.cases.indexes)
        store.close()


def test_cli_worker_fires_due_escalations_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cases.db"
    definitions = tmp_path / "defs"
    definitions.mkdir()
    from test_store_support import FIXTURES, NIGHT_V1

    for f in FIXTURES.iterdir():
        (definitions / f.name).write_text(f.read_text())
    (definitions / "night.yaml").write_text(NIGHT_V1)
    engine = DurableEngine(registry(), open_store(db), clock=pathways.ManualClock(pathways.SystemClock().now() - timedelta(hours=3)))
    engine.start("night", "cit-1", case_id="k1")
    assert cli(["worker", "--db", str(db), "--definitions", str(definitions), "--once"]) == 0
    assert "fired 1 event(s)" in capsys.readouterr().out
    assert [e.kind for e in engine.store.history("k1")] == [EventKind.STARTED, EventKind.ESCALATED]
    engine.store.close()


def test_postgres_url_is_required_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATHWAYS_TEST_POSTGRES_URL", raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        postgres_url()



def test_postgres_workers_skip_a_case_another_worker_has_claimed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """FOR UPDATE SKIP LOCKED: a claimed case is neither fired nor waited for by others."""
    url = backend_url("postgres", tmp_path)
    clock = pathways.ManualClock()
    store = open_store(url)
    engine = DurableEngine(registry(), store, clock=clock)
    for i in range(3):
        engine.start("night", f"cit-{i}", case_id=f"k{i}")
    clock.advance(timedelta(hours=3))
    other = open_store(url)
    caplog.set_level("INFO", logger="pathways.worker")
    try:
        with store.claim_due(clock.now()) as held:
            assert held is not None and held.id == "k0"
            with other.claim_due(clock.now()) as second:
                assert second is not None and second.id == "k1"
            assert run_worker(DurableEngine(registry(), other, clock=clock), once=True) == 2
            assert [r.getMessage() for r in caplog.records] == ["fired 2 event(s) on 2 due case(s)"]
            assert [s.state for s in map(store.summary, ["k0", "k1", "k2"])] == ["arrived", "done", "done"]
        assert run_worker(DurableEngine(registry(), other, clock=clock), once=True) == 1
        for i in range(3):
            assert [e.kind for e in store.history(f"k{i}")] == [EventKind.STARTED, EventKind.ESCALATED]
    finally:
        other.close()
        store.close()


@pytest.mark.parametrize("backend", SQL_BACKENDS)
def test_a_refused_escalation_inside_a_claim_writes_nothing_and_stays_due(backend: str, tmp_path: Path) -> None:
    store = open_store(backend_url(backend, tmp_path))
    clock = pathways.ManualClock()
    engine = DurableEngine(registry(), store, clock=clock)
    engine.start("night", "cit-0", case_id="k0")
    clock.advance(timedelta(hours=3))
    with pytest.raises(StoreError, match="claim_due is already open on this thread"), store.claim_due(clock.now()), store.claim_due(clock.now()):
        pass  # pragma: no cover
    with pytest.raises(NotPermitted), store.claim_due(clock.now()) as held:
        assert held is not None and held.id == "k0"
        engine.fire("k0", "plan", NURSE)  # a nurse may not plan: refused inside the claim
    assert store.summary("k0").seq == 1
    with store.claim_due(clock.now(), skip=["k0"]) as none:
        assert none is None
    assert run_worker(engine, once=True) == 1
    store.close()


def test_postgres_a_dropped_connection_fails_one_call_and_is_replaced(tmp_path: Path) -> None:
    store = open_store(backend_url("postgres", tmp_path))
    engine = DurableEngine(registry(), store, clock=pathways.ManualClock())
    engine.start("night", "cit-1", case_id="k1")
    store.load("k1")  # the hot-path connection now waits, idle, in the store
    assert isinstance(store, SQLStore)
    with store.engine().connect() as conn:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'pathways' AND datname = current_database() AND pid <> pg_backend_pid()"
        )
    with pytest.raises(StoreError, match=r"^reading the case store at postgresql\+psycopg://.* failed: "):
        store.load("k1")
    assert store.load("k1").case.seq == 1
    engine.fire("k1", "plan", SOCIAL)
    assert store.summary("k1").seq == 2
    store.close()


@pytest.mark.parametrize("backend", SQL_BACKENDS)
def test_inside_a_claim_places_are_read_and_taken_on_the_claims_own_connection(backend: str, tmp_path: Path) -> None:
    store = open_store(backend_url(backend, tmp_path), pool_size=1)  # PostgreSQL: 1 pooled + 1 overflow
    clock = pathways.ManualClock()
    engine = DurableEngine(registry(), store, clock=clock)
    engine.start("night", "cit-0", facts={"consent_given": True}, case_id="k0")
    store.load("k0")  # keeps a hot-path connection idle in the store
    clock.advance(timedelta(hours=3))
    with store.claim_due(clock.now()) as held:
        assert held is not None and held.id == "k0"
        assert store.in_use("beds") == 0
        engine.fire("k0", "admit", NURSE)
        assert store.in_use("beds") == 1
    assert store.resources()["beds"] == (16, 1)
    assert [e.to_state for e in store.history("k0")] == ["arrived", "staying"]
    assert verify(store).ok
    store.close()


def test_without_a_server_the_postgres_cases_say_how_to_install_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATHWAYS_TEST_POSTGRES_URL", raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"^PostgreSQL is not installed here: install its server \(Debian/Ubuntu: apt-get install postgresql"):
        postgres_url()
