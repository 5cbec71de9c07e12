"""Every available-to-sell a sandbox channel accepted, with when: benchmarks and tests read
push latency and pushes per SKU from it (`GET /_sandbox/pushes/{channel}`)."""

from __future__ import annotations

import time

from pydantic import BaseModel


class Push(BaseModel):
    at: float  # epoch seconds
    sku: str
    quantity: int


class PushLog:
    def __init__(self) -> None:
        self.entries: list[Push] = []

    def record(self, sku: str, quantity: int) -> None:
        self.entries.append(Push(at=time.time(), sku=sku, quantity=quantity))
