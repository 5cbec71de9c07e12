"""OpenTelemetry traces: a delivery's request to the webhooks service → the workflow it starts
(the SDK's tracing interceptor carries the context through Temporal) → its activities → their
partner HTTP calls, one trace per order, every Temporal span carrying the order key.

Off by default. The standard variables turn it on and choose the exporter: `OTEL_TRACES_EXPORTER`
(`otlp` or `console`; `none` keeps it off) or an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`,
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); the exporter itself reads the rest (`…_HEADERS`,
`…_TIMEOUT`), the SDK reads `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` and
`OTEL_TRACES_SAMPLER`. OTLP goes over HTTP/protobuf (port 4318)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import FastAPI
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor

ORDER_KEY = "order.key"
WORKFLOW_ID = "temporalWorkflowID"  # what the SDK's interceptor puts on its spans
UNTRACED_PATHS = "healthz,readyz,metrics"  # probes and scrapes are not worth a trace each

_provider: TracerProvider | None = None


class TracingSettingsError(ValueError):
    """An `OTEL_*` setting this project cannot honour, as one sentence."""


def exporter_from_env(env: Mapping[str, str]) -> SpanExporter | None:
    """The exporter the standard variables ask for; None when tracing stays off."""
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    chosen = env.get("OTEL_TRACES_EXPORTER", "otlp" if endpoint else "none").strip().lower()
    if chosen == "none":
        return None
    if chosen == "console":
        return ConsoleSpanExporter()
    if chosen != "otlp":
        raise TracingSettingsError(
            f"OTEL_TRACES_EXPORTER={chosen} is not supported: use otlp, console or none"
        )
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    if protocol != "http/protobuf":
        raise TracingSettingsError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol} is not supported: use http/protobuf "
            "(the collector's port 4318)"
        )
    return OTLPSpanExporter()


OrderKeyOf = Callable[[str], str | None]  # a workflow id -> the key of the order it serves


class _OrderKeys(SpanProcessor):
    """Names the order on every span of a Temporal call that belongs to one."""

    def __init__(self, order_key_of: OrderKeyOf) -> None:
        self._order_key_of = order_key_of

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        workflow_id = (span.attributes or {}).get(WORKFLOW_ID)
        key = self._order_key_of(workflow_id) if isinstance(workflow_id, str) else None
        if key:
            span.set_attribute(ORDER_KEY, key)


def start_tracing(service: str, processor: SpanProcessor, order_key_of: OrderKeyOf) -> None:
    """Trace this process's work into `processor` (a batch exporter in production, an
    in-memory one in tests); partner HTTP calls are traced from here on."""
    global _provider
    stop_tracing()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(_OrderKeys(order_key_of))
    provider.add_span_processor(processor)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    _provider = provider


def configure_tracing(service: str, env: Mapping[str, str], order_key_of: OrderKeyOf) -> bool:
    """Tracing as the `OTEL_*` variables ask (see the module); whether it is on."""
    exporter = exporter_from_env(env)
    if exporter is None:
        return False
    name = env.get("OTEL_SERVICE_NAME") or f"retail-orchestrator-{service}"
    start_tracing(name, BatchSpanProcessor(exporter), order_key_of)
    return True


def stop_tracing() -> None:
    """Send what is buffered and stop tracing (at exit; between tests)."""
    global _provider
    if _provider is None:
        return
    HTTPXClientInstrumentor().uninstrument()
    _provider.shutdown()
    _provider = None


def temporal_interceptors() -> list[Interceptor]:
    """For a Temporal client (and so its workers): its calls, workflows and activities traced,
    the trace carried in Temporal headers."""
    if _provider is None:
        return []
    return [TracingInterceptor(_provider.get_tracer("temporalio"))]


def trace_app(app: FastAPI) -> None:
    """A server span for each request the app answers (probes and scrapes excepted)."""
    if _provider is not None:
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=_provider,
            excluded_urls=UNTRACED_PATHS,
            exclude_spans=["receive", "send"],  # one span per request, not three
        )
