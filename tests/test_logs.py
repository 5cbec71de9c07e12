"""Logs an operator can search: one JSON object per line carrying the workflow and activity
ids, one line per order transition, an expected retry as one warning line (no traceback),
no colour codes, files that rotate."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.errors import partner_call
from adapters.errors import TransientError
from infra.logs import configure_logging
from sandbox.shipstation import AutoShip
from testing.harness import completed_sandbox_order, order_harness


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """The process's logging sent to a file for the test, put back afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    flags = (workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message)
    path = tmp_path / "logs" / "worker.log"
    yield path
    for handler in root.handlers:
        handler.close()
    root.handlers[:], root.level = saved
    workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message = flags


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_an_expected_retry_is_one_warning_line(log_file: Path) -> None:
    configure_logging("worker", log_file=str(log_file))

    @activity.defn
    async def flaky() -> None:
        with partner_call():
            raise TransientError("netsuite", "POST /record/v1/salesOrder: HTTP 503")

    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, activity_type="fulfil_sales_order", attempt=3)
    with pytest.raises(ApplicationError) as raised:
        await env.run(flaky)
    assert raised.value.category is ApplicationErrorCategory.BENIGN  # the SDK logs no traceback
    (line,) = lines(log_file)
    assert line["level"] == "WARNING" and line["service"] == "worker"
    assert line["message"] == "netsuite: POST /record/v1/salesOrder: HTTP 503: retried"
    assert (line["activity"], line["attempt"]) == ("fulfil_sales_order", 3)
    assert "exc_info" not in line and "Traceback" not in log_file.read_text()


def test_log_files_rotate(log_file: Path) -> None:
    configure_logging("webhooks", log_file=str(log_file), rotate_bytes=2_000)
    for n in range(100):
        logging.getLogger("webhooks").info("delivery %d taken", n)
    assert log_file.with_name("worker.log.1").exists()
    assert lines(log_file)[-1]["message"] == "delivery 99 taken"


async def test_an_order_can_be_followed_by_its_id(
    dev_env: WorkflowEnvironment, log_file: Path
) -> None:
    configure_logging("worker", log_file=str(log_file))
    async with order_harness(dev_env.client, autoship=AutoShip(after_seconds=0.2)) as h:
        order, handle = await completed_sandbox_order(h)
    text = log_file.read_text()
    assert "\x1b[" not in text  # no colour codes
    mine = [line for line in lines(log_file) if line.get("workflow_id") == handle.id]
    transitions = [line["message"] for line in mine if " -> " in line["message"]]
    assert transitions[0].startswith(f"{order.key} RECEIVED -> RECEIVED at validate")
    assert transitions[-1].startswith(f"{order.key} SHIPPED -> COMPLETED")
    assert all(line["run_id"] and line["workflow_type"] == "OrderToCashWorkflow" for line in mine)
