"""The SP-API Reports API as a seller uses it: `createReport` for the reports one may request
(each made at once by the generator registered for its type), `getReports` to find reports
Amazon makes on its own (settlement reports cannot be requested), `getReport`, and
`getReportDocument` for the document's (pre-signed) URL, where a tab-separated file waits."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from sandbox.amazon import error
from sandbox.vendor_errors import VendorError

Generator = Callable[[dict[str, Any]], str]  # a createReport body -> the document's text


class AmazonReports:
    def __init__(self) -> None:
        self.reports: dict[str, dict[str, Any]] = {}
        self.documents: dict[str, str] = {}
        self.generators: dict[str, Generator] = {}
        self.base_url = ""

    def add(self, report_type: str, text: str, **times: str) -> str:
        """A report DONE at once, its document holding `text`; returns the report id."""
        report_id, document_id = str(uuid.uuid4().int % 10**11), f"amzn1.tortuga.{uuid.uuid4()}"
        self.documents[document_id] = text
        self.reports[report_id] = {
            "reportId": report_id,
            "reportType": report_type,
            "processingStatus": "DONE",
            "reportDocumentId": document_id,
            "createdTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **times,
        }
        return report_id


def router(state: AmazonReports) -> APIRouter:
    api = APIRouter(prefix="/amazon/reports/2021-06-30")

    @api.post("/reports", status_code=202)
    async def create_report(request: Request) -> dict[str, str]:
        spec = await request.json()
        report_type = str(spec.get("reportType"))
        generate = state.generators.get(report_type)
        if generate is None:
            message = f"Request for report type {report_type} is not allowed at this time."
            raise VendorError(error(400, "InvalidInput", message))
        return {"reportId": state.add(report_type, generate(spec), **_times(spec))}

    @api.get("/reports")
    async def get_reports(
        reportTypes: str,
        processingStatuses: str = "",
        createdSince: str = "",
    ) -> Response:
        types, statuses = (
            set(reportTypes.split(",")),
            set(filter(None, processingStatuses.split(","))),
        )
        found = [
            r
            for r in state.reports.values()
            if r["reportType"] in types
            and (not statuses or r["processingStatus"] in statuses)
            and r["createdTime"] >= createdSince
        ]
        return JSONResponse({"reports": sorted(found, key=lambda r: r["createdTime"])})

    @api.get("/reports/{report_id}")
    async def get_report(report_id: str) -> Response:
        report = state.reports.get(report_id)
        if report is None:
            return error(404, "NotFound", f"Report {report_id} was not found.")
        return JSONResponse(report)

    @api.get("/documents/{document_id}")
    async def get_document(document_id: str) -> Response:
        if document_id not in state.documents:
            return error(404, "NotFound", f"Document {document_id} was not found.")
        url = f"{state.base_url}/_sandbox/amazon/documents/{document_id}"
        return JSONResponse({"reportDocumentId": document_id, "url": url})

    return api


def document_router(state: AmazonReports) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/amazon", tags=["sandbox control"])

    @api.get("/documents/{document_id}")
    async def document(document_id: str) -> Response:
        """The report document's (pre-signed) URL."""
        text = state.documents.get(document_id)
        if text is None:
            return JSONResponse({"detail": "unknown document"}, status_code=404)
        return PlainTextResponse(text)

    return api


def _times(spec: dict[str, Any]) -> dict[str, str]:
    return {k: str(spec[k]) for k in ("dataStartTime", "dataEndTime") if spec.get(k)}
