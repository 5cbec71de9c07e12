"""SendGrid-shaped mail API: `POST /sendgrid/v3/mail/send` checks a dynamic-template message
the way SendGrid does and answers 202 with `X-Message-Id`; `GET /sendgrid/v3/messages` is the
Email Activity API, searched by a custom argument (SendGrid indexes a message within seconds;
the sandbox at once). The sandbox keeps every message (`GET /_sandbox/sendgrid/messages`): it
plays the customer's inbox."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse


def error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "field": field, "help": None}]}, status_code=status
    )


class SendGridState:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []


def _problem(body: dict[str, Any]) -> tuple[str, str] | None:
    """SendGrid's first complaint about a message: (field, message)."""
    if not (body.get("from") or {}).get("email"):
        return "from.email", "The from email does not contain a valid address."
    personalizations = body.get("personalizations") or []
    if not personalizations:
        return "personalizations", "The personalizations field is required."
    for n, personalization in enumerate(personalizations):
        to = personalization.get("to") or []
        if not to or not all("@" in (r.get("email") or "") for r in to):
            return f"personalizations.{n}.to", "Does not contain a valid address."
    if not str(body.get("template_id", "")).startswith("d-"):
        return "template_id", "The template_id must be a valid dynamic template id."
    return None


# The one Email Activity query form the sandbox understands: unique_args['name']="value".
CUSTOM_ARG_QUERY = re.compile(r"""^unique_args\['(\w+)'\]="([^"]*)"$""")


def router(state: SendGridState) -> APIRouter:
    api = APIRouter(prefix="/sendgrid/v3")

    @api.get("/messages")
    async def activity(query: str, limit: int = 10) -> Response:
        """Email Activity: messages whose custom argument matches, newest first."""
        found = CUSTOM_ARG_QUERY.match(query)
        if found is None:
            return error(400, "invalid query", "query")
        name, value = found.groups()
        matching = [m for m in state.messages if m["custom_args"].get(name) == value]
        return JSONResponse(
            {
                "messages": [
                    {
                        "from_email": m["from"]["email"],
                        "msg_id": f"{m['message_id']}.filterdrecv-p3mdw1-7f4d6b-1-0",
                        "subject": "",
                        "to_email": m["to"][0]["email"],
                        "status": "delivered",
                        "opens_count": 0,
                        "clicks_count": 0,
                        "last_event_time": time.strftime(
                            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(m["at"])
                        ),
                    }
                    for m in reversed(matching)
                ][:limit]
            }
        )

    @api.post("/mail/send")
    async def send(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return error(400, "Bad Request")
        problem = _problem(body)
        if problem:
            return error(400, problem[1], problem[0])
        message_id = uuid.uuid4().hex[:22]
        for personalization in body["personalizations"]:
            state.messages.append(
                {
                    "message_id": message_id,
                    "at": time.time(),
                    "from": body["from"],
                    "to": personalization["to"],
                    "template_id": body["template_id"],
                    "dynamic_template_data": personalization.get("dynamic_template_data", {}),
                    "custom_args": personalization.get("custom_args", {}),
                }
            )
        return Response(status_code=202, headers={"X-Message-Id": message_id})

    return api


def control_router(state: SendGridState) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/sendgrid", tags=["sandbox control"])

    @api.get("/messages")
    async def messages(to: str | None = None) -> list[dict[str, Any]]:
        """Every message sent, oldest first (only those to `to` when given)."""
        return [m for m in state.messages if to in (None, *(r["email"] for r in m["to"]))]

    return api
