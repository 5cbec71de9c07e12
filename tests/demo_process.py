"""`starter.py demo …` as a person runs it, on its own Temporal dev server, ports and data."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from cli.stack import DEV_SERVER_CONFIG
from infra.build import PROJECT_ROOT
from infra.processes import Service, binary, free_port


@asynccontextmanager
async def demo_process(
    data_dir: Path, args: list[str], worker_port: int = 0, webhooks_port: int = 0
) -> AsyncIterator[Service]:
    """The demo running; stopped at the end as Ctrl-C stops it (its stack's services in
    order), with its dev server."""
    server = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=DEV_SERVER_CONFIG,
    )
    env = {
        "TEMPORAL_ADDRESS": server.client.service_client.config.target_host,
        "DATA_DIR": str(data_dir),  # its inbox, keys and logs
        "SANDBOX_URL": f"http://127.0.0.1:{free_port()}",
        "WEBHOOKS_PORT": str(webhooks_port or free_port()),
        "CODEC_PORT": str(free_port()),
        "WORKER_METRICS_PORT": str(worker_port or free_port()),
        "COLUMNS": "200",  # its tables whole in the output
    }
    starter = Service("demo", [sys.executable, str(PROJECT_ROOT / "starter.py"), "demo", *args],
                      env, data_dir)  # fmt: skip
    try:
        yield starter
    finally:
        await asyncio.to_thread(starter.stop, 60)
        await server.shutdown()
