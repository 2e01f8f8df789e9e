"""An HTTP service for hosts that are not Python: the engine's verbs over durable cases.

``pathways serve --db URL`` runs this Starlette application under uvicorn (extra
``serve``). Every request carries a bearer token signed (HS256) with a key the house
configures; its claims name the person (``sub``), the ``role`` and the ``sector``. The
actor of every action comes from the token, never from the request body. Errors are
JSON and carry the engine's refusal data::

    {"error": {"type": "NotPermitted", "code": "role", "message": "…",
               "reasons": [{"code": "role", "message": "…"}]}}

=====================================  ====================================
status                                 when
=====================================  ====================================
400                                    the body is not the JSON asked for
401                                    no token, an unsigned, forged or expired one
403                                    the role acts beyond its rights (role, sector,
                                       approval rules, a fact it may not set or
                                       records without a reason, another citizen's case)
404                                    no such case, pathway or trigger
409                                    the case cannot do that now (state, guard,
                                       capacity, pending approval), or another writer won
=====================================  ====================================

Several processes may serve one PostgreSQL database: each verb reads the case, lets the
engine decide and writes with the store's optimistic check, retrying when another
writer got there first.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ._arguments import person_key
from ._extras import needs
from .case import Actor, Case, Event, case_to_json
from .errors import (
    ActionRefused,
    ConcurrentUpdate,
    MissingExtra,
    PathwaysError,
    UnknownCase,
    UnknownPathway,
    UnknownTrigger,
)
from .registry import Registry

__all__ = ["TOKEN_ALGORITHM", "create_app", "make_token", "read_key", "serve"]

TOKEN_ALGORITHM = "HS256"
"""Tokens are signed with a shared secret the house configures (HMAC-SHA256)."""

_FORBIDDEN_CODES = frozenset({
    "role", "sector", "not_an_approver", "self_approval", "duplicate_approval", "fact_permission", "reason_required", "not_own_case",
})
"""Refusal codes that mean "beyond this role's rights" (HTTP 403); others are 409."""


def make_token(key: bytes, person: str, role: str, sector: str, *, ttl: float = 3600.0, now: float | None = None) -> str:
    """A bearer token for one person acting in one role (what the house's login issues)."""
    with needs("serve", "bearer tokens (pathways.service)"):
        import jwt

    issued = time.time() if now is None else now
    claims = {"sub": person, "role": role, "sector": sector, "iat": int(issued), "exp": int(issued + ttl)}
    return jwt.encode(claims, key, algorithm=TOKEN_ALGORITHM)


def read_key(path: str | None) -> bytes:
    """The signing key: from a file, or the ``PATHWAYS_SERVE_KEY`` environment variable."""
    if path:
        with open(path, "rb") as f:
            key = f.read().strip()
    else:
        key = os.environ.get("PATHWAYS_SERVE_KEY", "").encode()
    if len(key) < 32:
        raise PathwaysError("the token signing key must be at least 32 bytes; give --key-file or set PATHWAYS_SERVE_KEY")
    return key


class _HTTPError(Exception):
    def __init__(self, status: int, type_: str, code: str, message: str, reasons: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "code": code, "message": message, "reasons": reasons or [{"code": code, "message": message}]}}


def _refusal(exc: ActionRefused) -> _HTTPError:
    reasons = [{"code": str(r.code), "message": r.message} for r in exc.reasons]
    code = str(exc.code)
    if isinstance(exc, UnknownTrigger):
        status = 404
    elif code in _FORBIDDEN_CODES:
        status = 403
    else:
        status = 409
    return _HTTPError(status, type(exc).__name__, code, str(exc), reasons)


def _event_json(e: Event) -> dict[str, Any]:
    return {
        "case_id": e.case_id, "seq": e.seq, "at": e.at.isoformat(), "kind": e.kind.value,
        "from": e.from_state, "to": e.to_state, "trigger": e.trigger, "reason": e.reason,
        "actor": {"person": e.actor.person, "role": e.actor.role, "sector": e.actor.sector} if e.actor else None,
        "facts": dict(e.facts), "link": {"case_id": e.link.case_id, "trigger": e.link.trigger} if e.link else None,
    }


def _case_json(case: Case) -> dict[str, Any]:
    data = case_to_json(case)
    data.pop("history", None)
    data.pop("format", None)
    return data


def _limit(request: Any) -> int:
    """``?limit=`` (1 to 1000, default 100)."""
    text = request.query_params.get("limit", "100")
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise _HTTPError(400, "BadRequest", "bad_limit", f"'limit' must be a whole number from 1 to 1000, not {text!r}")
    return int(text)


def _summary_json(s: Any) -> dict[str, Any]:
    return {
        "id": s.id, "citizen": s.citizen, "pathway_id": s.pathway_id, "version": s.version, "state": s.state,
        "seq": s.seq, "due_at": s.due_at.isoformat() if s.due_at else None, "terminal": s.terminal,
    }


def create_app(registry: Registry, store_url: str, key: bytes, *, clock: Any = None) -> Any:
    """The Starlette application: engine verbs, the house's queries, FHIR and OpenAPI."""
    with needs("serve", "the HTTP service (pathways serve)"):
        import jwt
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse, Response
        from starlette.routing import Route
        from starlette.schemas import SchemaGenerator

    from .store import DurableEngine, open_store, retry

    store = open_store(store_url)
    durable = DurableEngine(registry, store, clock=clock)

    def actor_of(request: Request) -> Actor:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _HTTPError(401, "Unauthorized", "no_token", "send 'Authorization: Bearer <token>' signed with the house's key")
        try:
            claims = jwt.decode(token, key, algorithms=[TOKEN_ALGORITHM], options={"require": ["exp", "sub", "role", "sector"]})
        except jwt.ExpiredSignatureError:
            raise _HTTPError(401, "Unauthorized", "token_expired", "the token has expired; log in again") from None
        except jwt.InvalidTokenError as exc:
            raise _HTTPError(401, "Unauthorized", "token_invalid", f"the token is not signed with the house's key or is malformed ({exc})") from None
        return Actor(str(claims["sub"]), str(claims["role"]), str(claims["sector"]))

    async def body_of(request: Request, required: tuple[str, ...] = ()) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            raise _HTTPError(400, "BadRequest", "not_json", "the request body must be a JSON object") from None
        if not isinstance(data, dict):
            raise _HTTPError(400, "BadRequest", "not_json", "the request body must be a JSON object")
        missing = [k for k in required if k not in data]
        if missing:
            raise _HTTPError(400, "BadRequest", "missing_field", f"the request body needs {', '.join(map(repr, missing))}")
        return data

    async def run(fn: Callable[[], Any]) -> Any:
        """Call the engine on the event loop: one engine per process, one call at a time (a
        thread hop per request only added latency); more processes give more throughput."""
        try:
            return retry(fn, attempts=5)
        except ActionRefused as exc:
            raise _refusal(exc) from None
        except UnknownCase as exc:
            raise _HTTPError(404, "UnknownCase", "unknown_case", str(exc)) from None
        except UnknownPathway as exc:
            raise _HTTPError(404, "UnknownPathway", "unknown_pathway", str(exc)) from None
        except ConcurrentUpdate as exc:
            raise _HTTPError(409, "ConcurrentUpdate", "concurrent_update", str(exc)) from None

    def endpoint(fn: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            try:
                result = await fn(request)
            except _HTTPError as exc:
                headers = {"WWW-Authenticate": 'Bearer realm="pathways"'} if exc.status == 401 else None
                return JSONResponse(exc.body, status_code=exc.status, headers=headers)
            except MissingExtra as exc:
                return JSONResponse({"error": {"type": "MissingExtra", "code": "missing_extra", "message": str(exc), "reasons": []}}, status_code=501)
            except PathwaysError as exc:
                return JSONResponse({"error": {"type": type(exc).__name__, "code": "error", "message": str(exc), "reasons": []}}, status_code=400)
            if isinstance(result, Response):
                return result
            return JSONResponse(result)

        wrapped.__doc__ = fn.__doc__
        wrapped.__name__ = fn.__name__
        return wrapped

    def own_case(actor: Actor, case: Case) -> Case:
        """A citizen reads only their own cases, as they act only on them (``not_own_case``)."""
        if registry.get_version(case.pathway_id, case.version).is_citizen(actor.role):
            own_citizen(actor, case.citizen)
        return case

    def own_citizen(actor: Actor, citizen: str) -> None:
        if person_key(actor.person) != person_key(citizen):
            raise _HTTPError(403, "NotPermitted", "not_own_case", f"{actor.person!r} acts as the citizen, and a citizen reads only their own cases")

    # -- the engine's verbs --------------------------------------------------------------

    @endpoint
    async def start(request: Request) -> Any:
        """
        summary: Start a case for a citizen at the pathway's initial state (the token's person starts it)
        requestBody: {content: {application/json: {schema: {type: object, required: [pathway, citizen],
          properties: {pathway: {type: string}, citizen: {type: string}, facts: {type: object}, case_id: {type: string}}}}}}
        responses: {201: {description: the case}, 401: {description: no valid token}, 404: {description: no such pathway}}
        """
        actor = actor_of(request)
        body = await body_of(request, ("pathway", "citizen"))
        case = await run(lambda: durable.start(str(body["pathway"]), str(body["citizen"]), facts=body.get("facts") or {}, actor=actor, case_id=body.get("case_id")))
        return JSONResponse(_case_json(case), status_code=201)

    @endpoint
    async def get_case(request: Request) -> Any:
        """
        summary: A case's current state, context, pending approval and places held
        responses: {200: {description: the case}, 404: {description: no such case}}
        """
        actor = actor_of(request)
        return _case_json(own_case(actor, await run(lambda: durable.store.get(request.path_params["case_id"], history=False))))

    @endpoint
    async def history(request: Request) -> Any:
        """
        summary: Every event of a case, oldest first
        responses: {200: {description: the events}}
        """
        actor = actor_of(request)
        own_case(actor, await run(lambda: durable.store.get(request.path_params["case_id"], history=False)))
        return [_event_json(e) for e in await run(lambda: durable.store.history(request.path_params["case_id"]))]

    @endpoint
    async def options(request: Request) -> Any:
        """
        summary: Every action in the case's state and, for each, why the token's actor cannot take it
        responses: {200: {description: "[{trigger, kind, dest, allowed, reasons, needs_approval}]"}}
        """
        actor = actor_of(request)
        found = await run(lambda: durable.options(request.path_params["case_id"], actor))
        return [
            {"trigger": o.trigger, "kind": o.kind, "dest": o.dest, "allowed": o.allowed, "needs_approval": o.needs_approval,
             "reasons": [{"code": str(r.code), "message": r.message} for r in o.reasons]}
            for o in found
        ]

    @endpoint
    async def why_not(request: Request) -> Any:
        """
        summary: Why the token's actor cannot fire a trigger now (empty when they can)
        responses: {200: {description: "[{code, message}]"}}
        """
        actor = actor_of(request)
        cid, trigger = request.path_params["case_id"], request.path_params["trigger"]
        return [{"code": str(r.code), "message": r.message} for r in await run(lambda: durable.why_not(cid, trigger, actor))]

    @endpoint
    async def fire(request: Request) -> Any:
        """
        summary: Fire a trigger as the token's actor (with an approval rule this requests it)
        requestBody: {content: {application/json: {schema: {type: object, required: [trigger],
          properties: {trigger: {type: string}, reason: {type: string}}}}}}
        responses: {200: {description: the events recorded}, 403: {description: beyond the role's rights},
          409: {description: not possible now}}
        """
        actor = actor_of(request)
        body = await body_of(request, ("trigger",))
        cid = request.path_params["case_id"]
        return [_event_json(e) for e in await run(lambda: durable.fire(cid, str(body["trigger"]), actor, reason=body.get("reason")))]

    @endpoint
    async def approve(request: Request) -> Any:
        """
        summary: Approve the pending request as the token's actor
        responses: {200: {description: the events recorded}, 403: {description: not an approver, or the requester}}
        """
        actor = actor_of(request)
        body = await body_of(request) if await request.body() else {}
        cid = request.path_params["case_id"]
        return [_event_json(e) for e in await run(lambda: durable.approve(cid, actor, reason=body.get("reason")))]

    @endpoint
    async def refuse(request: Request) -> Any:
        """
        summary: Refuse the pending request (the case takes the rule's refusal path)
        requestBody: {content: {application/json: {schema: {type: object, required: [reason], properties: {reason: {type: string}}}}}}
        responses: {200: {description: the events recorded}}
        """
        actor = actor_of(request)
        body = await body_of(request, ("reason",))
        cid = request.path_params["case_id"]
        return [_event_json(e) for e in await run(lambda: durable.refuse(cid, actor, reason=str(body["reason"])))]

    @endpoint
    async def set_fact(request: Request) -> Any:
        """
        summary: Set a fact of the case's context (e.g. the citizen withdraws consent)
        requestBody: {content: {application/json: {schema: {type: object, required: [fact, value],
          properties: {fact: {type: string}, value: {type: boolean}, reason: {type: string}}}}}}
        responses: {200: {description: the events recorded}}
        """
        actor = actor_of(request)
        body = await body_of(request, ("fact", "value"))
        if not isinstance(body["value"], bool):
            raise _HTTPError(400, "BadRequest", "not_boolean", "'value' must be true or false")
        cid = request.path_params["case_id"]
        return [_event_json(e) for e in await run(lambda: durable.set_fact(cid, str(body["fact"]), body["value"], actor, reason=body.get("reason")))]

    # -- the house's queries ---------------------------------------------------------------

    @endpoint
    async def inbox(request: Request) -> Any:
        """
        summary: The cases the token's role is responsible for now (paged by id with ?after=)
        responses: {200: {description: case summaries}}
        """
        actor = actor_of(request)
        limit = _limit(request)
        after = request.query_params.get("after", "")
        return [_summary_json(s) for s in await run(lambda: durable.store.owned_by(role=actor.role, limit=limit, after=after))]

    @endpoint
    async def approvals(request: Request) -> Any:
        """
        summary: Approval requests waiting for the token's role, oldest first (not the person's own, nor ones they approved)
        responses: {200: {description: "[{case_id, pathway_id, trigger, role, sector, requested_by, requested_at, approved_by}]"}}
        """
        actor = actor_of(request)
        limit = _limit(request)
        waits = await run(lambda: durable.store.awaiting(role=actor.role, person=actor.person, limit=limit))
        return [
            {"case_id": w.case_id, "pathway_id": w.pathway_id, "trigger": w.trigger, "role": w.role, "sector": w.sector,
             "requested_by": w.requested_by, "requested_at": w.requested_at.isoformat(), "approved_by": list(w.approved_by)}
            for w in waits
        ]

    @endpoint
    async def citizen_cases(request: Request) -> Any:
        """
        summary: Every case of one citizen (a pseudonymous id), open and ended
        responses: {200: {description: case summaries}}
        """
        actor = actor_of(request)
        citizen, limit = request.path_params["citizen"], _limit(request)
        if any(p.is_citizen(actor.role) for p in registry.values()):
            own_citizen(actor, citizen)
        return [_summary_json(s) for s in await run(lambda: durable.store.of_citizen(citizen, limit=limit))]

    # -- FHIR ---------------------------------------------------------------------------------

    def fhir_module() -> Any:
        from . import fhir

        return fhir

    @endpoint
    async def post_task(request: Request) -> Any:
        """
        summary: Receive a referral (FHIR Task, status requested); starts the receiving pathway's intake
        requestBody: {content: {application/fhir+json: {schema: {type: object}}}}
        responses: {201: {description: the Task as received}, 400: {description: not a valid referral Task}}
        """
        actor = actor_of(request)
        fhir = fhir_module()
        body = await body_of(request)

        def receive() -> Any:
            def begin(pathway: str, citizen: str, link: Any, case_id: str) -> Case:
                if actor.role not in registry[pathway].roles:
                    raise _HTTPError(403, "NotPermitted", "role", f"role {actor.role!r} is not part of pathway {pathway!r}")
                return durable.receive(pathway, citizen, sender=link, actor=actor, case_id=case_id)

            try:
                case = fhir.task_from_referral(body, begin)
            except fhir.FhirError as exc:
                raise _HTTPError(400, "FhirError", "fhir", str(exc)) from None
            return fhir.referral_task(registry, None, case.id, durable.case(case.id))

        task = await run(receive)
        return JSONResponse(task, status_code=201, headers={"Location": f"/fhir/Task/{task['id']}"}, media_type="application/fhir+json")

    @endpoint
    async def get_task(request: Request) -> Any:
        """
        summary: A received referral as the updated FHIR Task (its status follows the intake's answer)
        responses: {200: {description: the Task}, 404: {description: no case received that Task}}
        """
        actor = actor_of(request)
        fhir = fhir_module()
        case_id = request.path_params["case_id"]

        def task() -> Any:
            case = own_case(actor, durable.case(case_id))
            if case.referred_by is None:
                raise _HTTPError(404, "UnknownCase", "unknown_case", f"case {case_id!r} was not started by a referral")
            sender_id = case.referred_by.case_id
            sender = _maybe(lambda: durable.case(sender_id))
            return fhir.referral_task(registry, sender, case.id, case)

        return JSONResponse(await run(task), media_type="application/fhir+json")

    @endpoint
    async def get_careplan(request: Request) -> Any:
        """
        summary: A case as a FHIR CarePlan; ?_bundle=true gives the whole Bundle (Tasks, Consents, Provenance)
        responses: {200: {description: the CarePlan or Bundle}}
        """
        actor = actor_of(request)
        fhir = fhir_module()
        case_id = request.path_params["case_id"]

        def bundle() -> Any:
            case = own_case(actor, durable.case(case_id))
            related = {}
            for link in [e.link for e in case.history if e.link is not None]:
                other = _maybe(lambda link=link: durable.case(link.case_id))  # type: ignore[misc]
                if other is not None:
                    related[other.id] = other
            return fhir.case_bundle(registry, case, related)

        result = await run(bundle)
        if request.query_params.get("_bundle") == "true":
            return JSONResponse(result, media_type="application/fhir+json")
        return JSONResponse(result["entry"][0]["resource"], media_type="application/fhir+json")

    routes = [
        Route("/cases", start, methods=["POST"]),
        Route("/cases/{case_id}", get_case, methods=["GET"]),
        Route("/cases/{case_id}/history", history, methods=["GET"]),
        Route("/cases/{case_id}/options", options, methods=["GET"]),
        Route("/cases/{case_id}/why-not/{trigger}", why_not, methods=["GET"]),
        Route("/cases/{case_id}/fire", fire, methods=["POST"]),
        Route("/cases/{case_id}/approve", approve, methods=["POST"]),
        Route("/cases/{case_id}/refuse", refuse, methods=["POST"]),
        Route("/cases/{case_id}/facts", set_fact, methods=["POST"]),
        Route("/inbox", inbox, methods=["GET"]),
        Route("/inbox/approvals", approvals, methods=["GET"]),
        Route("/citizens/{citizen}/cases", citizen_cases, methods=["GET"]),
        Route("/fhir/Task", post_task, methods=["POST"]),
        Route("/fhir/Task/{case_id}", get_task, methods=["GET"]),
        Route("/fhir/CarePlan/{case_id}", get_careplan, methods=["GET"]),
    ]
    schemas = SchemaGenerator({
        "openapi": "3.0.3",
        "info": {"title": "pathways", "version": "1", "description": "Cross-sector care pathways: the engine's verbs, the house's queries, FHIR referrals."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "security": [{"bearer": []}],
    })

    async def openapi(request: Request) -> Response:
        return JSONResponse(schemas.get_schema(routes=list(app.routes)))

    routes.append(Route("/openapi.json", openapi, include_in_schema=False, methods=["GET"]))
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        store.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.engine = durable
    return app


def _maybe(fn: Callable[[], Case]) -> Case | None:
    try:
        return fn()
    except UnknownCase:
        return None


def serve(registry: Registry, store_url: str, key: bytes, *, host: str = "127.0.0.1", port: int = 8000, ready: Callable[[str], None] | None = None) -> None:
    """Run the service under uvicorn; ``port=0`` lets the OS choose (``ready`` hears the address)."""
    import socket

    with needs("serve", "the HTTP service (pathways serve)"):
        import uvicorn

    app = create_app(registry, store_url, key)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # answers leave at once, not after a delayed ACK
    sock.bind((host, port))
    address = f"http://{host}:{sock.getsockname()[1]}"
    if ready is not None:
        ready(address)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])

