"""pathways: cross-sector care pathways for psychiatry houses.

The pipeline is file → model → check → engine → store / simulate. Only the light core
(definitions, engine) is imported with the package; the checker (networkx), diagrams,
scenarios, simulation (SimPy), the HTML report (matplotlib) and the durable store
(SQLAlchemy) load on first use, so ``import pathways`` stays fast and a host that only
runs the engine does not pay for the rest. A feature whose extra is not installed raises
:class:`MissingExtra` naming it.

>>> import pathways
>>> registry = pathways.load_registry("definitions")          # doctest: +SKIP
>>> engine = pathways.Engine(registry)                         # doctest: +SKIP
>>> case = engine.start("walk_in", citizen="c-0042")           # doctest: +SKIP
"""

import typing as _typing

from ._validate import validate
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
from .engine import CaseEngine, Engine, Option
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
    InvalidArgument,
    JourneyError,
    MissingExtra,
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
    ServiceClosed,
    SnapshotError,
    StoreError,
    StoreUnreachable,
    UnknownCase,
    UnknownPathway,
    UnknownTrigger,
    UnreadableCase,
    WrongState,
)
from .house import House, Service, Shift
from .loader import load_file, load_house, load_registry, load_text
from .logs import log_personal_data
from .model import (
    ANY_STATE,
    ApprovalRule,
    Calendar,
    CarePlanStatus,
    Counting,
    Deadline,
    Fact,
    FactAccess,
    Goal,
    Guard,
    Handover,
    Intake,
    Label,
    Opening,
    Outcome,
    Pathway,
    Resource,
    Role,
    RuleKind,
    Sector,
    Span,
    State,
    StateKind,
    Subject,
    Transition,
)
from .refusals import Reason, RefusalCode
from .registry import Registry

if _typing.TYPE_CHECKING:
    __version__: str
    from .diagram import registry_to_dot, registry_to_mermaid, to_dot, to_mermaid
    from .diagram import render as render_diagram
    from .journey import Journey, JourneyResult, load_journey, run_journey
    from .report import write_report
    from .scenario import Scenario, load_scenario
    from .schema import json_schema
    from .simulation import SimulationResult, simulate
    from .store import DurableEngine, open_store
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

_LAZY: dict[str, tuple[str, str]] = {
    **{name: ("diagram", name) for name in ("registry_to_dot", "registry_to_mermaid", "to_dot", "to_mermaid")},
    "render_diagram": ("diagram", "render"),
    **{name: ("journey", name) for name in ("Journey", "JourneyResult", "load_journey", "run_journey")},
    "json_schema": ("schema", "json_schema"),
    "write_report": ("report", "write_report"),
    "Scenario": ("scenario", "Scenario"),
    "load_scenario": ("scenario", "load_scenario"),
    "SimulationResult": ("simulation", "SimulationResult"),
    "simulate": ("simulation", "simulate"),
    "DurableEngine": ("store", "DurableEngine"),
    "open_store": ("store", "open_store"),
    **{
        name: ("stranding", name)
        for name in ("CheckResult", "Counterexample", "Finding", "FindingKind", "Severity", "Step", "check", "replay_counterexample")
    },
}
"""Public name → (module, name in it) for what loads on first use."""


def __getattr__(name: str) -> _typing.Any:
    """Import the checker, diagrams, scenarios, simulation, report and store on first use."""
    if name == "__version__":
        from ._version import installed_version

        return installed_version()
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pathways' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ANY_STATE",
    "ActionRefused",
    "Actor",
    "Approval",
    "ApprovalRefused",
    "ApprovalRule",
    "Calendar",
    "CapacityError",
    "CarePlanStatus",
    "Case",
    "CaseClosed",
    "CaseEngine",
    "CheckResult",
    "Clock",
    "ConcurrentUpdate",
    "Counterexample",
    "Counting",
    "Deadline",
    "DefinitionError",
    "DocumentError",
    "DuplicateApproval",
    "DurableEngine",
    "Engine",
    "Event",
    "EventKind",
    "Fact",
    "FactAccess",
    "Finding",
    "FindingKind",
    "Goal",
    "Guard",
    "GuardFailed",
    "Handover",
    "House",
    "Intake",
    "InvalidArgument",
    "Journey",
    "JourneyError",
    "JourneyResult",
    "Label",
    "Ledger",
    "Link",
    "ManualClock",
    "MemoryLedger",
    "MissingExtra",
    "NoCapacity",
    "NoCounterexample",
    "NoPendingApproval",
    "NotAStore",
    "NotAnApprover",
    "NotPermitted",
    "Opening",
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
    "Service",
    "ServiceClosed",
    "Severity",
    "Shift",
    "SimulationResult",
    "SnapshotError",
    "Span",
    "State",
    "StateKind",
    "Step",
    "StoreError",
    "StoreUnreachable",
    "Subject",
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
    "load_house",
    "load_journey",
    "load_registry",
    "load_scenario",
    "load_text",
    "log_personal_data",
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
    "validate",
    "write_report",
]
