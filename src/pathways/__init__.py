"""pathways: cross-sector care pathways for psychiatry houses.

The pipeline is file → model → check → engine → store / simulate. The durable store
(SQLAlchemy) and the HTML report (matplotlib) are imported on first use, so a host that
only runs the engine does not pay for them.

>>> import pathways
>>> registry = pathways.load_registry("definitions")          # doctest: +SKIP
>>> engine = pathways.Engine(registry)                         # doctest: +SKIP
>>> case = engine.start("walk_in", citizen="c-0042")           # doctest: +SKIP
"""

import typing as _typing

from .approvals import describe as describe_approval
from .capacity import Ledger, MemoryLedger
from .case import (
    Actor,
    Approval,
    Case,
    Event,
    EventKind,
    Link,
    PendingApproval,
    case_from_json,
    case_to_json,
    replay,
)
from .clock import Clock, ManualClock, SystemClock
from .diagram import registry_to_dot, registry_to_mermaid, to_dot, to_mermaid
from .diagram import render as render_diagram
from .engine import Engine, Option
from .errors import (
    ActionRefused,
    ApprovalRefused,
    CapacityError,
    CaseClosed,
    ConcurrentUpdate,
    DefinitionError,
    DocumentError,
    DuplicateApproval,
    GuardFailed,
    JourneyError,
    NoCapacity,
    NoCounterexample,
    NoPendingApproval,
    NotAnApprover,
    NotAStore,
    NotPermitted,
    PathwaysError,
    Problem,
    RenderError,
    ScenarioError,
    SchemaTooNew,
    SelfApproval,
    SnapshotError,
    StoreError,
    StoreUnreachable,
    UnknownCase,
    UnknownPathway,
    UnknownTrigger,
    UnreadableCase,
    WrongState,
)
from .journey import Journey, JourneyResult, load_journey, run_journey
from .loader import load_file, load_registry, load_text
from .model import (
    ANY_STATE,
    ApprovalRule,
    Deadline,
    Fact,
    Guard,
    Handover,
    Intake,
    Label,
    Outcome,
    Pathway,
    Resource,
    Role,
    RuleKind,
    Sector,
    State,
    StateKind,
    Transition,
)
from .refusals import Reason, RefusalCode
from .registry import Registry
from .scenario import Scenario, load_scenario
from .schema import json_schema
from .simulation import SimulationResult, simulate
from .stranding import (
    CheckResult,
    Counterexample,
    Finding,
    FindingKind,
    Severity,
    Step,
    check,
    replay_counterexample,
)

if _typing.TYPE_CHECKING:
    from .report import write_report
    from .store import DurableEngine, open_store

_LAZY = {"DurableEngine": "store", "open_store": "store", "write_report": "report"}


def __getattr__(name: str) -> _typing.Any:
    """Import the store and the report only when a host asks for them."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'pathways' has no attribute {name!r}")


__all__ = [
    "ANY_STATE",
    "ActionRefused",
    "Actor",
    "Approval",
    "ApprovalRefused",
    "ApprovalRule",
    "CapacityError",
    "Case",
    "CaseClosed",
    "CheckResult",
    "Clock",
    "ConcurrentUpdate",
    "Counterexample",
    "Deadline",
    "DefinitionError",
    "DocumentError",
    "DuplicateApproval",
    "DurableEngine",
    "Engine",
    "Event",
    "EventKind",
    "Fact",
    "Finding",
    "FindingKind",
    "Guard",
    "GuardFailed",
    "Handover",
    "Intake",
    "Journey",
    "JourneyError",
    "JourneyResult",
    "Label",
    "Ledger",
    "Link",
    "ManualClock",
    "MemoryLedger",
    "NoCapacity",
    "NoCounterexample",
    "NoPendingApproval",
    "NotAStore",
    "NotAnApprover",
    "NotPermitted",
    "Option",
    "Outcome",
    "Pathway",
    "PathwaysError",
    "PendingApproval",
    "Problem",
    "Reason",
    "RefusalCode",
    "Registry",
    "RenderError",
    "Resource",
    "Role",
    "RuleKind",
    "Scenario",
    "ScenarioError",
    "SchemaTooNew",
    "Sector",
    "SelfApproval",
    "Severity",
    "SimulationResult",
    "SnapshotError",
    "State",
    "StateKind",
    "Step",
    "StoreError",
    "StoreUnreachable",
    "SystemClock",
    "Transition",
    "UnknownCase",
    "UnknownPathway",
    "UnknownTrigger",
    "UnreadableCase",
    "WrongState",
    "case_from_json",
    "case_to_json",
    "check",
    "describe_approval",
    "json_schema",
    "load_file",
    "load_journey",
    "load_registry",
    "load_scenario",
    "load_text",
    "open_store",
    "registry_to_dot",
    "registry_to_mermaid",
    "render_diagram",
    "replay",
    "replay_counterexample",
    "run_journey",
    "simulate",
    "to_dot",
    "to_mermaid",
    "write_report",
]
