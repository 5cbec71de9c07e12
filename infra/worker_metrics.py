"""What a worker counts beside the SDK's own metrics: partner calls, inventory push lag and the
ERP queue. Recorded through the SDK's meter (an activity's, or the client runtime's), so the
worker's one Prometheus endpoint (`WORKER_METRICS_PORT`) serves them with the SDK's; without
that endpoint they cost nothing, and outside a worker (the webhooks service) nothing is kept."""

from __future__ import annotations

from temporalio import activity
from temporalio.common import MetricMeter

PARTNER_CALL_SECONDS = "orchestrator_partner_call_seconds"
INVENTORY_PUSH_LAG_SECONDS = "orchestrator_inventory_push_lag_seconds"

# Histogram buckets (seconds) for the SDK's Prometheus exporter, by metric name.
BUCKETS = {
    PARTNER_CALL_SECONDS: (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    INVENTORY_PUSH_LAG_SECONDS: (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0),
}


def _activity_meter() -> MetricMeter | None:
    return activity.metric_meter() if activity.in_activity() else None


def partner_call(system: str, outcome: str, seconds: float) -> None:
    """One HTTP call to a partner: its outcome (ok, client_error, rate_limited, server_error,
    unreachable) and how long the partner took."""
    meter = _activity_meter()
    if meter is None:
        return
    meter.create_counter(
        "orchestrator_partner_calls", "HTTP calls to partners, by system and outcome"
    ).add(1, {"system": system, "outcome": outcome})
    meter.create_histogram_float(
        PARTNER_CALL_SECONDS, "How long a partner took to answer, by system", "s"
    ).record(seconds, {"system": system})


def inventory_push_lag(channel: str, seconds: float) -> None:
    meter = _activity_meter()
    if meter is None:
        return
    meter.create_histogram_float(
        INVENTORY_PUSH_LAG_SECONDS,
        "From a stock change reaching the channel's publisher to the channel holding it",
        "s",
    ).record(max(0.0, seconds), {"channel": channel})


def erp_queue(meter: MetricMeter, depth: int, oldest_seconds: float) -> None:
    """The ERP task queue's backlog as the server reports it."""
    meter.create_gauge_float(
        "orchestrator_erp_queue_depth", "ERP calls waiting for their turn (approximate)"
    ).set(float(depth))
    meter.create_gauge_float(
        "orchestrator_erp_queue_oldest_seconds", "How long the oldest waiting ERP call has waited"
    ).set(oldest_seconds)
