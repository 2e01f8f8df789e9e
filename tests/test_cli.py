"""The command line keeps one convention: --format text|json, exit codes 0/1/2, quiet pipes,
no binary on a terminal, read-only commands that never create a store, --version, -v/-q."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import pathways
from pathways.cli import main
from pathways.store import DurableEngine, open_store

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "definitions"


def _json(capsys: pytest.CaptureFixture[str]) -> object:
    return json.loads(capsys.readouterr().out)


def _store_with_one_case(path: Path) -> None:
    store = open_store(path)
    # On a clock inside Socialvagten's hours (Monday 17:00 in Copenhagen), whenever the test runs.
    DurableEngine(pathways.load_registry(DEFINITIONS), store, clock=pathways.ManualClock()).start("walk_in", citizen="c-1", case_id="k1")
    store.close()


class TestVersion:
    def test_the_version_flag_prints_the_package_version(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit) as exit_:
            main(["--version"])
        assert exit_.value.code == 0
        assert capsys.readouterr().out == f"pathways {pathways.__version__}\n"

    def test_the_version_comes_from_the_package_metadata(self) -> None:
        from importlib.metadata import version

        assert pathways.__version__ == version("care-pathways")


class TestFormats:
    def test_validate_prints_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["validate", str(ROOT / "tests" / "fixtures" / "mini"), "--format", "json"]) == 0
        assert _json(capsys) == {"ok": True, "pathways": [
            {"id": "amb", "version": 1, "states": 4, "transitions": 3, "roles": 1},
            {"id": "stay", "version": 1, "states": 6, "transitions": 5, "roles": 5},
        ]}

    def test_show_prints_the_pathway_as_its_definition_in_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["show", "overnight_stay", "-d", str(DEFINITIONS), "--format", "json"]) == 0
        data = _json(capsys)
        assert isinstance(data, dict) and data["id"] == "overnight_stay" and data["initial"]

    def test_show_says_who_may_set_each_fact(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["show", "overnight_stay", "-d", str(DEFINITIONS)]) == 0
        lines = capsys.readouterr().out.splitlines()
        start = lines.index(next(line for line in lines if line.startswith("fact ")))
        assert [line.split()[:5] for line in lines[start + 2 : start + 4]] == [
            ["consent_given", "no", "citizen", "nurse,", "social_worker"],
            ["has_user_contract", "no", "only", "transitions", "-"],
        ]

    def test_show_takes_a_file_path(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["show", str(DEFINITIONS / "counselling.yaml")]) == 0
        assert capsys.readouterr().out.startswith("counselling v1 — ")

    def test_a_definition_error_in_json_mode_is_an_error_object_and_exit_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        bad = tmp_path / "bad.yaml"
        bad.write_text("id: x\n", encoding="utf-8")
        assert main(["validate", str(bad), "--format", "json"]) == 2
        out = capsys.readouterr()
        error = json.loads(out.out)["error"]
        assert error["kind"] == "DefinitionError"
        assert error["problems"][0]["file"] == str(bad)
        assert out.err.startswith("error: ")

    def test_diagram_json_holds_mermaid_and_dot(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["diagram", "walk_in", "-d", str(DEFINITIONS), "--format", "json"]) == 0
        data = _json(capsys)
        assert isinstance(data, dict) and set(data) == {"pathway", "mermaid", "dot"} and data["dot"].startswith("digraph")

    def test_a_png_refuses_a_terminal(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
        assert main(["diagram", "walk_in", "-d", str(DEFINITIONS), "-f", "png"]) == 2
        assert capsys.readouterr().err == (
            "error: a PNG is binary and standard output is a terminal; write it with -o FILE or redirect it\n"
        )

    def test_wrong_usage_exits_2(self) -> None:
        with pytest.raises(SystemExit) as exit_:
            main(["check", "--format", "yaml"])
        assert exit_.value.code == 2


class TestStores:
    def test_audit_verify_of_a_missing_file_is_an_error_and_creates_nothing(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        typo = tmp_path / "typo.db"
        assert main(["audit", "verify", "--db", str(typo)]) == 2
        assert not typo.exists()
        assert capsys.readouterr().err == (
            f"error: no case store at {typo}: the file does not exist; check the path "
            "(a store is created by the host application that starts cases)\n"
        )

    def test_worker_on_a_missing_file_is_an_error_and_creates_nothing(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        assert main(["worker", "--db", "::::", "--once", "-d", str(DEFINITIONS)]) == 2
        assert list(tmp_path.iterdir()) == []

    def test_no_store_given_is_an_error(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.delenv("PATHWAYS_DB", raising=False)
        assert main(["audit", "verify"]) == 2
        assert capsys.readouterr().err == "error: no case store given: pass --db PATH_OR_URL or set PATHWAYS_DB\n"

    def test_the_store_comes_from_pathways_db(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        db = tmp_path / "house.db"
        _store_with_one_case(db)
        monkeypatch.setenv("PATHWAYS_DB", str(db))
        assert main(["audit", "verify", "--format", "json"]) == 0
        assert _json(capsys) == {
            "ok": True, "cases": 1, "events": 1, "problem": None, "case_id": None, "seq": None,
            "keyed": False, "checkpoint": None, "notes": [
                "no checkpoint: deleted cases and cut-off newest events cannot be detected",
                "case rows were not compared with their events (no definitions given)",
                "the audit is unkeyed: anyone with write access to the database could rewrite events and recompute their hashes",
            ],
        }

    def test_a_tampered_trail_exits_1(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        import sqlite3

        db = tmp_path / "house.db"
        _store_with_one_case(db)
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE events SET trigger = 'forged'")
        assert main(["audit", "verify", "--db", str(db)]) == 1
        assert capsys.readouterr().out.startswith("TAMPERED: case 'k1': event 0 was altered")


class TestPipesAndLogs:
    def test_a_closed_pipe_ends_quietly(self) -> None:
        command = [sys.executable, "-m", "pathways.cli", "show", "overnight_stay", "-d", str(DEFINITIONS)]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            proc.stdout.close()  # the reader is gone before the command writes, like `| head -0`
            err = proc.stderr.read().decode()
            code = proc.wait()
        assert (code, err) == (141, "")

    def test_the_worker_logs_through_logging_and_q_silences_info(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        db = tmp_path / "house.db"
        _store_with_one_case(db)
        assert main(["-v", "worker", "--db", str(db), "--once", "-d", str(DEFINITIONS)]) == 0
        # Socialvagten closed at 24:00 long ago: the night hand-over (and the outreach team's referral),
        # the night team's intake declining by its clock, its answer back, and the call back that lapsed
        # the next evening.
        assert capsys.readouterr().out == "fired 5 event(s)\n"
        assert main(["-q", "worker", "--db", str(db), "--once", "-d", str(DEFINITIONS), "--format", "json"]) == 0
        out = capsys.readouterr()
        assert (json.loads(out.out), out.err) == ({"fired": 0}, "")


def test_a_missing_extra_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "simpy" or m.startswith("pathways.simulation")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "simpy", None)  # an import of simpy now fails as if not installed
    with pytest.raises(pathways.MissingExtra) as error:
        importlib.import_module("pathways.simulation")
    assert (error.value.extra, error.value.module) == ("simulate", "simpy")
    assert str(error.value) == (
        "simulation (pathways.simulation) needs the optional package 'simpy', which is not installed; "
        "install it with: pip install 'care-pathways[simulate]'"
    )


def test_pathways_db_is_not_required_by_commands_without_a_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(os.environ, "PATHWAYS_DB", "")
    assert main(["validate", str(DEFINITIONS), "-q"]) == 0


def test_a_missing_extra_survives_pickling_with_its_data() -> None:
    import pickle

    error = pathways.MissingExtra("store", "sqlalchemy", "the case store")
    back = pickle.loads(pickle.dumps(error))
    assert (type(back), vars(back), str(back)) == (pathways.MissingExtra, vars(error), str(error))


class TestCases:
    @pytest.fixture
    def db(self, tmp_path: Path) -> Path:
        from test_store_support import SOCIAL, registry

        db = tmp_path / "house.db"
        store = open_store(db)
        engine = DurableEngine(registry(), store, clock=pathways.ManualClock(pathways.ManualClock().now()))
        engine.start("night", "cit-1", case_id="k1")
        engine.start("night", "cit-1", case_id="k2")
        engine.fire("k1", "plan", SOCIAL)
        store.close()
        return db

    def test_the_inbox_of_a_role_in_json(self, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["cases", "inbox", "--db", str(db), "--role", "leader_region", "--format", "json"]) == 0
        (wait,) = _json(capsys)["awaiting"]  # type: ignore[index]
        assert {k: wait[k] for k in ("case_id", "trigger", "role", "sector", "requested_by", "approved_by")} == {
            "case_id": "k1", "trigger": "plan", "role": "leader_region", "sector": "region", "requested_by": "s-1", "approved_by": [],
        }

    def test_the_requester_sees_an_empty_inbox(self, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["cases", "inbox", "--db", str(db), "--sector", "social", "--person", "s-1"]) == 0
        assert capsys.readouterr().out == "(nothing waits)\n"

    def test_an_inbox_needs_a_role_or_a_sector(self, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["cases", "inbox", "--db", str(db)]) == 2
        assert capsys.readouterr().err == "error: cases inbox needs --role ROLE or --sector SECTOR (and may take --person ID)\n"

    def test_a_citizens_cases(self, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["cases", "citizen", "cit-1", "--db", str(db), "--format", "json"]) == 0
        assert [c["id"] for c in _json(capsys)["cases"]] == ["k1", "k2"]  # type: ignore[index]
        assert main(["cases", "citizen", "CIT-1", "--db", str(db), "--format", "json"]) == 0  # the same citizen
        assert [(c["id"], c["citizen"]) for c in _json(capsys)["cases"]] == [("k1", "cit-1"), ("k2", "cit-1")]  # type: ignore[index]

    def test_overdue_cases_exit_1_and_the_lag(self, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["cases", "overdue", "--db", str(db), "--at", "2000-01-01T00:00+00:00"]) == 0
        assert capsys.readouterr().out == "(no cases)\n"
        assert main(["cases", "overdue", "--db", str(db), "--at", "2100-01-01T00:00+00:00", "--format", "json"]) == 1
        assert [c["id"] for c in _json(capsys)["overdue"]] == ["k1", "k2"]  # type: ignore[index]  # a timeout and a deadline
        assert main(["cases", "lag", "--db", str(db), "--at", "2000-01-01T00:00+00:00", "--format", "json"]) == 0
        assert _json(capsys) == {"at": "2000-01-01T00:00:00+00:00", "lag": "PT0S", "seconds": 0.0}

    def test_a_time_without_offset_is_bad_input(self, db: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["cases", "lag", "--db", str(db), "--at", "2026-03-01T08:00"]) == 2
        assert capsys.readouterr().err == "error: --at '2026-03-01T08:00' has no UTC offset; write e.g. 2026-03-01T08:00+01:00\n"


def test_import_pathways_loads_the_light_core_only() -> None:
    """networkx, SimPy, SQLAlchemy, matplotlib, hypothesis (and slow standard modules) load on first use."""
    heavy = ["hypothesis", "importlib.metadata", "matplotlib", "networkx", "numpy", "simpy", "sqlalchemy", "tempfile"]
    probe = f"import sys, pathways; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"
