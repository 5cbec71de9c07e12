"""Every recorded history must still replay against today's workflow code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.amazon_return_poll import AmazonReturnPollWorkflow
from workflows.click_and_collect import ClickAndCollectWorkflow
from workflows.inventory_publisher import InventoryPublisherWorkflow
from workflows.inventory_reconciliation import InventoryReconciliationWorkflow
from workflows.order_to_cash import OrderToCashWorkflow
from workflows.pos_day import PosDayWorkflow
from workflows.returns import ReturnWorkflow
from workflows.shipment_group import ShipmentGroupWorkflow
from workflows.walmart_poll import WalmartOrderPollWorkflow
from workflows.walmart_return_poll import WalmartReturnPollWorkflow

FOLDER = Path(__file__).parent / "histories"
HISTORIES = sorted(p for p in FOLDER.glob("*__*.json"))
WORKFLOW_IDS: dict[str, str] = json.loads((FOLDER / "workflow_ids.json").read_text())


WORKFLOWS = [
    OrderToCashWorkflow,
    PosDayWorkflow,
    WalmartOrderPollWorkflow,
    InventoryPublisherWorkflow,
    InventoryReconciliationWorkflow,
    ClickAndCollectWorkflow,
    ShipmentGroupWorkflow,
    ReturnWorkflow,
    WalmartReturnPollWorkflow,
    AmazonReturnPollWorkflow,
]


def test_every_workflow_type_has_recorded_histories() -> None:
    names = {path.stem.split("__", 1)[0] for path in HISTORIES}
    assert names == {
        "order_to_cash",
        "pos_day",
        "walmart_poll",
        "inventory_publisher",
        "inventory_reconciliation",
        "click_and_collect",
        "shipment_group",
        "returns",
        "walmart_return_poll",
        "amazon_return_poll",
    }


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_history_replays(path: Path) -> None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    workflow_id = WORKFLOW_IDS[path.stem]
    result = await replayer.replay_workflow(
        WorkflowHistory.from_json(workflow_id, path.read_text())
    )
    assert result.replay_failure is None
