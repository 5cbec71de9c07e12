"""Worker Versioning: making a build the current version of the deployment, as an operator
does with `temporal worker deployment set-current-version`. New runs start on it, auto-upgrade
runs move to it; pinned runs finish on the build they started on."""

from __future__ import annotations

import asyncio
import time

from temporalio.api.workflowservice.v1 import SetWorkerDeploymentCurrentVersionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from infra.settings import Settings

# Answers worth asking again: no worker of the version polls yet (or the server has not seen
# its deployment), or the server's own deployment bookkeeping was busy or cancelled the call
# (seen as CANCELLED "operation was canceled" while several deployments changed at once).
TRY_AGAIN = {
    RPCStatusCode.FAILED_PRECONDITION,
    RPCStatusCode.NOT_FOUND,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.ABORTED,
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
}


async def make_current(client: Client, settings: Settings, timeout: float = 60) -> None:
    """Make this process's build (`settings.worker_build_id`) the current version of
    `settings.worker_deployment_name` once its workers poll every task queue."""
    request = SetWorkerDeploymentCurrentVersionRequest(
        namespace=client.namespace,
        deployment_name=settings.worker_deployment_name,
        build_id=settings.worker_build_id,
        identity="retail-orchestrator",
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            await client.workflow_service.set_worker_deployment_current_version(request)
            return
        except RPCError as exc:
            if exc.status not in TRY_AGAIN or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)
