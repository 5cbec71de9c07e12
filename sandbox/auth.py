"""Each sandbox system checks credentials the way its vendor does, before any route runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from sandbox.amazon import error as amazon_error
from sandbox.avatax import error as avatax_error
from sandbox.netsuite import error as netsuite_error
from sandbox.sendgrid import error as sendgrid_error

# system -> (header, required prefix, the vendor's 401)
CREDENTIALS: dict[str, tuple[str, str, Callable[[], Response]]] = {
    "netsuite": (
        "authorization",
        "Bearer ",
        lambda: netsuite_error(401, "INVALID_LOGIN", "Invalid login attempt."),
    ),
    "avatax": (
        "authorization",
        "Basic ",
        lambda: avatax_error(401, "AuthenticationException", "Authentication failed."),
    ),
    "shipstation": (
        "authorization",
        "Basic ",
        lambda: JSONResponse({"Message": "Authorization has been denied for this request."}, 401),
    ),
    # ShipStation API v2 (inventory) has its own key header.
    "shipstation/v2": (
        "api-key",
        "",
        lambda: JSONResponse({"errors": [{"error_code": "unauthorized"}]}, 401),
    ),
    "shopify": (
        "x-shopify-access-token",
        "",
        lambda: JSONResponse({"errors": "[API] Invalid API key or access token"}, 401),
    ),
    "sendgrid": (  # SendGrid API keys start with "SG."
        "authorization",
        "Bearer SG.",
        lambda: sendgrid_error(
            401, "The provided authorization grant is invalid, expired, or revoked"
        ),
    ),
    "pos": (
        "authorization",
        "Bearer ",
        lambda: JSONResponse({"error": "unauthorized", "message": "bad API key"}, 401),
    ),
    "shipbob": (
        "authorization",
        "Bearer ",
        lambda: JSONResponse({"statusCode": 401, "message": "Unauthorized"}, 401),
    ),
    "returns": (
        "authorization",
        "Bearer ",
        lambda: JSONResponse({"error": "unauthorized", "message": "bad API key"}, 401),
    ),
    "amazon": (
        "x-amz-access-token",
        "Atz",
        lambda: amazon_error(403, "Unauthorized", "Access to requested resource is denied."),
    ),
}


async def partner_auth(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    segments = request.url.path.strip("/").split("/")
    system = "/".join(segments[:2]) if "/".join(segments[:2]) in CREDENTIALS else segments[0]
    if system in CREDENTIALS:
        header, prefix, refusal = CREDENTIALS[system]
        value = request.headers.get(header, "")
        if not value or not value.startswith(prefix):
            return refusal()
    return await call_next(request)
