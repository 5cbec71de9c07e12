"""Worker Versioning on the dev server: the workers are one build of the deployment, made
current as an operator would; long-lived runs auto-upgrade, short ones stay pinned."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from importlib import metadata
from typing import Any

import httpx
import pytest
from temporalio.api.enums.v1 import VersioningBehavior
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from adapters.shopify import order_from_webhook
from infra.build import PROJECT_ROOT, build_id
from sandbox.shipstation import AutoShip
from services.orders import start_order
from testing.harness import Harness, order_harness
from workflows.walmart_poll import WalmartOrderPollWorkflow


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    async with order_harness(dev_env.client, autoship=AutoShip(after_seconds=0.3)) as harness:
        yield harness


async def versioning(handle: WorkflowHandle[Any, Any]) -> tuple[int, str, str]:
    info = (await handle.describe()).raw_description.workflow_execution_info.versioning_info
    version = info.deployment_version
    return info.behavior, version.deployment_name, version.build_id


async def test_an_order_runs_on_this_build_and_auto_upgrades(stack: Harness) -> None:
    body = httpx.post(f"{stack.settings.sandbox_url}/_sandbox/shopify/orders", json={}).json()
    order = order_from_webhook(body[0])
    handle = await start_order(stack.client, stack.settings, order)
    await handle.result()
    assert await versioning(handle) == (
        VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE,
        stack.settings.worker_deployment_name,
        stack.settings.worker_build_id,
    )


async def test_a_poll_is_pinned_to_the_build_it_started_on(stack: Harness) -> None:
    handle = await stack.client.start_workflow(
        WalmartOrderPollWorkflow.run, id="walmart-poll-pinned", task_queue=stack.settings.task_queue
    )
    await handle.result()
    behavior, _, build = await versioning(handle)
    assert behavior == VersioningBehavior.VERSIONING_BEHAVIOR_PINNED
    assert build == stack.settings.worker_build_id


def test_the_build_id_is_the_package_version_and_the_git_revision() -> None:
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    version, _, revision = build_id().partition("+")
    assert version == metadata.version("retail-orchestrator")
    assert head.startswith(revision.removesuffix(".dirty")) and len(revision) >= 12
