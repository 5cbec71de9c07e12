"""The local stack `make run` and `make demo` start: Temporal dev server (unless
TEMPORAL_ADDRESS points at a reachable server) whose Web UI decodes payloads through the codec
server, with ERP=tryton a local Tryton (unless one answers on TRYTON_URL), partner sandbox,
webhooks service, codec server, worker."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from adapters.tryton import TrytonSettings
from infra.processes import Service, binary, http_ok, port_open, wait_until
from infra.settings import DATA_DIR, PROJECT_ROOT, Settings
from tryton_local.instance import TrytonInstance, local_instance
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

# Server settings the orchestrator's timing relies on (deploy/temporal/dynamicconfig.yaml
# holds the same for a production-like server):
# - a task queue's rate limit (max_task_queue_activities_per_second) is split across its
#   partitions (4 by default): at a few calls per second each partition may dispatch one task
#   every second or two, so tasks wait although the queue is under its rate. Rate-limited
#   queues want one partition; the dev server gives one to every queue.
# - timers fire up to `timerProcessorMaxTimeShift` (1 s) late: an inventory publisher's
#   sub-second tick would come every second or so.
DEV_SERVER_CONFIG = [
    "--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
    "--dynamic-config-value", "matching.numTaskqueueWritePartitions=1",
    "--dynamic-config-value", 'history.timerProcessorMaxTimeShift="50ms"',
]  # fmt: skip


def dev_server_args(
    host: str,
    port: int,
    ui_port: int,
    namespace: str,
    db_file: Path | None,
    codec_endpoint: str | None = None,
) -> list[str]:
    """`codec_endpoint`: where the Web UI decodes payloads (the codec server)."""
    args = [
        binary("temporal"), "server", "start-dev", "--ip", host, "--port", str(port),
        "--ui-port", str(ui_port), "--namespace", namespace, "--log-level", "warn",
        *DEV_SERVER_CONFIG,
    ]  # fmt: skip
    if codec_endpoint:
        args += ["--ui-codec-endpoint", codec_endpoint]
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        args += ["--db-filename", str(db_file), "--sqlite-pragma", "journal_mode=wal",
                 "--sqlite-pragma", "synchronous=normal"]  # fmt: skip
    for key in SEARCH_ATTRIBUTES:
        args += ["--search-attribute", f"{key.name}=Keyword"]
    return args


LOCAL_METRICS_PORT = 9464
WORKER_NICE = 10  # Temporal, worker and sandbox yield the CPU to the webhooks service


@dataclass
class LocalStack:
    """`persist=False`: a throwaway stack (benchmarks) whose in-memory dev server is started on
    the address the settings name. `webhooks_cpus`: the CPUs the webhooks service runs on, as
    a deployment gives ingestion CPU of its own (keep the other services off them)."""

    settings: Settings
    start_sandbox: bool = True
    autoship_seconds: float | None = None
    persist: bool = True
    webhooks_cpus: frozenset[int] | None = None
    log_dir: Path = DATA_DIR / "logs"
    services: list[Service] = field(default_factory=list)
    started_temporal: bool = False
    tryton: TrytonInstance | None = None

    def _env(self) -> dict[str, str]:
        """The settings that make the children one stack; the rest they read as we do."""
        s = self.settings
        return {
            "TEMPORAL_ADDRESS": s.temporal_target,
            "TEMPORAL_NAMESPACE": s.temporal_namespace,
            "ORDER_TASK_QUEUE": s.task_queue,
            "WORKER_DEPLOYMENT_NAME": s.worker_deployment_name,
            "WORKER_BUILD_ID": s.worker_build_id,
            "DATABASE_URL": s.database_url,
            "SANDBOX_URL": s.sandbox_url,
            "WEBHOOKS_PORT": str(s.webhooks_port),
            "WEBHOOKS_PUBLIC_URL": s.webhooks_public_url,
            "PAYLOAD_KEYS": s.keyring.config(),  # one set of keys for the whole stack
            "CODEC_PORT": str(s.codec_port),
            "PYTHONPATH": str(PROJECT_ROOT),
        }

    def _start(
        self,
        name: str,
        args: list[str],
        env: dict[str, str] | None = None,
        nice: int = 0,
        cpus: frozenset[int] | None = None,
    ) -> Service:
        logs = {"LOG_FILE": str(self.log_dir / f"{name}.log")}  # our services' JSON log, rotated
        service = Service(
            name, args, {**self._env(), **logs, **(env or {})}, self.log_dir, nice, cpus
        )
        self.services.append(service)
        return service

    def start(self) -> None:
        try:
            self._start_all()
        except BaseException:
            self.stop()
            raise

    def _start_all(self) -> None:
        host, _, port = self.settings.temporal_target.rpartition(":")
        if not port_open(host or "127.0.0.1", int(port)):
            if self.settings.temporal_address and self.persist:
                raise ConnectionError(
                    f"TEMPORAL_ADDRESS {self.settings.temporal_address} is not reachable"
                )
            db = DATA_DIR / "temporal.db" if self.persist else None
            temporal = self._start(
                "temporal",
                dev_server_args("127.0.0.1", int(port), self.settings.temporal_ui_port,
                                self.settings.temporal_namespace, db,
                                self.settings.codec_endpoint),
                nice=WORKER_NICE,
            )  # fmt: skip
            self.started_temporal = True
            wait_until(lambda: port_open("127.0.0.1", int(port)), "Temporal dev server", temporal)
        if self.settings.erp == "tryton":
            self._ensure_tryton()
        if self.start_sandbox:
            sandbox_url = urlsplit(self.settings.sandbox_url)
            env = (
                {"SANDBOX_AUTOSHIP_SECONDS": str(self.autoship_seconds)}
                if self.autoship_seconds is not None
                else {}
            )
            # The partners' systems run elsewhere in real life: niced like the worker.
            sandbox = self._start(
                "sandbox",
                self._uvicorn("sandbox.app:app_from_env", sandbox_url.port or 80),
                env,
                nice=WORKER_NICE,
            )
            wait_until(
                lambda: http_ok(f"{self.settings.sandbox_url}/_sandbox/health"), "sandbox", sandbox
            )
        codec = self._start(
            "codec",
            self._uvicorn("codec_server.app:app_from_env", self.settings.codec_port),
            nice=WORKER_NICE,
        )
        wait_until(lambda: http_ok(f"{self.settings.codec_endpoint}/healthz"), "codec", codec)
        webhooks = self._start(
            "webhooks",
            self._uvicorn("webhooks.app:app_from_env", self.settings.webhooks_port),
            cpus=self.webhooks_cpus,
        )
        wait_until(
            lambda: http_ok(f"http://127.0.0.1:{self.settings.webhooks_port}/healthz"),
            "webhooks",
            webhooks,
        )
        # Ingestion first: on a shared machine a burst's processing (Temporal's included) must
        # not slow the webhook answers (in production, give the webhooks service CPU of its own).
        self.start_worker("worker")

    @property
    def worker_metrics_port(self) -> int | None:
        """`WORKER_METRICS_PORT`; the local stack of `make run`/`make demo` serves its worker's
        metrics on 9464 (Prometheus' port for exporters) when it is not set."""
        return self.settings.worker_metrics_port or (LOCAL_METRICS_PORT if self.persist else None)

    def start_worker(self, name: str) -> Service:
        """One more worker process of the stack (several share the task queues); the first
        serves the probe and the metrics (`WORKER_PROBE_PORT`, `worker_metrics_port`)."""
        first = name == "worker"
        probe = self.settings.worker_probe_port if first else None
        metrics = self.worker_metrics_port if first else None
        return self._start(
            name,
            [sys.executable, str(PROJECT_ROOT / "worker.py")],
            {"WORKER_PROBE_PORT": str(probe or ""), "WORKER_METRICS_PORT": str(metrics or "")},
            nice=WORKER_NICE,
        )

    def _ensure_tryton(self) -> None:
        """Use the Tryton on TRYTON_URL; when none answers there and it is local, start ours
        (and stop it again with the stack)."""
        tryton_url = TrytonSettings.from_env(self.settings.env).url
        url = urlsplit(tryton_url)
        if port_open(url.hostname or "127.0.0.1", url.port or 80):
            return
        if url.hostname not in ("127.0.0.1", "localhost"):
            raise ConnectionError(f"TRYTON_URL {tryton_url} is not reachable")
        self.tryton = local_instance(self.settings)
        self.tryton.start()

    @staticmethod
    def _uvicorn(app: str, port: int) -> list[str]:
        return [sys.executable, "-m", "uvicorn", "--factory", app, "--host", "127.0.0.1",
                "--port", str(port), "--log-level", "warning"]  # fmt: skip

    def check(self) -> None:
        """Raise if a service died."""
        for service in self.services:
            if not service.alive():
                raise RuntimeError(
                    f"{service.name} exited; see {service.log_path}:\n{service.tail()}"
                )

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.services.clear()
        if self.tryton is not None:
            self.tryton.stop()
            self.tryton = None
