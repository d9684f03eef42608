"""The `/_dev` control endpoints: faults, stats and reset, for tests and demos.

They need no token but answer loopback callers only: a server started with --allow-remote
must not let the network switch its faults or wipe its data.
"""

from __future__ import annotations

from aiohttp import web

from app.devserver.faults import Faults
from app.devserver.jsonio import ApiError, json_response, read_json
from app.devserver.loopback import is_loopback_address
from app.devserver.state import ServerState


def require_loopback(request: web.Request) -> None:
    if not is_loopback_address(request.remote):
        raise ApiError(403, "The /_dev control endpoints answer loopback callers only")


def apply_faults(state: ServerState, changes: dict[str, object]) -> Faults:
    """Merge fault settings into the current ones; `"reset": true` starts from no faults."""
    changes = dict(changes)
    base = Faults() if changes.pop("reset", False) is True else state.injector.faults
    try:
        faults = base.updated(changes)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    state.injector.set(faults)
    return faults


async def handle_control(state: ServerState, request: web.Request, path: str) -> web.Response:
    """Answer `/_dev/...`; `path` is lower-case without a trailing slash."""
    require_loopback(request)
    method = request.method
    if path == "/_dev/faults" and method == "GET":
        return json_response(state.injector.faults.to_json())
    if path == "/_dev/faults" and method == "POST":
        body = await read_json(request)
        if not isinstance(body, dict):
            raise ApiError(400, "The fault settings must be a JSON object")
        return json_response(apply_faults(state, body).to_json())
    if path == "/_dev/stats" and method == "GET":
        # ?times=1 adds each report's first receipt time (for latency benchmarks).
        # ?ids=0 leaves out the per-id counts: a cheap poll while a benchmark runs.
        times = request.query.get("times", "") in ("1", "true", "yes")
        ids = request.query.get("ids", "1") not in ("0", "false", "no")
        return json_response(state.store.stats(times=times, ids=ids))
    if path == "/_dev/reset" and method == "POST":
        state.reset()
        return json_response({"reset": True})
    if path in ("/_dev/faults", "/_dev/stats", "/_dev/reset"):
        raise ApiError(405, f"{method} is not allowed on {request.path}")
    raise ApiError(
        404, f"No control endpoint {request.path}; see /_dev/faults, /_dev/stats, /_dev/reset"
    )
