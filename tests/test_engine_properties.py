"""Property tests of the engine on every seed pathway and on generated ones.

For any sequence of actions (actor, trigger, approval, refusal, fact, clock advance) the
engine never moves without permission, never exceeds capacity, never lets one person
approve twice or approve their own request, its history replays to the case and its
snapshots round-trip; and (stranding) every case can still reach an end with someone
responsible for it. The laws live in :mod:`pathways.testing`; the number of examples comes
from the hypothesis profile (``HYPOTHESIS_PROFILE=ci`` in CI, see conftest.py).
"""

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import run_state_machine_as_test

from pathways import Pathway, Registry, load_registry, load_text
from pathways._converter import converter
from pathways._validate import problems
from pathways._yaml import dump
from pathways.testing import pathway_machine, registries, sound_pathways, valid_pathways

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "definitions"


def _seed_registry() -> Registry:
    """The six seed pathways, or the mini fixture while definitions/ is still empty."""
    if any(SEEDS.glob("*.yaml")):
        return load_registry(SEEDS)
    return load_registry(ROOT / "tests" / "fixtures" / "mini")


REGISTRY = _seed_registry()


def _dump(pathway: object) -> str:
    return dump(converter.unstructure(pathway))


# -- the seed pathways on the real engine ------------------------------------------------


# The seed pathways are what the houses run: give them more and longer runs than the profile's default.
_PROFILE = settings()  # the loaded profile's values
SEED_RUNS = settings(
    max_examples=_PROFILE.max_examples * 5 // 2,
    stateful_step_count=_PROFILE.stateful_step_count * 5 // 4,
)


@pytest.mark.parametrize("pathway_id", sorted(REGISTRY))
def test_random_runs_starting_in_each_seed_pathway_keep_every_law(pathway_id: str) -> None:
    """Cases start in this pathway; hand-overs start the receiving ones. Two places make 'full' reachable."""
    run_state_machine_as_test(pathway_machine(REGISTRY, start=[pathway_id], capacity=2, max_cases=2), settings=SEED_RUNS)


def test_random_runs_through_the_whole_house_with_its_real_capacity_keep_every_law() -> None:
    run_state_machine_as_test(pathway_machine(REGISTRY, max_cases=4), settings=SEED_RUNS)


# -- generated pathways --------------------------------------------------------------------


@settings(max_examples=40)
@given(valid_pathways())
def test_generated_valid_pathways_have_no_definition_problems_and_survive_yaml(p: Pathway) -> None:
    assert list(problems(p)) == []
    assert load_text(_dump(p)) == p


@settings(max_examples=40)
@given(sound_pathways(max_states=6, max_extra=4))
def test_generated_sound_pathways_have_no_definition_problems_and_survive_yaml(p: Pathway) -> None:
    assert list(problems(p)) == []
    assert load_text(_dump(p)) == p


@settings(max_examples=20)
@given(registries())
def test_generated_registries_load_together_from_files(registry: Registry) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for p in registry.values():
            (Path(folder) / f"{p.id}.yaml").write_text(_dump(p), encoding="utf-8")
        loaded = load_registry(folder)
    assert {pid: loaded[pid] for pid in loaded} == {pid: registry[pid] for pid in registry}


# Nesting runs a small state machine per generated definition; the outer examples are few.
_INNER = settings(max_examples=8, stateful_step_count=25, deadline=None, database=None)


@settings(max_examples=10, suppress_health_check=[HealthCheck.nested_given, HealthCheck.too_slow])
@given(sound_pathways())
def test_random_runs_on_generated_sound_pathways_keep_every_law(p: Pathway) -> None:
    run_state_machine_as_test(pathway_machine(p, capacity=1), settings=_INNER)


@settings(max_examples=6, suppress_health_check=[HealthCheck.nested_given, HealthCheck.too_slow])
@given(registries())
def test_random_runs_on_generated_hand_overs_keep_every_law(registry: Registry) -> None:
    run_state_machine_as_test(pathway_machine(registry, start=["sender"]), settings=_INNER)


@settings(max_examples=6, suppress_health_check=[HealthCheck.nested_given, HealthCheck.too_slow])
@given(valid_pathways())
def test_random_runs_on_valid_but_unsound_pathways_keep_the_engine_laws(p: Pathway) -> None:
    run_state_machine_as_test(pathway_machine(p, stranding=False), settings=_INNER)
