"""An audit an insider cannot rewrite silently: each forgery of issue 14 is detected.

The insider here has write access to the database but not the house's HMAC key file nor
the checkpoint signing key (both kept outside the database). Each test forges what the
issue describes with plain SQL, as such an insider would, and asserts the exact finding.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import pathways
from pathways.cli import main as cli
from pathways.store import DurableEngine, SQLStore, open_store, verify
from pathways.store.base import GENESIS, citizen_key, event_hash
from pathways.store.checkpoint import (
    export_checkpoints,
    generate_signing_key,
    load_public_key,
    load_signing_key,
    verify_export,
    write_checkpoint,
)
from pathways.store.keys import AuditKeys
from test_store_support import CITIZEN, NURSE, SQL_BACKENDS, backend_url, citizen, registry

KEYS = AuditKeys({"k1": b"k" * 32}, "k1")


@pytest.fixture(params=SQL_BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request.param, tmp_path)


@pytest.fixture(scope="module")
def signing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    folder = tmp_path_factory.mktemp("keys")
    generate_signing_key(folder / "private.pem", folder / "public.pem")
    return load_signing_key(folder / "private.pem"), load_public_key(folder / "public.pem")


def history(store: SQLStore) -> None:
    """k1 admitted with consent and discharged; k2 arrived and left; k3 waiting without consent."""
    engine = DurableEngine(registry(), store, clock=pathways.ManualClock())
    engine.start("night", "cit-1", facts={"consent_given": True}, case_id="k1")
    engine.fire("k1", "admit", NURSE)
    engine.fire("k1", "discharge", NURSE, reason="went home")
    engine.start("night", "cit-2", case_id="k2")
    engine.fire("k2", "leave", citizen("cit-2"))
    engine.start("night", "cit-3", case_id="k3")


def sql(store: SQLStore, statement: str, **params: Any) -> None:
    with store.engine().begin() as conn:
        if params:
            conn.execute(sa.text(statement), params)
        else:
            conn.exec_driver_sql(statement)


def rechain(store: SQLStore, case_id: str, change: dict[str, Any], at_seq: int) -> None:
    """What an insider without the key can do: change an event, recompute every later hash
    (plain SHA-256, as an unkeyed store would) and fix the case row's head."""
    rows = [r for r in store.event_rows() if r["case_id"] == case_id]
    prev = GENESIS
    for row in rows:
        if row["seq"] == at_seq:
            row.update(change)
        row.update(prev_hash=prev, key_id=None)
        row["hash"] = prev = event_hash(row)
        sql(store, "UPDATE events SET prev_hash = :p, hash = :h, key_id = NULL, reason = :r WHERE case_id = :c AND seq = :s",
            p=row["prev_hash"], h=row["hash"], r=row["reason"], c=case_id, s=row["seq"])
    sql(store, "UPDATE cases SET head_hash = :h WHERE id = :c", h=prev, c=case_id)


class TestKeyedChain:
    def test_an_event_rewritten_without_the_key_is_detected(self, url: str) -> None:
        store = open_store(url, audit_keys=KEYS)
        assert isinstance(store, SQLStore)
        history(store)
        rechain(store, "k1", {"reason": "nothing happened"}, 2)
        result = verify(store, registry())
        assert (result.problem, result.case_id, result.seq) == (
            "case 'k1': event 0 is unkeyed, but the audit is keyed (rewritten by someone without the key;"
            " for events written before the key was introduced, pass unkeyed_until)", "k1", 0,
        )
        store.close()

    def test_an_event_altered_in_place_fails_its_mac(self, url: str) -> None:
        store = open_store(url, audit_keys=KEYS)
        assert isinstance(store, SQLStore)
        history(store)
        sql(store, "UPDATE events SET reason = 'forged' WHERE case_id = 'k1' AND seq = 2")
        assert verify(store).problem == "case 'k1': event 2 was altered (its MAC does not match its content)"
        store.close()

    def test_a_rotated_key_verifies_old_and_new_events(self, url: str) -> None:
        store = open_store(url, audit_keys=KEYS)
        assert isinstance(store, SQLStore)
        history(store)
        store.close()
        rotated = KEYS.rotated("k2")
        store = open_store(url, audit_keys=rotated)
        assert isinstance(store, SQLStore)
        DurableEngine(registry(), store, clock=pathways.ManualClock()).fire("k3", "leave", citizen("cit-3"))
        result = verify(store, registry())
        assert (result.ok, result.keyed, result.events) == (True, True, 7)
        assert [r["key_id"] for r in store.event_rows() if r["case_id"] == "k3"] == ["k1", "k2"]
        assert verify(store, keys=KEYS).problem == "case 'k3': event 1 names audit key 'k2', which is not among the keys given"
        store.close()

    def test_a_store_without_a_key_works_and_says_its_audit_is_unkeyed(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        store = open_store(url)
        assert isinstance(store, SQLStore)
        history(store)
        result = verify(store)
        assert (result.ok, result.keyed) == (True, False)
        assert "the audit is unkeyed: anyone with write access to the database could rewrite events and recompute their hashes" in result.notes
        store.close()
        assert cli(["audit", "verify", "--db", url]) == 0
        assert "OK: 3 cases, 6 events, every hash chain intact (unkeyed audit)" in capsys.readouterr().out

    def test_keyed_events_without_the_key_are_noted_not_passed_silently(self, url: str) -> None:
        store = open_store(url, audit_keys=KEYS)
        assert isinstance(store, SQLStore)
        history(store)
        unkeyed = open_store(url)
        result = verify(unkeyed)
        unkeyed.close()
        assert result.ok
        assert "events under audit key(s) k1 were not checked (key not given)" in result.notes
        store.close()

    def test_the_key_file_is_read_and_written(self, tmp_path: Path) -> None:
        path = tmp_path / "audit.keys"
        KEYS.rotated("k2", b"2" * 32).to_file(path)
        keys = AuditKeys.from_file(path)
        assert (sorted(keys.keys), keys.current, keys.keys["k2"]) == (["k1", "k2"], "k2", b"2" * 32)
        assert "k" * 10 not in repr(keys)
        path.write_text("k1 nothex\n")
        with pytest.raises(pathways.StoreError, match="line 1: write '<key id> <secret in hex>'"):
            AuditKeys.from_file(path)


class TestCheckpoints:
    def test_a_rechained_unkeyed_event_is_caught_by_the_checkpoint(self, url: str, signing: tuple[Any, Any]) -> None:
        store = open_store(url)
        assert isinstance(store, SQLStore)
        history(store)
        write_checkpoint(store, signing[0])
        rechain(store, "k1", {"reason": "nothing happened"}, 2)
        assert verify(store).problem == "case 'k1': events up to 2 were signed in checkpoint but are now different or gone"
        store.close()

    def test_cut_off_newest_events_are_caught(self, url: str, signing: tuple[Any, Any]) -> None:
        store = open_store(url, audit_keys=KEYS)
        assert isinstance(store, SQLStore)
        history(store)
        write_checkpoint(store, signing[0])
        head = next(r["hash"] for r in store.event_rows() if (r["case_id"], r["seq"]) == ("k1", 1))
        sql(store, "DELETE FROM events WHERE case_id = 'k1' AND seq = 2")
        sql(store, "UPDATE cases SET seq = 2, head_hash = :h WHERE id = 'k1'", h=head)
        assert verify(store).problem == "case 'k1': events up to 2 were signed in checkpoint but are now different or gone"
        store.close()

    def test_a_deleted_case_is_caught(self, url: str, signing: tuple[Any, Any]) -> None:
        store = open_store(url, audit_keys=KEYS)
        assert isinstance(store, SQLStore)
        history(store)
        write_checkpoint(store, signing[0])
        for table, column in (("events", "case_id"), ("case_owners", "case_id"), ("cases", "id")):
            sql(store, f"DELETE FROM {table} WHERE {column} = 'k2'")
        assert verify(store).problem == "case 'k2' was in checkpoint but is gone (the case was deleted)"
        store.close()

    def test_removed_checkpoint_heads_are_caught(self, url: str, signing: tuple[Any, Any]) -> None:
        store = open_store(url, audit_keys=KEYS)
        assert isinstance(store, SQLStore)
        history(store)
        write_checkpoint(store, signing[0])
        sql(store, "DELETE FROM checkpoint_heads WHERE case_id = 'k2'")
        assert verify(store).problem == "checkpoint 1: its stored case heads do not match its digest (rows removed or altered)"
        store.close()

    def test_a_forged_checkpoint_fails_its_signature(self, url: str, signing: tuple[Any, Any]) -> None:
        store = open_store(url, audit_keys=KEYS)
        assert isinstance(store, SQLStore)
        history(store)
        write_checkpoint(store, signing[0])
        body = json.loads(store.checkpoints()[0]["body"])
        body["cases"] = 2
        sql(store, "UPDATE checkpoints SET body = :b", b=json.dumps(body, sort_keys=True, separators=(",", ":")))
        assert verify(store, public_key=signing[1]).problem == "checkpoint 1: the signature does not match (forged or altered)"
        store.close()

    def test_an_auditor_verifies_the_export_with_only_the_public_key(self, url: str, signing: tuple[Any, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        store = open_store(url, audit_keys=KEYS)
        assert isinstance(store, SQLStore)
        history(store)
        write_checkpoint(store, signing[0])
        DurableEngine(registry(), store, clock=pathways.ManualClock()).fire("k3", "leave", citizen("cit-3"))
        write_checkpoint(store, signing[0])
        text = export_checkpoints(store)
        store.close()
        result = verify_export(text, signing[1])
        assert (result.ok, result.checkpoints, result.last and result.last["cases"]) == (True, 2, 3)
        first, second = text.splitlines()
        assert verify_export(second + "\n", signing[1]).problem == "checkpoint 1 is numbered 2 (a checkpoint was removed or reordered)"
        forged = json.loads(second)
        forged["heads"] = forged["heads"][:2]
        assert verify_export(first + "\n" + json.dumps(forged) + "\n", signing[1]).problem == (
            "checkpoint 2: its list of case heads does not match its signed digest"
        )
        export = tmp_path / "export.jsonl"
        export.write_text(text)
        public = tmp_path / "public.pem"
        from cryptography.hazmat.primitives import serialization

        public.write_bytes(signing[1].public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        assert cli(["audit", "verify-export", str(export), "--public-key", str(public)]) == 0
        assert "OK: 2 checkpoints, signatures and links intact; the last covers 3 cases" in capsys.readouterr().out


class TestRowsEqualReplay:
    """The rows the engine acts on must be what replaying the events gives (issue 14, item 3)."""

    @pytest.mark.parametrize(
        ("statement", "finding"),
        [
            ("UPDATE cases SET snapshot = replace(snapshot, '\"consent_given\":false', '\"consent_given\":true') WHERE id = 'k3'",
             "case 'k3': the stored snapshot does not equal the replay of its events (row altered)"),
            ("UPDATE cases SET state = 'staying' WHERE id = 'k3'",
             "case 'k3': the stored state does not equal the replay of its events (row altered)"),
            ("UPDATE cases SET citizen = 'cit-9' WHERE id = 'k3'",
             "case 'k3': the stored citizen does not equal the replay of its events (row altered)"),
            (f"UPDATE cases SET citizen_key = '{citizen_key('cit-9')}' WHERE id = 'k3'",  # found as another citizen's
             "case 'k3': the stored citizen_key does not equal the replay of its events (row altered)"),
            ("DELETE FROM case_owners WHERE case_id = 'k3' AND role = 'social_worker'",
             "case 'k3': the stored owner rows does not equal the replay of its events (row altered)"),
            ("UPDATE resources SET in_use = 16 WHERE id = 'beds'",
             "resource 'beds': 16 places are counted in use, but the cases' events hold 0 (counter altered)"),
        ],
        ids=["snapshot-consent", "state", "citizen", "citizen-key", "owners", "places"],
    )
    def test_a_forged_row_is_detected(self, url: str, statement: str, finding: str) -> None:
        store = open_store(url, audit_keys=KEYS)
        assert isinstance(store, SQLStore)
        history(store)
        assert verify(store, registry()).ok
        sql(store, statement)
        assert verify(store, registry()).problem == finding
        store.close()

    def test_a_case_on_a_version_not_loaded_is_noted_not_fatal(self, url: str) -> None:
        store = open_store(url, audit_keys=KEYS)
        assert isinstance(store, SQLStore)
        history(store)
        result = verify(store, pathways.load_registry([Path(__file__).parent / "fixtures" / "mini"]))
        assert result.ok
        assert "case 'k1' runs on night v1, which is not loaded; its row was not compared with its events" in result.notes
        store.close()

    def test_legacy_unkeyed_events_are_accepted_before_the_key_was_introduced(self, url: str) -> None:
        store = open_store(url)
        assert isinstance(store, SQLStore)
        history(store)
        store.close()
        store = open_store(url, audit_keys=KEYS)
        assert isinstance(store, SQLStore)
        clock = pathways.ManualClock()
        clock.advance(timedelta(hours=1))
        DurableEngine(registry(), store, clock=clock).fire("k3", "leave", citizen("cit-3"))
        assert verify(store, unkeyed_until=clock.now()).ok
        assert verify(store).problem is not None
        store.close()


class TestWorkerGoesOn:
    """One unreadable case, or one on a version not loaded, never stops the worker (issue 14, item 1)."""

    def test_a_poisoned_case_is_logged_and_the_others_fire(self, url: str, caplog: pytest.LogCaptureFixture) -> None:
        from pathways.store import run_worker

        store = open_store(url, audit_keys=KEYS)
        assert isinstance(store, SQLStore)
        clock = pathways.ManualClock()
        engine = DurableEngine(registry(), store, clock=clock)
        engine.start("night", "cit-1", case_id="a1")
        engine.start("night", "cit-2", case_id="b2")
        sql(store, "UPDATE cases SET snapshot = 'not json' WHERE id = 'a1'")
        clock.advance(timedelta(hours=3))
        caplog.set_level("INFO", logger="pathways.worker")
        assert run_worker(engine, once=True) == 1
        assert store.summary("b2").state == "done"
        assert {r.getMessage().split(" (")[0] for r in caplog.records if r.levelname == "ERROR"} == {"case a1: cannot be fired"}
        assert verify(store, registry()).problem == "case 'a1': the stored snapshot does not equal the replay of its events (row altered)"
        store.close()

    def test_a_negative_interval_is_refused(self, url: str) -> None:
        from pathways.store import run_worker

        store = open_store(url)
        with pytest.raises(pathways.InvalidArgument) as info:
            run_worker(DurableEngine(registry(), store), interval=-1)
        assert str(info.value) == "interval must be a number of seconds of at least 0, got -1"
        store.close()


class TestStoreFaults:
    def test_a_bad_port_is_a_store_error(self) -> None:
        with pytest.raises(pathways.StoreError) as info:
            open_store("postgresql://u@127.0.0.1:notaport/db")
        assert str(info.value) == (
            "not a database URL or path; the port must be a number; use a file path, sqlite:///path or postgresql+psycopg://user@host:5432/db"
        )

    def test_a_held_row_lock_gives_a_clear_store_error_after_lock_timeout(self, tmp_path: Path) -> None:
        url = backend_url("postgres", tmp_path)
        store = open_store(url, lock_timeout=0.5)
        assert isinstance(store, SQLStore)
        engine = DurableEngine(registry(), store, clock=pathways.ManualClock())
        engine.start("night", "cit-1", case_id="k1")
        with store.engine().connect() as other, other.begin():
            other.exec_driver_sql("SELECT id FROM cases WHERE id = 'k1' FOR UPDATE")
            with pytest.raises(pathways.StoreError) as info:
                engine.fire("k1", "leave", CITIZEN)
        assert str(info.value).endswith(
            "failed: another transaction held the rows this needs for longer than lock_timeout; try again; nothing was written"
        )
        assert store.summary("k1").state == "arrived"
        store.close()
