"""Every workflow type, for the worker that runs them and the replay of recorded histories, and
the sandbox they run in."""

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows.amazon_return_poll import AmazonReturnPollWorkflow
from workflows.catalog_publish import CatalogPublishWorkflow
from workflows.click_and_collect import ClickAndCollectWorkflow
from workflows.inventory_publisher import InventoryPublisherWorkflow
from workflows.inventory_reconciliation import InventoryReconciliationWorkflow
from workflows.order_to_cash import OrderToCashWorkflow
from workflows.pos_day import PosDayWorkflow
from workflows.price_change import PriceChangeWorkflow
from workflows.privacy_request import PrivacyRequestWorkflow
from workflows.returns import ReturnWorkflow
from workflows.settlement import SettlementWorkflow
from workflows.settlement_import import SettlementImportWorkflow
from workflows.shipment_group import ShipmentGroupWorkflow
from workflows.walmart_poll import WalmartOrderPollWorkflow
from workflows.walmart_return_poll import WalmartReturnPollWorkflow

WORKFLOWS: list[type] = [
    OrderToCashWorkflow,
    ClickAndCollectWorkflow,
    ShipmentGroupWorkflow,
    ReturnWorkflow,
    PosDayWorkflow,
    WalmartOrderPollWorkflow,
    WalmartReturnPollWorkflow,
    AmazonReturnPollWorkflow,
    InventoryPublisherWorkflow,
    InventoryReconciliationWorkflow,
    SettlementImportWorkflow,
    SettlementWorkflow,
    CatalogPublishWorkflow,
    PriceChangeWorkflow,
    PrivacyRequestWorkflow,
]

# Canonical customers work out who they are (their digest) when serialized, in workflows too:
# the validators' modules, loaded lazily, are shared with the sandbox rather than re-imported
# into each run.
RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "email_validator", "idna", "phonenumbers"
    )
)
