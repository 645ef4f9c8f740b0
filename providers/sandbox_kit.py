"""What every provider sandbox shares: run-time fault injection and serving an app on a port.

A sandbox keeps state in memory and speaks its provider's wire format. Tests and operators switch
faults on over HTTP: `POST /__sandbox/faults` with a list of rules, each
`{"match": "add_forwarder", "times": 2, "status": 503, "latency_ms": 0, "hang": false}`.
`match` is a substring of the request path+query ("" matches everything); `times` counts down
(-1 = forever); `hang` holds the request open for 60 s, which clients see as a timeout.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

log = logging.getLogger(__name__)


@dataclass
class FaultRule:
    match: str = ""
    times: int = 1
    status: int = 0
    latency_ms: int = 0
    hang: bool = False
    body: str = "Service Unavailable"


@dataclass
class FaultPlan:
    rules: list[FaultRule] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, target: str) -> FaultRule | None:
        with self.lock:
            for rule in self.rules:
                if rule.times != 0 and rule.match in target:
                    if rule.times > 0:
                        rule.times -= 1
                    return rule
        return None

    def set(self, rules: list[dict]) -> None:
        with self.lock:
            self.rules = [FaultRule(**r) for r in rules]


def fault_middleware(plan: FaultPlan):
    """ASGI middleware class bound to a plan; admin paths are never faulted."""

    class _Faults:
        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            if scope["type"] != "http" or scope["path"].startswith("/__sandbox"):
                return await self.app(scope, receive, send)
            target = scope["path"] + "?" + scope.get("query_string", b"").decode("latin-1")
            rule = plan.take(target)
            if rule:
                if rule.latency_ms:
                    await asyncio.sleep(rule.latency_ms / 1000)
                if rule.hang:
                    await asyncio.sleep(60)
                if rule.status:
                    response = PlainTextResponse(rule.body, status_code=rule.status)
                    return await response(scope, receive, send)
            return await self.app(scope, receive, send)

    return _Faults


def admin_routes(plan: FaultPlan, state_fn, reset_fn) -> list[Route]:
    async def faults(request: Request) -> Response:
        if request.method == "GET":   # what is left of each rule (`times` reaches 0 once it struck)
            with plan.lock:
                return JSONResponse([{"match": r.match, "times": r.times} for r in plan.rules])
        if request.method == "DELETE":
            plan.set([])
        else:
            body = await request.json()
            plan.set(body if isinstance(body, list) else [body])
        return JSONResponse({"rules": len(plan.rules)})

    async def state(_request: Request) -> Response:
        return JSONResponse(state_fn())

    async def reset(_request: Request) -> Response:
        plan.set([])
        reset_fn()
        return JSONResponse({"reset": True})

    return [
        Route("/__sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/__sandbox/state", state, methods=["GET"]),
        Route("/__sandbox/reset", reset, methods=["POST"]),
    ]


def sandbox_app(plan: FaultPlan, state, routes: list[Route]) -> Starlette:
    """A sandbox's app: its provider's routes, then the admin routes, behind the fault middleware.
    `state` offers `snapshot()` and `reset()`; tests reach it as `app.state.sandbox`."""
    app = Starlette(routes=[*routes, *admin_routes(plan, state.snapshot, state.reset)])
    app.add_middleware(fault_middleware(plan))
    app.state.sandbox = state
    return app


def serve(app: Starlette, port: int) -> None:
    """Serve a sandbox on its port until the process ends (`python -m providers.<name>.sandbox`)."""
    ServerThread(app, port=port).start().thread.join()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """Serve an ASGI app with uvicorn on a background thread (tests and `make run`).

    A port found free may be taken before uvicorn binds it (another process's outgoing connection
    can get it as its source port); a port we chose ourselves is then chosen again, a few times."""

    def __init__(self, app: Starlette, port: int | None = None, host: str = "127.0.0.1"):
        self.app, self.host, self._chosen = app, host, port is None
        self._serve_on(port or free_port())

    def _serve_on(self, port: int) -> None:
        self.port = port
        config = uvicorn.Config(self.app, host=self.host, port=port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "ServerThread":
        for attempt in range(5):
            self.thread.start()
            deadline = time.monotonic() + 10
            while not self.server.started:
                if not self.thread.is_alive() and self._chosen and attempt < 4:
                    break   # the port was taken under us: another one
                if time.monotonic() > deadline or not self.thread.is_alive():
                    raise RuntimeError(f"sandbox on port {self.port} did not start")
                time.sleep(0.02)
            else:
                return self
            self._serve_on(free_port())
        raise RuntimeError(f"sandbox on port {self.port} did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
