"""Temporal's remote codec protocol over the project's keys: `POST /encode` and `POST /decode`
take and give `Payloads` as protobuf JSON. The Web UI calls it from the operator's browser, so
it answers CORS for the UI's origins (`CODEC_CORS_ORIGINS`); with `CODEC_AUTH_TOKEN` set it
wants `Authorization: Bearer <token>` (the UI passes the user's access token when told to).
The keys stay on this server: the browser and Temporal never hold them."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload, Payloads

from bootstrap.secrets import may_start
from infra.codec import EncryptionCodec
from infra.customer_keys import CustomerKeys, customer_keys_at
from infra.keyring import Keyring, KeyringError
from infra.settings import Settings

Transform = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


def create_app(
    keyring: Keyring,
    cors_origins: list[str],
    token: str = "",
    customers: CustomerKeys | None = None,
) -> FastAPI:
    """`customers`: the customers' data keys; what an erased customer's key sealed shows as
    erased."""
    codec = EncryptionCodec(keyring, customers, erased_as_notice=True)
    app = FastAPI(title="Payload codec server", docs_url=None, redoc_url=None)

    async def transform(request: Request, apply: Transform) -> Response:
        if token and not hmac.compare_digest(
            request.headers.get("Authorization", ""), f"Bearer {token}"
        ):
            return JSONResponse({"detail": "a valid bearer token is required"}, status_code=401)
        try:
            payloads = json_format.Parse(await request.body(), Payloads())
            done = Payloads(payloads=await apply(payloads.payloads))
        except (json_format.ParseError, DecodeError, UnicodeDecodeError) as exc:
            return JSONResponse({"detail": f"not Payloads JSON: {exc}"}, status_code=400)
        except KeyringError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return Response(json_format.MessageToJson(done), media_type="application/json")

    @app.post("/encode")
    async def encode(request: Request) -> Response:
        return await transform(request, codec.encode)

    @app.post("/decode")
    async def decode(request: Request) -> Response:
        return await transform(request, codec.decode)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(
        CORSMiddleware,
        allow_origins=cors_origins,
        allow_credentials=True,
        allow_methods=["POST"],
        allow_headers=["Content-Type", "Authorization", "X-Namespace"],
    )
    return app


def app_from_env() -> FastAPI:
    """The service process (`uvicorn --factory codec_server.app:app_from_env`)."""
    settings = Settings.from_env()
    if not may_start("codec", settings):
        raise SystemExit(1)
    customers = customer_keys_at(settings.customer_keys_url, settings.keyring, cache_seconds=0)
    return create_app(
        settings.keyring, settings.codec_cors_origins, settings.codec_auth_token, customers
    )
