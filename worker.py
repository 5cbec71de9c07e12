"""Runs the order worker: `python worker.py` (settings from the environment / .env)."""

import sys

# The workflow sandbox re-imports workflow modules for every run: without .pyc files (e.g. under
# PYTHONDONTWRITEBYTECODE) it recompiles their source each time, a quarter of its cost.
sys.dont_write_bytecode = False

import asyncio  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402

from adapters.registry import build_adapters  # noqa: E402
from bootstrap.workers import running_workers  # noqa: E402
from infra.settings import Settings  # noqa: E402
from infra.temporal import connect  # noqa: E402


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per partner call is noise
    settings = Settings.from_env()
    client = await connect(settings)
    adapters = build_adapters(settings)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    try:
        async with running_workers(client, settings, adapters):
            await stop.wait()
    finally:
        await adapters.aclose()


if __name__ == "__main__":
    asyncio.run(main())
