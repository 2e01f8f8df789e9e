"""The playground: try a pathway in the browser, on the real engine, without writing Python.

``pathways play [folder]`` serves one local page (127.0.0.1 only; every asset from this
package, nothing from the network) where a designer picks a pathway, starts a case, acts as
any role of any sector, sees for each role what it may do and why not, changes facts, lets
time pass, approves as the leaders, follows a hand-over into the receiving pathway, and
watches the diagram mark the current state and the way there. Editing a definition file
reloads the page; the loader's errors are shown at their lines. A played run is a journey
being written: every click is a :class:`~pathways.journey.Step`, recorded with what
happened as its expectation, so "save as journey" writes a file ``pathways test`` passes.

:class:`Playground` holds the session and knows nothing of HTTP; :func:`make_app` wraps it
in a small Starlette app (extra ``play``); :func:`serve` runs it with uvicorn.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Mapping
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import yaml

from ._converter import converter, format_duration, parse_duration
from .case import Actor, Case, EventKind
from .errors import DefinitionError, PathwaysError, Problem
from .i18n import Lang, label, role_name, state_name, tr, use_language
from .journey import Expect, Journey, Runner, Step, reason_words
from .loader import load_registry
from .registry import Registry

__all__ = ["Playground", "make_app", "serve"]

_ASSETS = ("play.html", "play.js", "play.css")


class Playground:
    """One designer's session: the definitions of a folder, and the case being played.

    Args:
        source: a folder of definition files (or one file).
        lang: the language of the page.
    """

    def __init__(self, source: str | Path, lang: Lang = "en") -> None:
        self.source = Path(source)
        self.lang: Lang = lang
        self.version = 0
        self.registry: Registry | None = None
        self.problems: tuple[Problem, ...] = ()
        self.pathway: str | None = None
        self.focus: str | None = None
        self.steps: list[Step] = []
        self.results: list[Any] = []
        self.runner: Runner | None = None
        self.saved: Path | None = None
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self.refresh()

    # -- the definitions --------------------------------------------------------------

    def _files(self) -> list[Path]:
        if self.source.is_dir():
            return sorted([*self.source.glob("*.yaml"), *self.source.glob("*.yml")])
        return [self.source]

    def _current_signature(self) -> tuple[tuple[str, int, int], ...]:
        out = []
        for f in self._files():
            try:
                st = f.stat()
            except OSError:
                continue
            out.append((str(f), st.st_mtime_ns, st.st_size))
        return tuple(out)

    def refresh(self) -> bool:
        """Reload the definitions when a file changed; replay the run on the new ones."""
        signature = self._current_signature()
        if signature == self._signature:
            return False
        self._signature = signature
        self.version += 1
        try:
            self.registry = load_registry(self.source)
            self.problems = ()
        except DefinitionError as exc:
            self.registry, self.problems = None, exc.problems
            return True
        if self.pathway is not None and self.pathway in self.registry:
            steps, self.steps = self.steps, []
            self.start(self.pathway)
            for step in steps:
                self._perform(attrs.evolve(step, expect=Expect()))
        else:
            self.pathway, self.runner, self.steps, self.results = None, None, [], []
        return True

    # -- playing ----------------------------------------------------------------------

    def start(self, pathway: str) -> None:
        """Start a fresh case of ``pathway`` (the run so far is forgotten)."""
        if self.registry is None or pathway not in self.registry:
            raise PathwaysError(tr("no pathway {pathway} is loaded", lang=self.lang, pathway=pathway))
        self.pathway = self.focus = pathway
        self.runner = Runner(Journey(pathway=pathway, steps=()), self.registry)
        self.steps, self.results, self.saved = [], [], None

    def act(self, data: Mapping[str, Any]) -> Any:
        """Carry out one step given as a journey step's fields (``by``, ``do``, ``wait`` …)."""
        fields = {k: v for k, v in data.items() if v not in (None, "")}
        fields.setdefault("case", self.focus)
        try:
            step = converter.structure(fields, Step)
        except Exception as exc:
            raise PathwaysError(tr("not a step: {fields}", lang=self.lang, fields=dict(data))) from exc
        return self._perform(step)

    def _perform(self, step: Step) -> Any:
        if self.runner is None:
            raise PathwaysError(tr("start a case first", lang=self.lang))
        with use_language(self.lang):
            result = self.runner.step(len(self.steps) + 1, step)
        expect = Expect(refused=result.refused) if result.refused else Expect(state=result.state)
        self.steps.append(attrs.evolve(step, expect=expect))
        self.results.append(result)
        return result

    def follow(self, pathway: str) -> None:
        """Look at (and act on) the newest case of ``pathway``, e.g. after a hand-over."""
        if self.runner is None or not any(c.pathway_id == pathway for c in self.runner.engine.cases.values()):
            raise PathwaysError(tr("no case in {pathway} yet: a hand-over to it must come first", lang=self.lang, pathway=pathway))
        self.focus = pathway

    def journey(self) -> dict[str, Any]:
        """The run so far as a journey document."""
        if self.pathway is None:
            raise PathwaysError(tr("start a case first", lang=self.lang))
        steps = []
        for step in self.steps:
            data = converter.unstructure(step)
            if step.case == self.pathway:
                data["case"] = None
            data["expect"] = {k: v for k, v in data["expect"].items() if v not in (None, (), [], {})}
            steps.append({k: v for k, v in data.items() if v not in (None, (), [], {})})
        return {"name": tr("played in the playground", lang=self.lang), "pathway": self.pathway, "definitions": "..", "steps": steps}

    def save(self) -> Path:
        """Write the run as a journey into ``journeys/`` beside the definitions."""
        folder = (self.source if self.source.is_dir() else self.source.parent) / "journeys"
        folder.mkdir(parents=True, exist_ok=True)
        n = 1
        while (folder / f"played-{n}.yaml").exists():
            n += 1
        path = folder / f"played-{n}.yaml"
        body = yaml.safe_dump(self.journey(), allow_unicode=True, sort_keys=False, width=110)
        header = "# yaml-language-server: $schema=../../schemas/journey.schema.json\n"
        path.write_text(header + body, encoding="utf-8")
        self.saved = path
        return path

    # -- what the page shows ----------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """Everything the page shows, as JSON-ready data in the session's language."""
        with use_language(self.lang):
            return self._view()

    def _view(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": self.version,
            "lang": self.lang,
            "source": str(self.source),
            "problems": [self._problem(p) for p in self.problems],
            "pathways": [{"id": p.id, "title": label(p.title)} for p in (self.registry.values() if self.registry else ())],
            "case": None,
            "saved": str(self.saved) if self.saved else None,
            "words": _words(),
        }
        if self.runner is None or self.registry is None or self.focus is None:
            return out
        engine = self.runner.engine
        case = self._focused()
        pathway = engine.pathway_of(case)
        roles = []
        for role_id, role in pathway.roles.items():
            actor = Actor(case.citizen if pathway.is_citizen(role_id) else f"{role_id}-1", role_id, role.sector)
            options = []
            for o in engine.options(case, actor):
                t = pathway.find(case.state, o.trigger)
                options.append({
                    "trigger": o.trigger, "kind": o.kind, "dest": state_name(pathway, o.dest),
                    "label": label(t.label) if t is not None and t.label else o.trigger,
                    "allowed": o.allowed, "approval": o.needs_approval,
                    "why_not": [{"code": str(r.code), "words": reason_words(str(r.code)), "message": r.message} for r in o.reasons],
                })
            roles.append({"id": role_id, "name": role_name(pathway, role_id, with_id=False), "sector": role.sector,
                          "sector_name": label(pathway.sectors[role.sector].label) if role.sector in pathway.sectors else role.sector,
                          "citizen": pathway.is_citizen(role_id), "options": options})
        pending = None
        if case.pending is not None:
            pending = {"trigger": case.pending.trigger, "by": str(case.pending.requested_by),
                       "approvals": [str(a.actor) for a in case.pending.approvals]}
        due = case.due_at(pathway)
        out["case"] = {
            "id": case.id, "pathway": pathway.id, "title": label(pathway.title),
            "state": case.state, "state_name": state_name(pathway, case.state, with_id=False),
            "kind": pathway.state(case.state).kind.value,
            "now": engine.clock.now().isoformat(), "due": due.isoformat() if due else None,
            "facts": [{"id": f, "label": label(fact.label), "value": bool(case.context.get(f, False))} for f, fact in pathway.facts.items()],
            "pending": pending, "roles": roles,
            "cases": [{"pathway": c.pathway_id, "state": state_name(engine.pathway_of(c), c.state), "focused": c.pathway_id == self.focus}
                      for c in engine.cases.values()],
            "history": [{"n": r.index, "did": r.did, "happened": list(r.happened), "refused": r.refused} for r in self.results],
            "events": [self._event(case, e) for e in case.history],
            "diagram": self._diagram(case),
        }
        return out

    def _focused(self) -> Case:
        assert self.runner is not None
        cases = [c for c in self.runner.engine.cases.values() if c.pathway_id == self.focus]
        return cases[-1]

    def _event(self, case: Case, e: Any) -> str:
        assert self.runner is not None
        pathway = self.runner.engine.pathway_of(case)
        who = role_name(pathway, e.actor.role, with_id=False) if e.actor else tr("the clock")
        what = e.trigger or (", ".join(f"{k} = {v}" for k, v in e.facts.items()) if e.kind is EventKind.FACT_SET else "")
        return f"{e.at:%Y-%m-%d %H:%M} · {e.kind.value} · {what} · {who} → {state_name(pathway, e.to_state)}"

    def _diagram(self, case: Case) -> str:
        from .diagram import render, to_dot
        from .errors import RenderError

        assert self.runner is not None
        pathway = self.runner.engine.pathway_of(case)
        path = [(e.from_state, e.trigger) for e in case.history if e.trigger and e.kind in (EventKind.FIRED, EventKind.ESCALATED)]
        dot = to_dot(pathway, highlight_states=[case.state], highlight_transitions=path, lang=self.lang)
        try:
            svg = render(dot, "svg").decode("utf-8")
        except RenderError as exc:
            return f"<p class='note'>{_esc(str(exc))}</p>"
        return svg[svg.index("<svg"):]

    def _problem(self, p: Problem) -> dict[str, Any]:
        """A loader error with the lines of its file around it, the wrong one marked."""
        snippet = []
        if p.line is not None:
            try:
                lines = Path(p.file).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                lines = []
            for n in range(max(1, p.line - 2), min(len(lines), p.line + 2) + 1):
                snippet.append({"n": n, "text": lines[n - 1], "bad": n == p.line})
        return {"file": p.file, "line": p.line, "column": p.column, "path": p.path, "message": p.message,
                "hint": p.hint, "text": str(p), "snippet": snippet}


def _words() -> dict[str, str]:
    """The page's own words in the session's language."""
    return {
        "title": tr("Playground"), "pathway": tr("pathway"), "start": tr("Start a case"), "state": tr("state"),
        "facts": tr("Facts"), "roles": tr("Who may do what"), "wait": tr("Let time pass"), "save": tr("Save as journey"),
        "history": tr("History"), "errors": tr("The definitions have errors"), "refuse": tr("refuse"),
        "approve": tr("approve"), "pending": tr("Awaiting approval"), "cases": tr("Cases"), "as": tr("as"),
        "clock": tr("Clock"), "due": tr("next deadline"), "why_not": tr("why not"),
    }


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def asset(name: str) -> bytes:
    """One of the page's files, from this package (never from the network)."""
    if name not in _ASSETS:
        raise KeyError(name)
    return (resources.files("pathways") / "static" / name).read_bytes()


def make_app(playground: Playground) -> Any:
    """The Starlette app of a playground: the page, its assets and a small JSON API."""
    from ._extras import needs

    with needs("play", "the playground"):
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route

    lock = threading.Lock()
    types = {"html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}

    def page(name: str) -> Any:
        async def handler(_: Request) -> Response:
            return Response(asset(name), media_type=types[name.rsplit(".", 1)[1]], headers={"Cache-Control": "no-store"})

        return handler

    def answer(error: str | None = None) -> JSONResponse:
        view = playground.view()
        if error:
            view["error"] = error
        return JSONResponse(view, status_code=400 if error else 200)

    async def state(_: Request) -> JSONResponse:
        with lock:
            playground.refresh()
            return answer()

    async def version(_: Request) -> JSONResponse:
        with lock:
            playground.refresh()
            return JSONResponse({"version": playground.version})

    def action(do: Any) -> Any:
        async def handler(request: Request) -> JSONResponse:
            data = await request.json()
            with lock:
                playground.refresh()
                try:
                    do(data if isinstance(data, dict) else {})
                except PathwaysError as exc:
                    return answer(str(exc))
                return answer()

        return handler

    def wait(data: Mapping[str, Any]) -> None:
        try:
            delta = parse_duration(str(data.get("wait", "")))
        except ValueError as exc:
            raise PathwaysError(str(exc)) from None
        playground.act({"wait": format_duration(delta)} if delta > timedelta(0) else {})

    routes = [
        Route("/", page("play.html")),
        Route("/play.js", page("play.js")),
        Route("/play.css", page("play.css")),
        Route("/api/state", state),
        Route("/api/version", version),
        Route("/api/start", action(lambda d: playground.start(str(d.get("pathway")))), methods=["POST"]),
        Route("/api/act", action(playground.act), methods=["POST"]),
        Route("/api/wait", action(wait), methods=["POST"]),
        Route("/api/follow", action(lambda d: playground.follow(str(d.get("pathway")))), methods=["POST"]),
        Route("/api/save", action(lambda _: playground.save()), methods=["POST"]),
    ]
    return Starlette(routes=routes)


class Server:
    """A running playground: its address, and ``stop()``; bound to 127.0.0.1 only."""

    def __init__(self, playground: Playground, port: int = 0) -> None:
        from ._extras import needs

        with needs("play", "the playground"):
            import uvicorn

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", port))
        self.port: int = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        config = uvicorn.Config(make_app(playground), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def start(self) -> Server:
        self._thread.start()
        while not self._server.started and self._thread.is_alive():
            self._thread.join(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self.socket.close()

    def __iter__(self) -> Iterator[Server]:  # pragma: no cover - convenience for fixtures
        yield self


def serve(source: str | Path, *, port: int = 0, lang: Lang = "en") -> Server:
    """Start a playground for ``source`` on 127.0.0.1 (``port`` 0: a free one) in a thread."""
    return Server(Playground(source, lang), port).start()
