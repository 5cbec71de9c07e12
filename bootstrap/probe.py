"""The worker's probe: `GET /healthz` (the process answers) and `GET /readyz` (its workers poll
and Temporal answers), on `WORKER_PROBE_PORT` when set, served from inside the worker."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from temporalio.client import Client

from infra.readiness import readiness
from infra.temporal import temporal_problem


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """The worker owns SIGINT/SIGTERM: the probe stops when the worker does."""
        yield


def probe_app(client: Client) -> FastAPI:
    app = FastAPI(title="Worker probe", docs_url=None, redoc_url=None, openapi_url=None)

    async def temporal_check() -> str | None:
        return await temporal_problem(client)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        status, body = await readiness({"temporal": temporal_check})
        return JSONResponse(body, status_code=status)

    return app


@contextlib.asynccontextmanager
async def worker_probe(client: Client, host: str, port: int | None) -> AsyncIterator[None]:
    """Serves the probe while the block runs (its workers polling); nothing without a port."""
    if not port:
        yield
        return
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))  # here, so a taken port is an error of ours, not uvicorn's exit
    except OSError as exc:
        sock.close()
        raise OSError(f"the worker probe cannot listen on {host}:{port}: {exc.strerror}") from None
    server = _Server(uvicorn.Config(probe_app(client), log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():  # uvicorn offers no event to await
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await serving
        sock.close()
