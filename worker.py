"""Runs the order worker: `python worker.py` (settings from the environment / .env)."""

import asyncio
import logging
import signal

from temporalio.worker import Worker

from activities.order_to_cash import order_activities
from adapters.registry import build_adapters
from infra.settings import Settings
from infra.temporal import connect
from workflows.order_to_cash import OrderToCashWorkflow


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()
    client = await connect(settings)
    adapters = build_adapters(settings)
    worker = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[OrderToCashWorkflow],
        activities=order_activities(adapters),
    )
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        async with worker:  # shuts down gracefully, letting running activities finish
            await stop.wait()
    finally:
        await adapters.aclose()


if __name__ == "__main__":
    asyncio.run(main())
