"""The durable example runs end to end on SQLite, and again on the same database."""

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "durable_house.py"


def _run(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLE), "--db", str(db)], capture_output=True, text=True, timeout=300)


def test_an_evening_admits_exactly_the_free_places_and_leaves_an_intact_audit_trail(tmp_path: Path) -> None:
    result = _run(tmp_path / "house.db")
    assert result.returncode == 0, result.stderr
    assert "admitted 16; places in use (counted in the database): 16" in result.stdout
    assert result.stdout.count("not admitted — ") == 2
    assert "was changed by another writer since it was read" in result.stdout
    assert "places in use: 0; audit trail: intact (18 cases, 93 events)" in result.stdout


def test_a_second_evening_on_the_same_database_finds_every_place_free_again(tmp_path: Path) -> None:
    db = tmp_path / "house.db"
    assert _run(db).returncode == 0
    second = _run(db)
    assert second.returncode == 0, second.stderr
    assert "16 of the overnight places are free" in second.stdout
    assert "audit trail: intact (36 cases, 186 events)" in second.stdout
