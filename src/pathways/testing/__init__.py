"""Test your pathways: hypothesis strategies, a state-machine factory and a soundness assertion.

For host applications and pathway designers::

    from pathways import load_registry
    from pathways.testing import assert_sound, pathway_machine

    registry = load_registry("definitions")
    TestHouse = pathway_machine(registry).TestCase      # pytest collects it
    def test_sound(): assert_sound(registry)

- :func:`pathways_strategy`, :func:`valid_pathways`, :func:`sound_pathways`,
  :func:`registries`: generated definitions that pass the loader's checks;
- :func:`faulty_pathways` / :func:`seeded_faults`: ones seeded with one stranding fault;
- :func:`actions` and :func:`perform`: engine actions as data, for driving an engine;
- :func:`pathway_machine`: a ``RuleBasedStateMachine`` whose invariants are the engine's
  laws and the stranding properties;
- :func:`assert_sound`: fails with the checker's counterexample stories.
"""

from .._extras import needs as _needs

with _needs("testing", "the testing kit (pathways.testing)"):
    from ._actions import PERSONS, Action, Advance, Approve, Fire, Refuse, SetFact, actions, actors, perform
    from ._faults import FAULT_KINDS, Fault, faulty_pathways, seeded_faults
    from ._generate import pathways_strategy, registries, sound_pathways, valid_pathways
    from ._laws import can_finish, event_problem, story
    from ._machine import pathway_machine
    from ._sound import assert_sound

__all__ = [
    "FAULT_KINDS",
    "PERSONS",
    "Action",
    "Advance",
    "Approve",
    "Fault",
    "Fire",
    "Refuse",
    "SetFact",
    "actions",
    "actors",
    "assert_sound",
    "can_finish",
    "event_problem",
    "faulty_pathways",
    "pathway_machine",
    "pathways_strategy",
    "perform",
    "registries",
    "seeded_faults",
    "sound_pathways",
    "story",
    "valid_pathways",
]
