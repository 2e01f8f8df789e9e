"""Every mistake a designer can make in a definition file, and the exact message it gets.

Each :class:`Mistake` is one edit of a valid definition (:data:`BASE`) and every line the
loader prints for it: ``file:line:column: path: message (hint)``. The same table
generates the catalogue in ``docs/errors.md`` (see ``tests/test_docs.py``), so the
documentation quotes what the loader really says.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings

from pathways import DefinitionError, Guard, Pathway, Problem, load_file, load_registry, load_text
from pathways._converter import converter
from pathways._yaml import dump
from pathways.cli import main
from strategies_local import pathways

BASE = """\
id: stay
version: 1
title: {da: Ophold, en: Stay}
description: {da: Kort ophold, en: Short stay}
initial: arrived
sectors:
  region: {label: {da: Region, en: Region}}
  kommune: {label: {da: Kommune, en: Municipality}}
  borger: {label: {da: Borger, en: Citizen}}
roles:
  nurse: {sector: region, label: {da: Sygeplejerske, en: Nurse}}
  leder_region: {sector: region, label: {da: Leder, en: Regional leader}}
  leder_kommune: {sector: kommune, label: {da: Leder, en: Municipal leader}}
  citizen: {sector: borger, label: {da: Borger, en: Citizen}}
facts:
  consent_given: {label: {da: Samtykke, en: Consent given}}
resources:
  places: {capacity: 16, label: {da: Pladser, en: Overnight places}}
states:
  - {id: arrived, kind: active, label: {da: Ankommet, en: Arrived}, responsible: [nurse], deadline: {after: PT2H, trigger: escalate}}
  - {id: staying, kind: active, label: {da: Ophold, en: Staying}, responsible: [nurse]}
  - {id: referred, kind: waiting, label: {da: Henvist, en: Referred}, responsible: [nurse]}
  - {id: done, kind: terminal, outcome: completed, label: {da: Afsluttet, en: Done}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: Gået, en: Left}, follow_up: {da: Ring, en: Call us}}
transitions:
  - trigger: admit
    source: arrived
    dest: staying
    roles: [nurse]
    guards: [consent_given]
    takes: places
    approval: {rule: all_of, roles: [leder_region, leder_kommune], on_refusal: done, timeout: PT4H}
  - {trigger: escalate, source: arrived, dest: done, roles: [nurse]}
  - {trigger: finish, source: staying, dest: done, roles: [nurse], releases: places}
  - {trigger: leave, source: "*", dest: left, roles: [citizen]}
intake: {state: arrived, accept: admit, decline: escalate}
"""
"""A valid definition; line numbers in the expected messages refer to it."""

FIXTURES = Path(__file__).parent / "fixtures" / "mini"
STAY = (FIXTURES / "stay.yaml").read_text(encoding="utf-8")
AMB = (FIXTURES / "amb.yaml").read_text(encoding="utf-8")


def _edit(text: str, edits: Sequence[tuple[str, str]]) -> str:
    for old, new in edits:
        assert text.count(old) == 1, f"edit {old!r} must match exactly once"
        text = text.replace(old, new)
    return text


@attrs.frozen
class Mistake:
    """One designer mistake: how to make it, and every line the loader prints for it."""

    name: str
    says: str
    """The behaviour, in one sentence."""
    expected: list[str]
    edits: list[tuple[str, str]] = attrs.Factory(list)
    text: str | None = None
    """The whole file, when the mistake is not an edit of :data:`BASE`."""

    def source(self) -> str:
        return self.text if self.text is not None else _edit(BASE, self.edits)


MISTAKES = [
    Mistake(
        'malformed-yaml',
        'A bracket left open is reported where YAML noticed it, and where the bracket opened.',
        edits=[('initial: arrived', 'initial: [arrived')],
        expected=["stay.yaml:6:8: (document): not valid YAML: expected ',' or ']', but got ':', while parsing a flow sequence that starts at line 5 (check indentation and quoting)"],
    ),
    Mistake(
        'tab-indent',
        'A tab in the indentation gets a hint about spaces.',
        edits=[('version: 1\n', 'version: 1\n\ttitle: x\n')],
        expected=["stay.yaml:3:1: (document): not valid YAML: found character '\\t' that cannot start any token (indent with spaces; YAML does not allow tabs)"],
    ),
    Mistake(
        'not-a-mapping',
        'A file that is a list, not a mapping of fields, is refused as a whole.',
        text='- arrived\n- staying\n',
        expected=["stay.yaml:1:1: (document): a definition must be a mapping of fields, got list (start with 'id: my_pathway')"],
    ),
    Mistake(
        'empty-file',
        'An empty file says so.',
        text='',
        expected=["stay.yaml:1:1: (document): the file is empty (start with 'id: my_pathway')"],
    ),
    Mistake(
        'duplicate-key',
        'A key written twice in one mapping is reported at the second one.',
        edits=[('initial: arrived\n', 'initial: arrived\ninitial: staying\n')],
        expected=["stay.yaml:6:1: initial: key 'initial' appears twice (remove or rename one of them)"],
    ),
    Mistake(
        'unknown-field',
        'A misspelt top-level field is unknown, with the closest field as a hint.',
        edits=[('version: 1\n', 'version: 1\ndescripton: {da: Kort, en: Short}\n')],
        expected=["stay.yaml:3:1: descripton: unknown field 'descripton' (did you mean 'description'?)"],
    ),
    Mistake(
        'unknown-field-nested',
        'A misspelt field inside a state is unknown at its exact place.',
        edits=[('responsible: [nurse]}\n  - {id: referred', 'responsable: [nurse]}\n  - {id: referred')],
        expected=["stay.yaml:21:67: states[1].responsable: unknown field 'responsable' (did you mean 'responsible'?)"],
    ),
    Mistake(
        'missing-field',
        'A missing required field is reported at its parent.',
        edits=[('initial: arrived\n', '')],
        expected=["stay.yaml:1:1: initial: required field 'initial' is missing (add 'initial:')"],
    ),
    Mistake(
        'missing-field-nested',
        'A state without a kind is reported at the state.',
        edits=[('{id: staying, kind: active, ', '{id: staying, ')],
        expected=["stay.yaml:21:5: states[1].kind: required field 'kind' is missing (add 'kind:')"],
    ),
    Mistake(
        'text-for-number',
        'Text where a whole number belongs is refused.',
        edits=[('version: 1', 'version: one')],
        expected=["stay.yaml:2:1: version: expected a whole number, got 'one'"],
    ),
    Mistake(
        'quoted-number',
        'A quoted number is text, not a number.',
        edits=[('capacity: 16', "capacity: '16'")],
        expected=["stay.yaml:18:12: resources.places.capacity: expected a whole number, got '16'"],
    ),
    Mistake(
        'empty-id',
        'An id cannot be empty: the store could not tell it from none.',
        edits=[("- {id: referred,", "- {id: '',")],
        expected=["stay.yaml:22:6: states[2].id: an id cannot be empty: '' (use letters, digits and '_', e.g. 'overnight_stay')"],
    ),
    Mistake(
        'id-with-control-character',
        'Ids are printable text without spaces; PostgreSQL cannot store a NUL character.',
        edits=[("- {id: referred,", '- {id: "re\\0ferred",')],
        expected=["stay.yaml:22:6: states[2].id: an id cannot contain spaces or control characters (found '\\x00'): 're\\x00ferred' (use letters, digits and '_', e.g. 'overnight_stay')"],
    ),
    Mistake(
        'id-too-long',
        'An id has at most 128 characters, the size of its database column.',
        edits=[("id: stay\nversion", "id: " + "p" * 129 + "\nversion")],
        expected=[f"stay.yaml:1:1: id: an id can have at most 128 characters, this one has 129: '{'p' * 40}' (use letters, digits and '_', e.g. 'overnight_stay')"],
    ),
    Mistake(
        'version-out-of-range',
        'A version is a whole number from 1 up to what a database integer holds.',
        edits=[("version: 1", "version: 3000000000")],
        expected=["stay.yaml:2:1: version: version must be between 1 and 2,147,483,647, got 3000000000 (number versions 1, 2, 3, …)"],
    ),
    Mistake(
        'deadline-too-long',
        'A deadline of more than 100 years is a typing mistake (and past the calendar).',
        edits=[("after: PT2H", "after: P999999999999D")],
        expected=["stay.yaml:20:102: states[0].deadline.after: duration 'P999999999999D' is too long: write at most 'P36525D' (100 years)"],
    ),
    Mistake(
        'text-for-bool',
        "A fact's default must be true or false; YAML 1.2 reads `yes` as the word (and says so).",
        edits=[('Consent given}}', "Consent given}, default: yes}")],
        expected=["stay.yaml:16:61: facts.consent_given.default: expected true or false, got 'yes' (YAML 1.2 reads only true and false as yes/no; write true or false)"],
    ),
    Mistake(
        'text-for-label',
        'A label must be a mapping with da and en.',
        edits=[('title: {da: Ophold, en: Stay}', 'title: Stay')],
        expected=["stay.yaml:3:1: title: expected a mapping with fields da, en, got 'Stay'"],
    ),
    Mistake(
        'list-for-mapping',
        '`sets` is a mapping of facts to values, not a list.',
        edits=[('releases: places}', 'releases: places, sets: [consent_given]}')],
        expected=["stay.yaml:34:86: transitions[2].sets: expected a mapping of names to values, got ['consent_given']"],
    ),
    Mistake(
        'bad-kind',
        'A state kind outside active, waiting, terminal lists the allowed ones.',
        edits=[('kind: waiting', 'kind: pending')],
        expected=["stay.yaml:22:20: states[2].kind: expected one of 'active', 'waiting', 'terminal', got 'pending'"],
    ),
    Mistake(
        'bad-rule',
        'An approval rule outside all_of, any_of, n_of, one_per_sector lists the allowed ones.',
        edits=[('rule: all_of', 'rule: allof')],
        expected=["stay.yaml:32:16: transitions[0].approval.rule: expected one of 'all_of', 'any_of', 'n_of', 'one_per_sector', got 'allof'"],
    ),
    Mistake(
        'bad-outcome',
        'An outcome outside completed, handed_over, left_by_choice lists the allowed ones.',
        edits=[('outcome: completed', 'outcome: finished')],
        expected=["stay.yaml:23:32: states[3].outcome: expected one of 'completed', 'handed_over', 'left_by_choice', got 'finished'"],
    ),
    Mistake(
        'unknown-sector',
        "A role's sector must be declared under sectors.",
        edits=[('nurse: {sector: region', 'nurse: {sector: regoin')],
        expected=["stay.yaml:11:11: roles.nurse.sector: unknown sector 'regoin' (did you mean 'region'?)"],
    ),
    Mistake(
        'unknown-role-responsible',
        "A state's responsible roles must be declared.",
        edits=[('responsible: [nurse]}\n  - {id: referred', 'responsible: [nurce]}\n  - {id: referred')],
        expected=["stay.yaml:21:81: states[1].responsible[0]: unknown role 'nurce' (did you mean 'nurse'?)"],
    ),
    Mistake(
        'unknown-role-transition',
        "A transition's roles must be declared.",
        edits=[('roles: [citizen]}', 'roles: [citzen]}')],
        expected=["stay.yaml:35:55: transitions[3].roles[0]: unknown role 'citzen' (did you mean 'citizen'?)"],
    ),
    Mistake(
        'unknown-role-approval',
        "An approval's roles must be declared.",
        edits=[('roles: [leder_region, leder_kommune]', 'roles: [leder_regoin, leder_kommune]')],
        expected=["stay.yaml:32:38: transitions[0].approval.roles[0]: unknown role 'leder_regoin' (did you mean 'leder_region'?)"],
    ),
    Mistake(
        'unknown-role-fact-setter',
        "The roles that may set a fact must be declared.",
        edits=[("consent_given: {label: {da: Samtykke, en: Consent given}}", "consent_given: {label: {da: Samtykke, en: Consent given}, set_by: [citzen]}")],
        expected=["stay.yaml:16:70: facts.consent_given.set_by[0]: unknown role 'citzen' (did you mean 'citizen'?)"],
    ),
    Mistake(
        'fact-set-and-recorded',
        "A role either sets a fact or records it on the citizen's word, not both.",
        edits=[("consent_given: {label: {da: Samtykke, en: Consent given}}",
                "consent_given: {label: {da: Samtykke, en: Consent given}, set_by: [citizen, nurse], recorded_by: [nurse]}")],
        expected=["stay.yaml:16:101: facts.consent_given.recorded_by[0]: role 'nurse' may both set 'consent_given' and record it (keep 'nurse' in one list: 'recorded_by' when it records the citizen's word (with a reason), else 'set_by')"],
    ),
    Mistake(
        'citizen-recorded',
        "The citizen states a fact themself; only staff record it for them.",
        edits=[("consent_given: {label: {da: Samtykke, en: Consent given}}",
                "consent_given: {label: {da: Samtykke, en: Consent given}, recorded_by: [citizen]}")],
        expected=["stay.yaml:16:75: facts.consent_given.recorded_by[0]: the citizen states 'consent_given' themself; 'recorded_by' is for staff recording the citizen's word (move 'citizen' to 'set_by')"],
    ),
    Mistake(
        'relative-recorded',
        "Only staff record a fact on the citizen's word; a relative does not speak for the citizen.",
        edits=[("  citizen: {sector: borger, label: {da: Borger, en: Citizen}}\n",
                "  citizen: {sector: borger, label: {da: Borger, en: Citizen}}\n  relative: {sector: borger, label: {da: Pårørende, en: Relative}}\n"),
               ("consent_given: {label: {da: Samtykke, en: Consent given}}",
                "consent_given: {label: {da: Samtykke, en: Consent given}, set_by: [citizen], recorded_by: [relative]}")],
        expected=["stay.yaml:17:94: facts.consent_given.recorded_by[0]: role 'relative' is on the citizen's side, and only staff record the citizen's word (remove 'relative': a relative does not speak for the citizen; what a relative says is a fact of its own)"],
    ),
    Mistake(
        'no-role-fires',
        'A transition that no role may fire is refused.',
        edits=[(', roles: [citizen]}', '}')],
        expected=["stay.yaml:35:5: transitions[3].roles: no role may fire 'leave' (list the roles that may fire it)"],
    ),
    Mistake(
        'duplicate-state',
        'Two states with one id are refused at the second.',
        edits=[('{id: referred,', '{id: staying,')],
        expected=["stay.yaml:22:6: states[2].id: state id 'staying' is already used by states[1] (give every state its own id)"],
    ),
    Mistake(
        'reserved-state-id',
        "'*' cannot be a state id.",
        edits=[('{id: referred,', "{id: '*',")],
        expected=["stay.yaml:22:6: states[2].id: '*' is reserved for 'every state' in transition sources (choose another id)"],
    ),
    Mistake(
        'unknown-initial',
        'The initial state must be one of the states.',
        edits=[('initial: arrived', 'initial: arived')],
        expected=["stay.yaml:5:1: initial: unknown state 'arived' (did you mean 'arrived'?)"],
    ),
    Mistake(
        'unknown-source',
        'A transition from a state that does not exist.',
        edits=[('source: staying, dest: done', 'source: stayng, dest: done')],
        expected=["stay.yaml:34:23: transitions[2].source[0]: unknown state 'stayng' (did you mean 'staying'?)"],
    ),
    Mistake(
        'unknown-dest',
        'A transition to a state that does not exist.',
        edits=[('source: staying, dest: done', 'source: staying, dest: don')],
        expected=["stay.yaml:34:40: transitions[2].dest: unknown state 'don' (did you mean 'done'?)"],
    ),
    Mistake(
        'empty-source',
        'A transition needs a source.',
        edits=[('source: staying, dest: done', 'source: [], dest: done')],
        expected=["stay.yaml:34:23: transitions[2].source: a transition needs at least one source state (name the state(s) it leaves, or '*' for every non-terminal state)"],
    ),
    Mistake(
        'from-terminal',
        'Nothing leaves a terminal state.',
        edits=[('source: staying, dest: done', 'source: [staying, done], dest: done')],
        expected=["stay.yaml:34:41: transitions[2].source[1]: transition 'finish' leaves terminal state 'done' (terminal states end the pathway; use an active or waiting state)"],
    ),
    Mistake(
        'duplicate-trigger',
        'One trigger from one state twice is ambiguous.',
        edits=[('trigger: finish, source: staying', 'trigger: escalate, source: arrived')],
        expected=["stay.yaml:34:6: transitions[2].trigger: trigger 'escalate' from state 'arrived' is already defined by transitions[1] (use a different trigger name for one of them)"],
    ),
    Mistake(
        'unknown-guard-fact',
        'A guard names a declared fact.',
        edits=[('guards: [consent_given]', 'guards: [consent]')],
        expected=["stay.yaml:30:14: transitions[0].guards[0]: unknown fact 'consent' (did you mean 'consent_given'?)"],
    ),
    Mistake(
        'malformed-guard',
        "A guard is a fact or 'not fact', nothing more.",
        edits=[('guards: [consent_given]', 'guards: [not consent_given now]')],
        expected=["stay.yaml:30:14: transitions[0].guards[0]: malformed guard 'not consent_given now': write a fact name or 'not <fact>'"],
    ),
    Mistake(
        'unknown-sets-fact',
        'A transition sets only declared facts.',
        edits=[('releases: places}', 'releases: places, sets: {consent: true}}')],
        expected=["stay.yaml:34:93: transitions[2].sets.consent: unknown fact 'consent' (did you mean 'consent_given'?)"],
    ),
    Mistake(
        'unknown-resource',
        'takes/releases names a declared resource.',
        edits=[('takes: places', 'takes: place')],
        expected=["stay.yaml:31:5: transitions[0].takes: unknown resource 'place' (did you mean 'places'?)"],
    ),
    Mistake(
        'capacity-below-one',
        'A resource has at least one place.',
        edits=[('capacity: 16', 'capacity: 0')],
        expected=['stay.yaml:18:12: resources.places.capacity: capacity must be at least 1, got 0 (a resource without places can never be taken; give it its real number of places)'],
    ),
    Mistake(
        'malformed-duration',
        'A duration is ISO-8601.',
        edits=[('after: PT2H', 'after: P2X')],
        expected=["stay.yaml:20:102: states[0].deadline.after: malformed duration 'P2X': write an ISO-8601 duration such as 'PT30M', 'PT8H', 'P2D' or 'P1DT12H' (years and months are not allowed)"],
    ),
    Mistake(
        'zero-deadline',
        'A deadline is longer than zero.',
        edits=[('after: PT2H', 'after: PT0S')],
        expected=["stay.yaml:20:102: states[0].deadline.after: a deadline must be longer than zero (write e.g. 'PT8H')"],
    ),
    Mistake(
        'deadline-trigger-elsewhere',
        "A deadline's trigger must leave that state.",
        edits=[('trigger: escalate}}', 'trigger: finish}}')],
        expected=["stay.yaml:20:115: states[0].deadline.trigger: deadline trigger 'finish' is not a transition from state 'arrived' (known triggers: 'admit', 'escalate', 'leave')"],
    ),
    Mistake(
        'blocked-escalation',
        'An escalation cannot be blocked by guards, approval or capacity.',
        edits=[('trigger: escalate}}', 'trigger: admit}}')],
        expected=["stay.yaml:20:115: states[0].deadline.trigger: the escalation 'admit' could be blocked when the deadline passes: it has guard 'consent_given', needs an approval and takes a place of 'places' (make the escalation an unconditional transition)"],
    ),
    Mistake(
        'escalation-with-guard',
        'A guard alone is enough to make an escalation blockable.',
        edits=[('{trigger: escalate, source: arrived, dest: done, roles: [nurse]}', '{trigger: escalate, source: arrived, dest: done, roles: [nurse], guards: [not consent_given]}')],
        expected=["stay.yaml:20:115: states[0].deadline.trigger: the escalation 'escalate' could be blocked when the deadline passes: it has guard 'not consent_given' (make the escalation an unconditional transition)"],
    ),
    Mistake(
        'escalation-takes-place',
        'An escalation that takes a place could find none free.',
        edits=[('{trigger: escalate, source: arrived, dest: done, roles: [nurse]}', '{trigger: escalate, source: arrived, dest: done, roles: [nurse], takes: places}')],
        expected=["stay.yaml:20:115: states[0].deadline.trigger: the escalation 'escalate' could be blocked when the deadline passes: it takes a place of 'places' (make the escalation an unconditional transition)"],
    ),
    Mistake(
        'terminal-without-outcome',
        'A terminal state says how the pathway ended.',
        edits=[('outcome: completed, ', '')],
        expected=["stay.yaml:23:5: states[3]: terminal state 'done' has no outcome (add 'outcome: completed', 'handed_over' or 'left_by_choice')"],
    ),
    Mistake(
        'outcome-on-active',
        'Only terminal states have an outcome.',
        edits=[('{id: staying, kind: active,', '{id: staying, kind: active, outcome: completed,')],
        expected=["stay.yaml:21:33: states[1].outcome: only terminal states have an outcome; 'staying' is active (remove 'outcome' or make the state 'kind: terminal')"],
    ),
    Mistake(
        'terminal-with-deadline',
        'A terminal state has no deadline.',
        edits=[('outcome: completed,', 'outcome: completed, deadline: {after: PT1H, trigger: leave},')],
        expected=["stay.yaml:23:52: states[3].deadline: terminal state 'done' cannot have a deadline (remove the deadline; nothing happens after a terminal state)"],
    ),
    Mistake(
        'unknown-on-refusal',
        'A refusal leads to a state that exists.',
        edits=[('on_refusal: done', 'on_refusal: gone')],
        expected=["stay.yaml:32:68: transitions[0].approval.on_refusal: unknown state 'gone' (did you mean 'done'?)"],
    ),
    Mistake(
        'any-of-without-roles',
        'any_of needs the roles that may approve.',
        edits=[('rule: all_of, roles: [leder_region, leder_kommune]', 'rule: any_of')],
        expected=["stay.yaml:32:5: transitions[0].approval.roles: rule 'any_of' needs the roles that may approve (add e.g. 'roles: [leader_a, leader_b]')"],
    ),
    Mistake(
        'n-of-without-n',
        'n_of needs n.',
        edits=[('rule: all_of', 'rule: n_of')],
        expected=["stay.yaml:32:5: transitions[0].approval: rule 'n_of' needs 'n', the number of approvals required (add e.g. 'n: 2')"],
    ),
    Mistake(
        'n-too-big',
        'n_of cannot need more roles than it lists.',
        edits=[('rule: all_of', 'rule: n_of, n: 3')],
        expected=['stay.yaml:32:28: transitions[0].approval.n: n_of needs 3 approvals from different roles but only 2 role(s) are listed, so it can never be met (lower n to at most 2 or list more roles)'],
    ),
    Mistake(
        'n-below-one',
        'n is at least 1.',
        edits=[('rule: all_of', 'rule: n_of, n: 0')],
        expected=['stay.yaml:32:28: transitions[0].approval.n: n must be at least 1, got 0 (n is how many different roles must approve)'],
    ),
    Mistake(
        'n-on-other-rule',
        'n belongs to n_of only.',
        edits=[('rule: all_of', 'rule: all_of, n: 2')],
        expected=["stay.yaml:32:30: transitions[0].approval.n: 'n' only applies to rule 'n_of', not 'all_of' (remove 'n' or use 'rule: n_of')"],
    ),
    Mistake(
        'sectors-on-other-rule',
        'sectors belong to one_per_sector only.',
        edits=[('rule: all_of', 'rule: all_of, sectors: [region]')],
        expected=["stay.yaml:32:30: transitions[0].approval.sectors: 'sectors' only applies to rule 'one_per_sector', not 'all_of' (remove 'sectors' or use 'rule: one_per_sector')"],
    ),
    Mistake(
        'one-per-sector-without-sectors',
        'one_per_sector needs its sectors.',
        edits=[('rule: all_of, roles: [leder_region, leder_kommune]', 'rule: one_per_sector')],
        expected=["stay.yaml:32:5: transitions[0].approval.sectors: rule 'one_per_sector' needs the sectors that must each approve (add e.g. 'sectors: [region, kommune, borger]')"],
    ),
    Mistake(
        'two-citizens',
        'The citizen is one role: at most one role is marked as the citizen.',
        edits=[('  citizen: {sector: borger, label: {da: Borger, en: Citizen}}',
                '  citizen: {sector: borger, citizen: true, label: {da: Borger, en: Citizen}}\n'
                '  relative: {sector: borger, citizen: true, label: {da: Pårørende, en: Relative}}')],
        expected=["stay.yaml:15:30: roles.relative.citizen: role 'relative' is marked as the citizen, but 'citizen' already is (a case has one citizen: mark one role 'citizen: true'; relatives and the network are other roles)"],
    ),
    Mistake(
        'sector-without-approver',
        'Every sector of one_per_sector needs a role that can approve.',
        edits=[('rule: all_of, roles: [leder_region, leder_kommune]', 'rule: one_per_sector, roles: [leder_region], sectors: [region, kommune]')],
        expected=["stay.yaml:32:79: transitions[0].approval.sectors[1]: no role in sector 'kommune' can approve (add a role of sector 'kommune' to the approval's roles)"],
    ),
    Mistake(
        'unknown-approval-sector',
        'one_per_sector names declared sectors.',
        edits=[('rule: all_of, roles: [leder_region, leder_kommune]', 'rule: one_per_sector, sectors: [region, komune]')],
        expected=["stay.yaml:32:56: transitions[0].approval.sectors[1]: unknown sector 'komune' (did you mean 'kommune'?)"],
    ),
    Mistake(
        'handover-not-waiting',
        "A hand-over's destination is a waiting state.",
        edits=[('source: staying, dest: done, roles: [nurse], releases: places}', 'source: staying, dest: done, roles: [nurse], releases: places, handover: {to: amb, accepted: done, declined: staying}}')],
        expected=["stay.yaml:34:40: transitions[2].dest: a hand-over waits for the receiving side, so 'done' must be a waiting state (make the destination 'kind: waiting' and keep its responsible roles)"],
    ),
    Mistake(
        'intake-unknown-state',
        'The intake arrives in a declared state.',
        edits=[('intake: {state: arrived', 'intake: {state: arived')],
        expected=["stay.yaml:36:10: intake.state: unknown state 'arived' (did you mean 'arrived'?)"],
    ),
    Mistake(
        'intake-unknown-trigger',
        "The intake's accept trigger leaves the intake state.",
        edits=[('accept: admit', 'accept: admt')],
        expected=["stay.yaml:36:26: intake.accept: accept trigger 'admt' is not a transition from intake state 'arrived' (did you mean 'admit'?)"],
    ),

]


@attrs.frozen
class RegistryMistake:
    """A mistake that only shows when several files are loaded together."""

    name: str
    says: str
    files: dict[str, str]
    expected: list[str]
    sources: tuple[str, ...] = (".",)


def _amb(edits: Sequence[tuple[str, str]]) -> str:
    return _edit(AMB, edits)


REGISTRY_MISTAKES = [
    RegistryMistake(
        "duplicate-pathway",
        "The same pathway id and version in two files is refused at the second file.",
        {"amb.yaml": AMB, "stay.yaml": STAY, "stay_copy.yaml": STAY},
        ["stay_copy.yaml:1:1: id: pathway 'stay' version 1 is also defined in stay.yaml (give it a new version number or another id)"],
    ),
    RegistryMistake(
        "handover-to-unknown-pathway",
        "A hand-over names a pathway that is loaded.",
        {"stay.yaml": STAY},
        ["stay.yaml:31:100: transitions[2].handover.to: hand-over to unknown pathway 'amb' (known pathways: 'stay')"],
    ),
    RegistryMistake(
        "handover-without-intake",
        "A hand-over goes to a pathway that has an intake.",
        {"amb.yaml": _amb([("intake: {state: intake, accept: accept, decline: decline}\n", "")]), "stay.yaml": STAY},
        ["stay.yaml:31:100: transitions[2].handover.to: pathway 'amb' has no intake, so it cannot receive a hand-over (add an 'intake:' section to 'amb')"],
    ),
    RegistryMistake(
        "intake-excludes-sender",
        "An intake that lists whom it accepts from refuses other senders.",
        {"amb.yaml": _amb([("decline: decline}", "decline: decline, accepts_from: [walk_in]}")]), "stay.yaml": STAY},
        ["stay.yaml:31:100: transitions[2].handover.to: pathway 'amb' does not accept hand-overs from 'stay' (add 'stay' to its intake.accepts_from)"],
    ),
    RegistryMistake(
        "shared-resource-capacities",
        "Pathways sharing a resource agree on its capacity.",
        {
            "amb.yaml": _amb([("roles:\n", "resources:\n  places: {capacity: 16, label: {da: P, en: P}}\nroles:\n")]),
            "stay.yaml": STAY,
        },
        ["stay.yaml:19:12: resources.places.capacity: shared resource 'places' has capacity 1 here but 16 in amb.yaml (pathways that share a resource must agree on its capacity)"],
    ),
    RegistryMistake(
        "empty-folder",
        "A folder without definition files is an error, not an empty registry.",
        {},
        [".: (document): no definition files found (put pathway definitions in *.yaml files)"],
    ),
    RegistryMistake(
        "missing-file",
        "A named file that does not exist is reported with the others.",
        {"amb.yaml": AMB, "stay.yaml": STAY},
        ["missing.yaml: (document): file not found (check the path)"],
        sources=("amb.yaml", "stay.yaml", "missing.yaml"),
    ),
]


HOUSE = """\
house: mini
title: {da: Mini-huset, en: The mini house}
time_zone: Europe/Copenhagen
sectors:
  region: {label: {da: Region, en: Region}}
  borger: {label: {da: Borger, en: Citizen}}
roles:
  nurse: {sector: region, label: {da: Sygeplejerske, en: Nurse}}
  citizen: {sector: borger, label: {da: Borger, en: Citizen}}
public_holidays: [2026-12-25]
services:
  walk_in:
    label: {da: Åben rådgivning, en: Walk-in}
    pathways: [visit]
    open: [{days: every_day, hours: "16:00-24:00"}]
    without_referral: true
staffing:
  nurse:
    - {days: weekdays, hours: "08:00-16:00", people: 2}
    - {days: every_day, hours: "16:00-08:00", people: 1}
"""

VISIT = """\
id: visit
version: 1
house: mini
title: {da: Besøg, en: Visit}
description: {da: Et besøg, en: A visit}
initial: arrived
states:
  - {id: arrived, kind: active, label: {da: Ankommet, en: Arrived}, responsible: [nurse]}
  - {id: done, kind: terminal, outcome: completed, label: {da: Afsluttet, en: Done}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: Gået, en: Left}, follow_up: {da: Ring, en: Call us}}
transitions:
  - {trigger: finish, source: arrived, dest: done, roles: [nurse]}
  - {trigger: leave, source: "*", dest: left, roles: [citizen]}
"""

WARD = """\
id: ward
version: 1
external: true
title: {da: Akutmodtagelse, en: Acute ward}
description: {da: Uden for huset, en: Outside the house}
initial: referred
roles:
  citizen: {sector: borger, label: {da: Borger, en: Citizen}}
  physician: {sector: region, label: {da: Læge, en: Physician}}
sectors:
  region: {label: {da: Region, en: Region}}
  borger: {label: {da: Borger, en: Citizen}}
states:
  - {id: referred, kind: waiting, label: {da: Henvist, en: Referred}, responsible: [physician], deadline: {after: PT3H, trigger: decline}}
  - {id: admitted, kind: terminal, outcome: handed_over, label: {da: Indlagt, en: Admitted}}
  - {id: back, kind: terminal, outcome: handed_over, label: {da: Tilbage, en: Back}}
  - {id: left, kind: terminal, outcome: left_by_choice, label: {da: Gået, en: Left}, follow_up: {da: Ring, en: Call us}}
transitions:
  - {trigger: accept, source: referred, dest: admitted, roles: [physician]}
  - {trigger: decline, source: referred, dest: back, roles: [physician]}
  - {trigger: leave, source: "*", dest: left, roles: [citizen]}
intake: {state: referred, accept: accept, decline: decline}
"""


def _house(edits: Sequence[tuple[str, str]]) -> dict[str, str]:
    return {"houses/mini.yaml": _edit(HOUSE, edits), "visit.yaml": VISIT}


HOUSE_MISTAKES = [
    RegistryMistake(
        "role-sector-differs-between-files",
        "Without a house file, a role declared in two pathway files has the same sector in both.",
        {"amb.yaml": _amb([("roles:\n", "  social: {label: {da: S, en: S}}\nroles:\n"), ("ambulant: {sector: region", "ambulant: {sector: social")]), "stay.yaml": STAY},
        ["stay.yaml:15:14: roles.ambulant.sector: role 'ambulant' belongs to sector 'region' here but to 'social' in amb.yaml (a role belongs to one sector in the whole house; declare the roles once in a house file)"],
    ),
    RegistryMistake(
        "role-sector-differs-from-house",
        "A pathway that redeclares a role of its house gives it the house's sector.",
        {"houses/mini.yaml": HOUSE, "visit.yaml": _edit(VISIT, [("initial: arrived\n", "initial: arrived\nroles:\n  nurse: {sector: borger, label: {da: S, en: N}}\n")])},
        ["visit.yaml:8:11: roles.nurse.sector: role 'nurse' belongs to sector 'borger' here but to 'region' in houses/mini.yaml (a role belongs to one sector in the whole house; remove it here, the house declares it)"],
    ),
    RegistryMistake(
        "unknown-house",
        "A pathway names a house that is loaded.",
        {"houses/mini.yaml": HOUSE, "visit.yaml": _edit(VISIT, [("house: mini", "house: mimi")])},
        ["visit.yaml:3:1: house: unknown house 'mimi' (did you mean 'mini'?)"],
    ),
    RegistryMistake(
        "unknown-time-zone",
        "The house's time zone is an IANA name.",
        _house([("Europe/Copenhagen", "Europe/Kopenhagen")]),
        ["houses/mini.yaml:3:1: time_zone: unknown time zone 'Europe/Kopenhagen' (write an IANA time zone such as 'Europe/Copenhagen')"],
    ),
    RegistryMistake(
        "unknown-day",
        "Days are weekday names, weekdays, weekends or every_day.",
        _house([("days: weekdays", "days: weekday")]),
        ["houses/mini.yaml:19:8: staffing.nurse[0].days: unknown day 'weekday' (did you mean 'weekdays'?)"],
    ),
    RegistryMistake(
        "malformed-hours",
        "Hours are written 'HH:MM-HH:MM'.",
        _house([('"16:00-24:00"', '"16-24"')]),
        ["houses/mini.yaml:15:30: services.walk_in.open[0].hours: expected hours as 'HH:MM-HH:MM' (e.g. '16:00-24:00'), got '16-24'"],
    ),
    RegistryMistake(
        "staffing-unknown-role",
        "Staffing is planned for roles of the house.",
        _house([("staffing:\n  nurse:", "staffing:\n  nurse:\n    - {days: sun, hours: \"10:00-11:00\"}\n  nurce:")]),
        ["houses/mini.yaml:20:3: staffing.nurce: unknown role 'nurce' (did you mean 'nurse'?)"],
    ),
    RegistryMistake(
        "shift-without-people",
        "A shift has at least one person on duty.",
        _house([("people: 2", "people: 0")]),
        ["houses/mini.yaml:19:46: staffing.nurse[0].people: a shift needs at least 1 person, got 0 (remove the shift if nobody is on duty then)"],
    ),
    RegistryMistake(
        "service-unknown-pathway",
        "A service starts pathways that are loaded.",
        _house([("pathways: [visit]", "pathways: [visit, visits]")]),
        ["houses/mini.yaml:14:23: services.walk_in.pathways[1]: service 'walk_in' starts unknown pathway 'visits' (did you mean 'visit'?)"],
    ),
    RegistryMistake(
        "external-pathway-in-a-house-service",
        "A receiver outside the house is listed only by a service marked external.",
        {**_house([("pathways: [visit]", "pathways: [visit, ward]")]), "ward.yaml": WARD},
        ["houses/mini.yaml:14:23: services.walk_in.pathways[1]: service 'walk_in' lists 'ward', a receiver outside the house (external: true), as its own (add 'external: true' to the service: the house refers to it but does not run it)"],
    ),
    RegistryMistake(
        "house-pathway-in-an-external-service",
        "A service outside the house lists only receivers outside the house.",
        _house([("    without_referral: true\n", "    without_referral: true\n    external: true\n")]),
        ["houses/mini.yaml:14:16: services.walk_in.pathways[0]: service 'walk_in' is outside the house (external: true) but lists the house's pathway 'visit' (move 'visit' to a service of the house, or mark the pathway 'external: true')"],
    ),
    RegistryMistake(
        "later-phase-not-taken-into-use",
        "A pathway of a later phase belongs to a house that lists its phase; its service does not echo it as unknown.",
        _house([("title: {da: Mini-huset", "phases: [1]\ntitle: {da: Mini-huset")]) | {"visit.yaml": _edit(VISIT, [("version: 1\n", "version: 1\nphase: 2\n")])},
        ["visit.yaml:3:1: phase: pathway 'visit' belongs to phase 2, which house 'mini' has not taken into use (its phases: 1) (add 2 to 'phases:' in houses/mini.yaml to offer it, or leave this file out of the house's definitions)"],
    ),
    RegistryMistake(
        "phases-without-the-opening",
        "A house's phases start with its opening phase, 1.",
        _house([("title: {da: Mini-huset", "phases: [2, 0]\ntitle: {da: Mini-huset")]),
        ["houses/mini.yaml:2:1: phases: the house's phases leave out 1, its opening phase (write e.g. 'phases: [1, 2]')",
         "houses/mini.yaml:2:13: phases[1]: a phase is a whole number from 1 (the opening), got 0 (write e.g. 'phases: [1, 2]')"],
    ),
    RegistryMistake(
        "holiday-not-a-date",
        "Public holidays are dates.",
        _house([("[2026-12-25]", "[2026-12-25, juleaften]")]),
        ["houses/mini.yaml:10:31: public_holidays[1]: expected a date such as 2026-12-24, got 'juleaften'"],
    ),
]
REGISTRY_MISTAKES += HOUSE_MISTAKES


def rendered(mistake: Mistake) -> list[str]:
    """What the loader prints for a single-file mistake (empty if it loads)."""
    try:
        load_text(mistake.source(), "stay.yaml")
    except DefinitionError as exc:
        return [str(p) for p in exc.problems]
    return []


def rendered_registry(mistake: RegistryMistake, folder: Path) -> list[str]:
    """Write the files into ``folder`` and load them from there, with relative names."""
    for name, text in mistake.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    with contextlib.chdir(folder):
        try:
            load_registry(list(mistake.sources) if mistake.sources != (".",) else ".")
        except DefinitionError as exc:
            return [str(p) for p in exc.problems]
    return []


def _problems(text: str) -> list[Problem]:
    with pytest.raises(DefinitionError) as info:
        load_text(text, "stay.yaml")
    return list(info.value.problems)


class TestOneMistakeOneMessage:
    def test_the_base_definition_loads(self) -> None:
        """The definition every mistake edits is itself valid."""
        assert load_text(BASE).key == ("stay", 1)

    @pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
    def test_each_mistake_gets_its_exact_message(self, mistake: Mistake) -> None:
        """Each mistake is reported with file, line, column, path, message and hint."""
        assert rendered(mistake) == mistake.expected

    def test_a_problem_carries_its_parts_as_data(self) -> None:
        """A host can show the parts of a problem separately (e.g. in an editor)."""
        [problem] = _problems(_edit(BASE, [("roles: [leder_region, leder_kommune]", "roles: [leder_regoin, leder_kommune]")]))
        assert problem == Problem(
            file="stay.yaml",
            path="transitions[0].approval.roles[0]",
            message="unknown role 'leder_regoin'",
            hint="did you mean 'leder_region'?",
            line=32,
            column=38,
        )

    def test_a_far_off_name_lists_the_known_ones(self) -> None:
        """With no close match the hint lists what is declared instead of guessing."""
        [problem] = _problems(_edit(BASE, [("takes: places", "takes: beds")]))
        assert (problem.message, problem.hint) == ("unknown resource 'beds'", "known resources: 'places'")

    def test_a_section_written_as_a_name_is_one_problem(self) -> None:
        """``states: arrived`` is one problem, not one per letter of 'arrived'."""
        text = _edit(BASE, [("states:\n  - {id: arrived", "states: arrived\nunused:\n  - {id: arrived")])
        assert [f"{p.path}: {p.message}" for p in _problems(text)] == [
            "states: expected a list, got 'arrived'",
            "unused: unknown field 'unused'",
        ]

    def test_the_shape_checks_survive_other_uses_of_the_converter(self) -> None:
        """Structuring a mapping elsewhere (e.g. a snapshot's facts) must not switch the check off."""
        facts: Any = Mapping[str, bool]  # the type of Transition.sets and Event.facts
        assert converter.structure({"consent_given": True}, facts) == {"consent_given": True}
        with pytest.raises(ValueError, match=r"expected a mapping of names to values, got \['x'\]"):
            converter.structure(["x"], facts)
        with pytest.raises(ValueError, match="expected a list, got 'arrived'"):
            converter.structure("arrived", tuple[Guard, ...])

    def test_a_missing_file_is_a_definition_error(self, tmp_path: Path) -> None:
        """load_file names the missing file rather than raising OSError."""
        with pytest.raises(DefinitionError) as info:
            load_file(tmp_path / "nope.yaml")
        assert [p.message for p in info.value.problems] == ["file not found"]


class TestEveryProblemAtOnce:
    def test_all_shape_problems_of_a_file_are_reported_together(self) -> None:
        """Wrong types and values anywhere in the file come in one error, top to bottom."""
        text = _edit(BASE, [("version: 1", "version: one"), ("kind: waiting", "kind: pending"), ("rule: all_of", "rule: allof")])
        assert [(p.line, p.path) for p in _problems(text)] == [
            (2, "version"),
            (22, "states[2].kind"),
            (32, "transitions[0].approval.rule"),
        ]

    def test_all_reference_problems_of_a_file_are_reported_together(self) -> None:
        """Unknown names anywhere in the file come in one error, in file order."""
        text = _edit(BASE, [
            ("roles: [citizen]}", "roles: [citzen]}"),
            ("initial: arrived", "initial: arived"),
            ("takes: places", "takes: place"),
        ])
        assert [(p.line, p.message) for p in _problems(text)] == [
            (5, "unknown state 'arived'"),
            (31, "unknown resource 'place'"),
            (35, "unknown role 'citzen'"),
        ]

    def test_names_are_checked_once_the_shape_is_right(self) -> None:
        """A shape problem is reported alone: names are checked on a well-formed pathway."""
        text = _edit(BASE, [("version: 1", "version: one"), ("roles: [citizen]}", "roles: [citzen]}")])
        assert [p.path for p in _problems(text)] == ["version"]

    def test_a_duplicate_key_does_not_hide_other_problems(self) -> None:
        """Duplicate keys are reported alongside the problems of the structure."""
        text = _edit(BASE, [("initial: arrived\n", "initial: arrived\ninitial: staying\n"), ("kind: waiting", "kind: pending")])
        assert [p.path for p in _problems(text)] == ["initial", "states[2].kind"]

    def test_a_mistake_is_reported_once_without_its_echoes(self) -> None:
        """A misspelt approver is one problem; its sector is not also called unapprovable."""
        text = _edit(BASE, [("rule: all_of, roles: [leder_region, leder_kommune]", "rule: one_per_sector, roles: [leder_regoin, leder_kommune], sectors: [region, kommune]")])
        assert [p.message for p in _problems(text)] == ["unknown role 'leder_regoin'"]

    def test_a_duplicate_state_does_not_make_duplicate_triggers(self) -> None:
        """'leave' from '*' is not reported as defined twice because a state id is."""
        text = _edit(BASE, [("{id: referred,", "{id: staying,")])
        assert [p.path for p in _problems(text)] == ["states[2].id"]

    def test_problems_of_several_files_come_in_one_error(self, tmp_path: Path) -> None:
        """load_registry reports every file's problems and those between files together."""
        (tmp_path / "a.yaml").write_text(_edit(BASE, [("version: 1", "version: one")]), encoding="utf-8")
        (tmp_path / "b.yaml").write_text(_edit(BASE, [("id: stay\n", "id: other\n"), ("kind: waiting", "kind: pending")]), encoding="utf-8")
        (tmp_path / "c.yaml").write_text(STAY, encoding="utf-8")
        with pytest.raises(DefinitionError) as info:
            load_registry(tmp_path)
        found = [(Path(p.file).name, p.path) for p in info.value.problems]
        assert found == [("a.yaml", "version"), ("b.yaml", "states[2].kind"), ("c.yaml", "transitions[2].handover.to")]
        assert str(info.value).splitlines()[0] == "3 problems in pathway definitions:"


class TestBetweenFiles:
    def test_the_fixture_pair_loads(self) -> None:
        """stay hands over to amb, which has an intake: together they are valid."""
        assert sorted(load_registry(FIXTURES)) == ["amb", "stay"]

    @pytest.mark.parametrize("mistake", REGISTRY_MISTAKES, ids=lambda m: m.name)
    def test_each_mistake_between_files_gets_its_exact_message(self, mistake: RegistryMistake, tmp_path: Path) -> None:
        """Mistakes between files name the file and place that must change."""
        assert rendered_registry(mistake, tmp_path) == mistake.expected

    def test_two_versions_of_one_pathway_load_side_by_side(self, tmp_path: Path) -> None:
        """A new version number is not a duplicate; the newest is the default."""
        (tmp_path / "amb.yaml").write_text(AMB, encoding="utf-8")
        (tmp_path / "stay.yaml").write_text(STAY, encoding="utf-8")
        (tmp_path / "stay2.yaml").write_text(STAY.replace("version: 1", "version: 2"), encoding="utf-8")
        registry = load_registry(tmp_path)
        assert registry["stay"].version == 2
        assert registry.get_version("stay", 1).version == 1


class TestValidateCommand:
    def test_valid_files_print_one_ok_line_per_pathway(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`pathways validate` prints one OK line per pathway version and exits 0."""
        assert main(["validate", str(FIXTURES)]) == 0
        out, err = capsys.readouterr()
        assert out.splitlines() == [
            "OK  amb v1: 4 states, 3 transitions, 1 roles",
            "OK  stay v1: 6 states, 5 transitions, 5 roles",
        ]
        assert err == ""

    def test_mistakes_print_every_problem_and_exit_1(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Every problem is printed on its own line; nothing is printed as OK."""
        bad = tmp_path / "stay.yaml"
        bad.write_text(_edit(BASE, [("initial: arrived", "initial: arived"), ("takes: places", "takes: place")]), encoding="utf-8")
        assert main(["validate", str(bad)]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.splitlines() == [
            "error: 2 problems in pathway definitions:",
            f"  {bad}:5:1: initial: unknown state 'arived' (did you mean 'arrived'?)",
            f"  {bad}:31:5: transitions[0].takes: unknown resource 'place' (did you mean 'places'?)",
        ]


class TestRoundTrip:
    @settings(max_examples=60, deadline=None)
    @given(pathways())
    def test_unstructure_dump_load_gives_the_same_pathway(self, pathway: Pathway) -> None:
        """A valid pathway written out as YAML loads back equal, labels and durations included."""
        text = dump(converter.unstructure(pathway))
        assert load_text(text) == pathway


def _all_messages() -> Iterator[str]:
    """Every message the catalogue quotes (used by the docs test)."""
    for m in MISTAKES:
        yield from m.expected
    for r in REGISTRY_MISTAKES:
        yield from r.expected
