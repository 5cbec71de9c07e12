"""One log format for every process (worker, webhooks service, codec server, CLI): a JSON
object per line with the time, level, logger, message and service, plus — when the line is
about a workflow or an activity — its workflow id, run id, workflow type, activity and attempt,
so one order's lines are found by its id. On stderr, or with `LOG_FILE` in that file, rotated
(10 MB x 5). The Temporal core's own lines are forwarded here, so no ANSI colour codes reach a
log file."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from temporalio import activity, workflow
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from infra import worker_metrics

# What the SDK's logger adapters put on a record, and the names they are logged under.
_WORKFLOW = {"workflow_id": "workflow_id", "run_id": "run_id", "workflow_type": "workflow_type"}
_ACTIVITY = {
    "workflow_id": "workflow_id",
    "workflow_run_id": "run_id",
    "workflow_type": "workflow_type",
    "activity_type": "activity",
    "attempt": "attempt",
}
ROTATE_BYTES = 10 * 1024 * 1024
ROTATE_KEEP = 5


class _Formatter(JsonFormatter):
    def __init__(self, service: str) -> None:
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",  # ISO 8601, UTC
        )
        self._service = service

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data["service"] = self._service
        for extra, names in (("temporal_workflow", _WORKFLOW), ("temporal_activity", _ACTIVITY)):
            details: Mapping[str, Any] | None = log_data.pop(extra, None)
            for key, name in names.items():
                if details and details.get(key) is not None:
                    log_data[name] = details[key]
        log_data.pop("__temporal_error_identifier", None)


def configure_logging(
    service: str,
    level: str = "INFO",
    log_file: str | None = None,
    rotate_bytes: int = ROTATE_BYTES,
) -> None:
    """Every record of the process as JSON on stderr, or in `log_file` (rotated)."""
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=rotate_bytes, backupCount=ROTATE_KEEP
        )
    handler.setFormatter(_Formatter(service))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per partner call is noise
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # uvicorn's own handlers go
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # The ids travel as fields, not appended to the message.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False


def sdk_runtime(metrics_address: str | None = None) -> Runtime:
    """The Temporal SDK's runtime: its core's warnings through Python logging (JSON, no colour
    codes) instead of straight to stderr; with `metrics_address` (host:port) its metrics — the
    SDK's and the workflows' own (`orchestrator_sagas_total`) — served for Prometheus."""
    metrics = (
        PrometheusConfig(
            bind_address=metrics_address,
            counters_total_suffix=True,
            durations_as_seconds=True,
            histogram_bucket_overrides=worker_metrics.BUCKETS,
        )
        if metrics_address
        else None
    )
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="WARN"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporal.core")),
            ),
            metrics=metrics,
        )
    )


def configure_process_logging(
    service: str, env: Mapping[str, str], metrics_address: str | None = None
) -> None:
    """A service process's logging from its settings (`LOG_LEVEL`, `LOG_FILE`), and the SDK's
    runtime; call before the first Temporal client connects."""
    configure_logging(service, env.get("LOG_LEVEL") or "INFO", env.get("LOG_FILE") or None)
    Runtime.set_default(sdk_runtime(metrics_address), error_if_already_set=False)
