"""Hypothesis profiles: ``dev`` (default, quick) and ``ci`` (more examples; scripts/test selects it).

``dev`` draws new examples on every run, so local runs keep exploring; ``ci`` is
derandomized, so a CI verdict is reproducible and a failure replays on any machine.

Choose one with ``HYPOTHESIS_PROFILE=ci``. Deadlines are off: a stateful run's step time
depends on the machine, and tests must not assert on time.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev",
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Messages are asserted in English unless a test chooses Danish (a Danish locale must not change verdicts).
os.environ.setdefault("PATHWAYS_LANG", "en")

# A throwaway PostgreSQL server when the run has PostgreSQL tests and no server is given
# (see tests/throwaway_postgres.py); started after collection so other runs do not pay for it.
_throwaway: list[object] = []


def pytest_collection_modifyitems(config: object, items: list[object]) -> None:
    if os.environ.get("PATHWAYS_TEST_POSTGRES_URL") or not any("postgres" in getattr(i, "nodeid", "") for i in items):
        return
    from throwaway_postgres import ThrowawayPostgres, find_bindir

    bindir = find_bindir()
    if bindir is None:
        return  # the tests skip, saying how to install PostgreSQL (test_store_support.postgres_url)
    server = ThrowawayPostgres(bindir)
    _throwaway.append(server)
    os.environ["PATHWAYS_TEST_POSTGRES_URL"] = server.start()


def pytest_unconfigure(config: object) -> None:
    for server in _throwaway:
        server.stop()  # type: ignore[attr-defined]
    _throwaway.clear()
