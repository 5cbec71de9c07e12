"""Runs the order worker: `python worker.py` (settings from the environment / .env)."""

import sys

# The workflow sandbox re-imports workflow modules for every run: without .pyc files (e.g. under
# PYTHONDONTWRITEBYTECODE) it recompiles their source each time, a quarter of its cost.
sys.dont_write_bytecode = False

import asyncio  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402

from adapters.registry import build_adapters  # noqa: E402
from bootstrap.catalog import catalog_mappings  # noqa: E402
from bootstrap.probe import worker_probe  # noqa: E402
from bootstrap.secrets import may_start  # noqa: E402
from bootstrap.settlements import settlement_accounts  # noqa: E402
from bootstrap.workers import running_workers  # noqa: E402
from catalog.mapping import MappingError  # noqa: E402
from infra.processes import exit_process  # noqa: E402
from infra.settings import Settings  # noqa: E402
from infra.temporal import connect_when_up  # noqa: E402
from settlements.accounts import AccountMapError  # noqa: E402

log = logging.getLogger("worker")


async def main() -> int:
    settings = Settings.from_env()
    metrics = settings.worker_metrics_port
    if not may_start("worker", settings, f"{settings.probe_host}:{metrics}" if metrics else None):
        return 1
    try:  # checked before anything starts
        settlement_accounts(settings)
        catalog_mappings(settings)
    except (AccountMapError, MappingError) as exc:
        log.error("%s", exc)
        return 1
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    # Started before Temporal (or while it restarts): wait for it instead of exiting.
    connecting = asyncio.create_task(connect_when_up(settings, log))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not connecting.done():
        connecting.cancel()
        return 0
    stopping.cancel()
    client = connecting.result()
    log.info("connected to Temporal at %s", settings.temporal_target)
    adapters = build_adapters(settings)
    try:
        async with (
            running_workers(client, settings, adapters),
            worker_probe(client, settings.probe_host, settings.worker_probe_port),
        ):
            await stop.wait()
    except OSError as exc:  # the probe's port is taken
        log.error("%s", exc)
        return 1
    finally:
        await adapters.aclose()
    return 0


if __name__ == "__main__":
    exit_process(asyncio.run(main()))
