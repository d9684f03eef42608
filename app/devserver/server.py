"""The local WATS server: an aiohttp application on loopback (DESIGN.md §9).

One catch-all route dispatches by lower-case path, since WATS matches routes without regard
to case (wats-api.md §1.1). Every `/api` call goes through fault injection, then Basic auth,
then its handler; `/_dev` calls skip both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from app.devserver.api import ROUTES, Call, Handler
from app.devserver.auth import DEFAULT_TOKEN, Credentials
from app.devserver.control import apply_faults, handle_control
from app.devserver.faults import Action, FaultInjector, Faults
from app.devserver.jsonio import ApiError, error_response, json_response
from app.devserver.processes import ProcessCatalog, default_processes
from app.devserver.state import SERVER_NAME, ServerState

log = logging.getLogger(__name__)

# Reports with attachments run to a few MB (wats-api.md §6.3); aiohttp's default is 1 MiB.
MAX_BODY_BYTES = 64 * 1024 * 1024

_EXACT: dict[str, dict[str, Handler]] = {}
_WITH_PARAM: dict[str, dict[str, Handler]] = {}
for (_method, _path), _handler in ROUTES.items():
    _table = _WITH_PARAM if _path.endswith("/") else _EXACT
    _table.setdefault(_path, {})[_method] = _handler


def resolve(path: str, method: str) -> tuple[Handler, str]:
    """The handler and path parameter for a lower-case path, or a 404/405 ApiError."""
    methods = _EXACT.get(path)
    param = ""
    if methods is None:
        prefix, _, last = path.rpartition("/")
        methods = _WITH_PARAM.get(prefix + "/") if last else None
        param = last
    if methods is None:
        raise ApiError(404, f"No HTTP resource was found that matches the request URI '{path}'")
    handler = methods.get(method)
    if handler is None:
        raise ApiError(405, f"The requested resource does not support http method '{method}'")
    return handler, param


def format_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class DevServer:
    """A local WATS server. `await start()` binds and returns the base URL; `await stop()`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8080,
        token: str = DEFAULT_TOKEN,
        faults: Faults | Mapping[str, Any] | None = None,
        *,
        processes: list[dict[str, Any]] | None = None,
        accept_unknown_process: bool = False,
        clock_skew_s: float = 0.0,
        fault_seed: int | None = None,
    ) -> None:
        if not isinstance(faults, Faults):
            faults = Faults().updated(faults or {})
        self.host = host
        self.port = port
        self.token = token
        self.state = ServerState(
            credentials=Credentials(server_token=token),
            processes=ProcessCatalog(default_processes() if processes is None else processes),
            injector=FaultInjector(faults, seed=fault_seed),
            accept_unknown_process=accept_unknown_process,
            clock_skew_s=clock_skew_s,
        )
        self._runner: web.AppRunner | None = None
        self.url = ""

    def set_faults(self, **changes: Any) -> Faults:
        """Change fault settings (on the server's loop); `reset=True` clears the others first."""
        return apply_faults(self.state, changes)

    async def start(self) -> str:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=1024)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound_port = int(runner.addresses[0][1])
        self.url = format_url(self.host, bound_port)
        return self.url

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path.lower().rstrip("/") or "/"
        if path.startswith("/_dev/"):
            try:
                return await handle_control(self.state, request, path)
            except ApiError as error:
                return error_response(error)
        if path == "/api" or path.startswith("/api/"):
            return await self._handle_api(request, path)
        if path == "/":
            return web.Response(text=f"{SERVER_NAME}: the WATS REST API is under /api\n")
        return error_response(ApiError(404, f"Not found: {request.path}; the API is under /api"))

    async def _handle_api(self, request: web.Request, path: str) -> web.StreamResponse:
        state = self.state
        store = state.store
        store.requests += 1
        faults = state.injector.faults
        decision = state.injector.decide(asyncio.get_running_loop().time())
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        action = decision.action
        if action is Action.DROP:
            return self._drop(request)
        if action is Action.THROTTLE:
            response = error_response(
                ApiError(
                    429,
                    "Too many requests: slow down and retry later",
                    headers={"Retry-After": str(decision.retry_after)},
                )
            )
        elif action is Action.UNAVAILABLE:
            headers = {"Retry-After": str(decision.retry_after)} if decision.retry_after else {}
            response = error_response(
                ApiError(503, "The server is unavailable (simulated outage)", headers=headers)
            )
        elif action is Action.FAIL:
            response = error_response(
                ApiError(faults.fail_status, "Internal server error (injected failure)")
            )
        else:
            response = await self._dispatch(request, path)
            if action is Action.DROP_AFTER:
                return self._drop(request)
        store.by_status[str(response.status)] += 1
        return response

    async def _dispatch(self, request: web.Request, path: str) -> web.Response:
        try:
            mac = self.state.credentials.check(request.headers.get("Authorization"))
            handler, param = resolve(path, request.method)
            response = await handler(self.state, request, Call(mac=mac, param=param))
        except ApiError as error:
            return error_response(error)
        except web.HTTPException as exc:  # e.g. 413 from aiohttp's body size limit
            return json_response({"Message": exc.reason}, status=exc.status)
        except Exception as exc:
            log.exception("local server: %s %s failed", request.method, request.path)
            return json_response(
                {"Message": f"Internal error in the local server: {exc}"}, status=500
            )
        assert isinstance(response, web.Response)
        return response

    def _drop(self, request: web.Request) -> web.Response:
        """Close the connection without a reply; aiohttp then writes nothing."""
        self.state.store.by_status["dropped"] += 1
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=499)
