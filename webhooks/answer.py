"""The ingest service's answer to a delivery, as the HTTP response the partner gets."""

from fastapi.responses import JSONResponse

from inbox.outcome import Answer


def answered(answer: Answer) -> JSONResponse:
    return JSONResponse(answer.body, status_code=answer.http_status)
