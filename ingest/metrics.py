"""What the ingest service counts, for Prometheus (`GET /metrics` on the webhooks service):
deliveries by source, topic and outcome, and how long a sender waited for its answer."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

DELIVERIES = Counter(
    "orchestrator_deliveries",
    "Deliveries the webhooks service answered, by source, topic and outcome",
    ["source", "topic", "outcome"],
)
ACK_SECONDS = Histogram(
    "orchestrator_delivery_ack_seconds",
    "From a delivery's arrival to its answer",
    ["source"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
