"""Chaos run: the demo's traffic (`--scenario ship|bopis|split|returns|mixed`, `--orders N`)
against the local stack while everything that can go wrong does, then the invariants.

- every Shopify delivery arrives twice (at once or late, under the same or a new webhook id),
  and each is sent again until it is taken, as Shopify does;
- NetSuite, AvaTax, ShipStation and Shopify answer 10% 5xx and 10% 429; every partner carries
  out some requests and loses their answer (`lose_response_rate`);
- two workers share the task queues; one of them is SIGKILLed every `--kill-every` seconds
  and started again;
- the Temporal server is stopped once for `--temporal-down` seconds and restarted on its
  database; every partner is down once for `--sandbox-down` seconds.

Then faults are cleared, the run waits until every workflow settled and `bench/chaos_checks`
prints the invariants. Exit 0 only when every one holds.
Usage: python bench/chaos.py --scenario mixed --orders 200"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import httpx
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.chaos_checks import Run, check, print_checks
from bench.local_stack import stack_settings
from canonical import SagaView
from cli.demo import saga_view
from cli.demo_traffic import SCENARIOS, DemoTraffic, share
from cli.stack import LocalStack, dev_server_args
from infra.processes import Service, exit_process, port_open, wait_until
from infra.settings import Settings
from infra.temporal import connect_when_up, ensure_search_attributes
from services.deployment import make_current
from services.schedules import ensure_schedules, reconcile_now
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

T = TypeVar("T")
log = logging.getLogger("chaos")
console = Console()
PARTNERS = ("netsuite", "avatax", "shipstation", "shopify", "amazon", "walmart", "sendgrid",
            "pos", "shipbob")  # fmt: skip
NOISY = ("netsuite", "avatax", "shipstation", "shopify")  # the 10% 5xx, 10% 429


@dataclass
class Faults:
    error_rate: float
    throttle_rate: float
    lose_rate: float

    def profile(self, system: str) -> dict[str, Any]:
        noisy = system in NOISY
        return {
            "error_rate": self.error_rate if noisy else 0.0,
            "throttle_rate": self.throttle_rate if noisy else 0.0,
            "retry_after_s": 0.5,
            "lose_response_rate": self.lose_rate,
        }


class ChaosTraffic(DemoTraffic):
    """The demo's traffic, with every Shopify delivery sent twice and each sent again until
    it is taken; calls to Temporal are asked again while it is down."""

    def __init__(self, settings: Settings, client: Any, http: httpx.AsyncClient) -> None:
        super().__init__(settings, client, http)
        self.deliveries = 0  # deliveries taken (each order's duplicates included)
        self.late: set[asyncio.Task[None]] = set()
        self.random = random.Random(11)

    async def _temporal(self, call: Callable[[], Awaitable[T]]) -> T:
        wait = 0.5
        while True:
            try:
                return await call()
            except Exception as exc:  # Temporal restarting: unavailable, or a call cut off
                log.info("temporal call failed (%r); asking again", exc)
                await asyncio.sleep(wait)
                wait = min(wait * 2, 5)

    async def _post(self, topic: str, raw: bytes, webhook_id: str) -> dict[str, Any]:
        """Until a 2xx, as Shopify retries a delivery that was not taken."""
        wait = 0.5
        while True:
            try:
                response = await self.post_shopify(topic, raw, webhook_id)
                if response.status_code < 300:
                    self.deliveries += 1
                    answer: dict[str, Any] = response.json()
                    return answer
            except httpx.HTTPError as exc:
                log.info("delivery failed: %r", exc)
            await asyncio.sleep(wait)
            wait = min(wait * 2, 10)

    async def _deliver(self, topic: str, body: dict[str, Any]) -> str:
        raw = json.dumps(body).encode()
        webhook_id = str(uuid.uuid4())
        answer = await self._post(topic, raw, webhook_id)
        # Its duplicate: the same webhook id (a retry) or a new one (Shopify sends an event
        # again), at once or up to a minute later.
        again = webhook_id if self.random.random() < 0.5 else str(uuid.uuid4())
        delay = self.random.choice([0.0, self.random.uniform(5, 60)])
        task = asyncio.create_task(self._later(delay, topic, raw, again))
        self.late.add(task)
        task.add_done_callback(self.late.discard)
        workflow_id: str = answer["workflow_id"]
        self.watched.append(workflow_id)
        return workflow_id

    async def _later(self, delay: float, topic: str, raw: bytes, webhook_id: str) -> None:
        await asyncio.sleep(delay)
        await self._post(topic, raw, webhook_id)


SAGAS = (
    "('OrderToCashWorkflow', 'ClickAndCollectWorkflow', 'ShipmentGroupWorkflow', 'ReturnWorkflow')"
)
WAITING_FOR_SUPPORT = "('ON_HOLD', 'NEEDS_ATTENTION')"


async def settled(
    client: Any, settings: Settings, ids: list[str], timeout: float
) -> list[tuple[str, SagaView | None]]:
    """Wait (through the visibility store, not a query per workflow) until no saga of the run
    is still moving: each closed, or waiting for support. Then every workflow's view."""
    moving = (
        f"TaskQueue = '{settings.task_queue}' AND WorkflowType IN {SAGAS} "
        f"AND ExecutionStatus = 'Running' AND OrderStatus NOT IN {WAITING_FOR_SUPPORT}"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = (await client.count_workflows(moving)).count
        if not left:
            break
        console.print(f"{left} workflows still moving")
        await asyncio.sleep(10)
    views = [await saga_view(client.get_workflow_handle(i)) for i in ids]
    return list(zip(ids, views, strict=True))


@dataclass
class Chaos:
    """What is done to the stack, and when."""

    stack: LocalStack
    temporal: Service
    sandbox_url: str
    faults: Faults
    kill_every: float
    temporal_down: float
    sandbox_down: float
    workers: list[Service] = field(default_factory=list)
    kills: int = 0

    def note(self, what: str) -> None:
        console.print(f"[yellow]chaos[/yellow] {what}")

    async def set_faults(self, http: httpx.AsyncClient, outage: bool = False) -> None:
        for system in PARTNERS:
            profile = {**self.faults.profile(system), "outage": outage}
            response = await http.put(f"{self.sandbox_url}/_sandbox/faults/{system}", json=profile)
            response.raise_for_status()

    async def kill_workers(self, stop: asyncio.Event) -> None:
        """One of the two workers SIGKILLed every `kill_every` s, started again 1-3 s later."""
        rng = random.Random(5)
        while True:
            try:
                await asyncio.wait_for(
                    stop.wait(), self.kill_every if self.kill_every > 0 else None
                )
                return
            except TimeoutError:
                pass
            worker = self.workers[self.kills % len(self.workers)]
            worker.kill()
            self.kills += 1
            await asyncio.sleep(rng.uniform(1, 3))
            worker.respawn()

    async def restart_temporal(self, after: float) -> None:
        if self.temporal_down <= 0:
            return
        await asyncio.sleep(after)
        self.note(f"Temporal server stopped for {self.temporal_down:g} s")
        await asyncio.to_thread(self.temporal.stop)
        await asyncio.sleep(self.temporal_down)
        self.temporal.respawn()
        host, _, port = self.stack.settings.temporal_target.rpartition(":")
        await asyncio.to_thread(
            wait_until, lambda: port_open(host, int(port)), "Temporal dev server", self.temporal
        )
        self.note("Temporal server back on its database")

    async def partner_outage(self, http: httpx.AsyncClient, after: float) -> None:
        if self.sandbox_down <= 0:
            return
        await asyncio.sleep(after)
        self.note(f"every partner down for {self.sandbox_down:g} s")
        await self.set_faults(http, outage=True)
        await asyncio.sleep(self.sandbox_down)
        await self.set_faults(http)
        self.note("partners back")


async def main(args: argparse.Namespace) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="chaos-"))
    settings = stack_settings(
        DATABASE_URL=f"sqlite:///{data_dir / 'orchestrator.db'}", INBOX_REDRIVE_SECONDS="2"
    )
    host, _, port = settings.temporal_target.rpartition(":")
    temporal = Service(
        "temporal",
        dev_server_args(host, int(port), settings.temporal_ui_port, settings.temporal_namespace,
                        data_dir / "temporal.db", settings.codec_endpoint),
        {},
        data_dir / "logs",
    )  # fmt: skip
    stack = LocalStack(settings, autoship_seconds=2.0, log_dir=data_dir / "logs")
    console.print(f"Chaos run: {args.scenario}, {args.orders} orders; logs in {data_dir / 'logs'}")
    try:
        wait_until(lambda: port_open(host, int(port)), "Temporal dev server", temporal)
        await asyncio.to_thread(stack.start)
        second = stack.start_worker("worker-2")
        client = await connect_when_up(settings, log)
        await ensure_search_attributes(client, SEARCH_ATTRIBUTES)
        await make_current(client, settings)
        await ensure_schedules(client, settings)
        chaos = Chaos(
            stack, temporal, settings.sandbox_url,
            Faults(args.error_rate, args.throttle_rate, args.lose_rate),
            args.kill_every, args.temporal_down, args.sandbox_down,
            workers=[s for s in stack.services if s.name == "worker"] + [second],
        )  # fmt: skip
        async with httpx.AsyncClient(timeout=30) as http:
            traffic = ChaosTraffic(settings, client, http)
            counts = share(args.scenario, args.orders)
            await traffic.prepare(counts)
            await reconcile_now(client, replace(settings, inventory_reconcile_settle_minutes=0))
            await traffic.stock(counts)
            started = time.monotonic()
            await chaos.set_faults(http)
            stop = asyncio.Event()
            disruptions = [
                asyncio.create_task(chaos.kill_workers(stop)),
                asyncio.create_task(chaos.restart_temporal(args.temporal_at)),
                asyncio.create_task(chaos.partner_outage(http, args.sandbox_at)),
            ]
            sending = asyncio.create_task(traffic.send(counts))
            await sending
            await asyncio.gather(*disruptions[1:], *traffic.late)
            stop.set()
            await disruptions[0]  # the faults stay on until everything settled
            console.print(
                f"sent in {time.monotonic() - started:.0f} s; {chaos.kills} worker kills; "
                "waiting for every workflow to settle"
            )
            views = await settled(client, settings, traffic.watched, args.timeout)
            await http.delete(f"{settings.sandbox_url}/_sandbox/faults")
            run = Run(
                settings=settings,
                client=client,
                http=http,
                views=views,
                deliveries=traffic.deliveries,
            )
            checks = await check(run)
        print_checks(console, checks, time.monotonic() - started)
        return 0 if all(c.ok for c in checks) else 1
    finally:
        stack.stop()
        temporal.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", choices=SCENARIOS, default="mixed")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--error-rate", type=float, default=0.1)
    parser.add_argument("--throttle-rate", type=float, default=0.1)
    parser.add_argument("--lose-rate", type=float, default=0.05)
    parser.add_argument("--kill-every", type=float, default=15, help="0: no kills")
    parser.add_argument("--temporal-at", type=float, default=45, help="s after traffic starts")
    parser.add_argument("--temporal-down", type=float, default=40, help="0: no restart")
    parser.add_argument("--sandbox-at", type=float, default=120, help="s after traffic starts")
    parser.add_argument("--sandbox-down", type=float, default=20, help="0: no outage")
    parser.add_argument("--timeout", type=float, default=1800, help="s to settle after sending")
    exit_process(asyncio.run(main(parser.parse_args())))
