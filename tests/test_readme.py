"""The README's tour runs as written, and its set-up names the scripts that exist."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_python_tour_runs_and_answers_why_not() -> None:
    (code,) = re.findall(r"```python\n(.*?)```", README, re.S)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "start_conversation True []",
        "night_handover True []",
        "leave False [\"role 'social_duty_worker' may not fire 'leave' (allowed: citizen)\"]",
    ]


def test_the_two_set_up_commands_exist_and_ci_runs_the_test_command() -> None:
    assert "bash scripts/main" in README and "bash scripts/test" in README
    assert (ROOT / "scripts" / "main").exists() and (ROOT / "scripts" / "test").exists()
    assert "bash scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
