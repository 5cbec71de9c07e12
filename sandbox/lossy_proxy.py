"""An HTTP/1.1 proxy in front of a real partner (Tryton) that can lose answers: the request
reaches the partner and takes effect, then the connection is cut before the caller hears back.
That is the case idempotency exists for, and the one mocks never show. It also counts what
passes (requests in flight, start times), so a benchmark can see the load the partner got."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from dataclasses import dataclass, field

import httpx

from infra.processes import free_port

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class LossyProxy:
    upstream: str
    port: int = field(default_factory=free_port)
    forwarded: int = 0
    cut: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    started: list[float] = field(default_factory=list)  # monotonic start of every request
    _rule: tuple[re.Pattern[bytes], int] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut_after_request(self, body_pattern: str, times: int = 1) -> None:
        """The next `times` requests whose body matches are forwarded, and their answer lost."""
        with self._lock:
            self._rule = (re.compile(body_pattern.encode()), times)

    def _should_cut(self, body: bytes) -> bool:
        with self._lock:
            if self._rule is None or not self._rule[0].search(body):
                return False
            pattern, left = self._rule
            self._rule = (pattern, left - 1) if left > 1 else None
            self.cut += 1
            return True

    def _begin(self) -> None:
        self.started.append(time.monotonic())
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with httpx.AsyncClient(base_url=self.upstream, timeout=120) as client:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    request_line, *header_lines = head.decode("latin-1").split("\r\n")
                    method, path, _ = request_line.split(" ", 2)
                    headers = dict(line.split(": ", 1) for line in header_lines if ": " in line)
                    length = int(
                        next((v for k, v in headers.items() if k.lower() == "content-length"), 0)
                    )
                    body = await reader.readexactly(length) if length else b""
                    sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
                    self._begin()
                    try:
                        response = await client.request(method, path, content=body, headers=sent)
                    finally:
                        self.in_flight -= 1
                    self.forwarded += 1
                    if self._should_cut(body):
                        return  # the partner did the work; the caller never hears of it
                    out = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
                    out += [
                        f"{k}: {v}"
                        for k, v in response.headers.items()
                        if k.lower() not in HOP_BY_HOP | {"content-encoding"}
                    ]
                    out.append(f"Content-Length: {len(response.content)}")
                    writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
                    writer.write(response.content)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

    def __enter__(self) -> LossyProxy:
        self._loop = asyncio.new_event_loop()
        started = threading.Event()

        async def serve() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
            started.set()
            async with self._server:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._server.serve_forever()

        self._thread = threading.Thread(
            target=lambda: self._loop.run_until_complete(serve()), daemon=True
        )
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("lossy proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._server.close)
        self._thread.join(timeout=10)
