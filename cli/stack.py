"""The local stack `make run` and `make demo` start: Temporal dev server (on TEMPORAL_ADDRESS
when that is a free local port; a Temporal server already answering there is used instead)
whose Web UI decodes payloads through the codec server, with ERP=tryton a local Tryton (unless
one answers on TRYTON_URL), partner sandbox, webhooks service, codec server, worker.

A stack never uses what is not its own: its files are under DATA_DIR, which one stack holds at
a time (a lock), and a port another program holds stops the start with one sentence naming the
port and its setting, so two stacks with their own DATA_DIR and ports run side by side."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from adapters.tryton import TrytonSettings
from infra.processes import Service, binary, http_ok, port_open, wait_until
from infra.settings import PROJECT_ROOT, Settings
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
LOCAL_HOSTS = ("127.0.0.1", "localhost", "")


class StackRefused(ConnectionError):
    """Why this stack cannot start here, in one sentence."""


def is_temporal(target: str) -> bool:
    """Whether a Temporal server answers at `target` (its health check, not just a port)."""
    check = [binary("temporal"), "operator", "cluster", "health", "--address", target]
    try:
        return subprocess.run(check, capture_output=True, timeout=15).returncode == 0
    except subprocess.TimeoutExpired:
        return False


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
    log_dir: Path | None = None  # default: the settings' LOG_DIR
    services: list[Service] = field(default_factory=list)
    started_temporal: bool = False
    tryton: TrytonInstance | None = None
    _lock: int | None = None  # the DATA_DIR lock's file descriptor, while it runs

    @property
    def logs(self) -> Path:
        return self.log_dir or self.settings.log_dir

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
            "DATA_DIR": str(s.data_dir),
            "SANDBOX_URL": s.sandbox_url,
            "WEBHOOKS_PORT": str(s.webhooks_port),
            "WEBHOOKS_PUBLIC_URL": s.webhooks_public_url,
            "PAYLOAD_KEYS": s.keyring.config(),  # one set of keys for the whole stack
            "CUSTOMER_KEYS_DATABASE_URL": s.customer_keys_url,  # ... and of customers' keys
            "CODEC_PORT": str(s.codec_port),
            "SETTLEMENT_CHANNELS": ",".join(s.settlement_channels),
            "SETTLEMENT_IMPORT_MINUTES": str(s.settlement_import_minutes),
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
        logs = {"LOG_FILE": str(self.logs / f"{name}.log")}  # our services' JSON log, rotated
        service = Service(name, args, {**self._env(), **logs, **(env or {})}, self.logs, nice, cpus)
        self.services.append(service)
        return service

    def start(self) -> None:
        try:
            self._start_all()
        except BaseException:
            self.stop()
            raise

    def _claim_data_dir(self) -> None:
        """Hold DATA_DIR for this stack (until `stop`): a second stack on it is refused."""
        data_dir = self.settings.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(data_dir / "stack.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode().strip() or "?"
            os.close(fd)
            raise StackRefused(
                f"Another local stack (pid {holder}) is running on {data_dir}: stop it, or give "
                "this one its own DATA_DIR and ports."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock = fd

    def _starts_temporal(self) -> bool:
        """Whether this stack starts its own dev server: on a free local TEMPORAL_ADDRESS, yes;
        where a Temporal server already answers, no (it is used); anything else is refused."""
        address = self.settings.temporal_address
        host, _, port = self.settings.temporal_target.rpartition(":")
        local = host in LOCAL_HOSTS
        if not port_open(host or "127.0.0.1", int(port)):
            if local:
                return True
            raise StackRefused(f"TEMPORAL_ADDRESS {address} is not reachable.")
        if not address:
            raise StackRefused(
                f"Port {port} (TEMPORAL_ADDRESS) is in use: set TEMPORAL_ADDRESS=127.0.0.1:{port} "
                "to use the Temporal server there, or give this stack its own ports."
            )
        if local and not is_temporal(self.settings.temporal_target):
            raise StackRefused(f"TEMPORAL_ADDRESS {address} answers, but not as a Temporal server.")
        return False

    def _ports(self, with_temporal: bool) -> dict[int, str]:
        """The local ports this stack's own services will listen on, and their settings."""
        s = self.settings
        ports: dict[int, str] = {}
        if with_temporal:
            ports[int(s.temporal_target.rpartition(":")[2])] = "TEMPORAL_ADDRESS"
            ports[s.temporal_ui_port] = "TEMPORAL_UI_PORT"
        if self.start_sandbox:
            ports[urlsplit(s.sandbox_url).port or 80] = "SANDBOX_URL"
        ports[s.codec_port] = "CODEC_PORT"
        ports[s.webhooks_port] = "WEBHOOKS_PORT"
        if s.worker_probe_port:
            ports[s.worker_probe_port] = "WORKER_PROBE_PORT"
        if self.worker_metrics_port:
            ports[self.worker_metrics_port] = "WORKER_METRICS_PORT"
        return ports

    def _refuse_taken_ports(self, with_temporal: bool) -> None:
        taken = {
            p: name for p, name in self._ports(with_temporal).items() if port_open("127.0.0.1", p)
        }
        if taken:
            held = ", ".join(f"{port} ({name})" for port, name in taken.items())
            raise StackRefused(
                f"Port{'s' if len(taken) > 1 else ''} {held} in use by another program: stop it, "
                f"or set {', '.join(taken.values())} to free ports for this stack."
            )

    def _start_all(self) -> None:
        if self.persist:
            self._claim_data_dir()
        start_temporal = self._starts_temporal()
        self._refuse_taken_ports(start_temporal)
        if start_temporal:
            port = self.settings.temporal_target.rpartition(":")[2]
            db = self.settings.data_dir / "temporal.db" if self.persist else None
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
        self.tryton.start(lambda step: print(f"Tryton: {step}", flush=True))

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
        if self._lock is not None:
            os.close(self._lock)  # releases the DATA_DIR lock
            self._lock = None
