"""Activity bundle of the order sagas (order-to-cash and its shipment groups, click-and-collect,
returns), bound to one set of adapters and the inventory."""

from collections.abc import Callable
from typing import Any

from activities.dropship import DropShipActivities
from activities.inventory import InventoryActivities
from activities.notification import NotificationActivities
from activities.store import StoreActivities
from activities.tax import TaxActivities
from activities.wms import WmsActivities
from adapters.registry import Adapters


def order_activities(
    adapters: Adapters, inventory: InventoryActivities
) -> list[Callable[..., Any]]:
    """Every activity of the order sagas served on the main queue (and the reconciliation's
    WMS count); ERP and channel calls have queues of their own."""
    tax = TaxActivities(adapters.tax)
    wms = WmsActivities(adapters.wms)
    supplier = DropShipActivities(adapters.supplier)
    stores, notifications = (
        StoreActivities(adapters.stores),
        NotificationActivities(adapters.notifier),
    )
    return [
        *inventory.activities(),
        tax.quote_tax,
        tax.commit_tax,
        tax.void_tax,
        tax.refund_tax,
        wms.request_fulfillment,
        wms.cancel_fulfillment,
        wms.order_shipments,
        wms.wms_stock_levels,
        wms.create_return_label,
        wms.void_return_label,
        supplier.request_dropship,
        supplier.cancel_dropship,
        supplier.dropship_shipments,
        stores.create_pick_task,
        stores.cancel_pick_task,
        stores.store_shipments,
        stores.store_collection,
        stores.hand_over,
        notifications.notify_customer,
    ]
