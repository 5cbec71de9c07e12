"""Task queue names shared by workflows and workers."""

from canonical import Channel


def channel_task_queue(base: str, channel: Channel | str) -> str:
    """Each channel's calls have their own queue, so its worker can hold them to the channel's
    documented rate (`max_task_queue_activities_per_second`) for every worker at once."""
    return f"{base}.{Channel(channel).value}"


def erp_task_queue(base: str) -> str:
    """ERP calls have their own queue: its worker holds them to the ERP's quota (concurrent
    calls and calls per second), so a burst or a backlog replay queues here, not at the ERP."""
    return f"{base}.erp"


def inventory_task_queue(base: str, channel: Channel | str) -> str:
    """Availability pushes of a channel: their own queue, held to the rate of the channel's
    inventory API (often not the rate of its order APIs)."""
    return f"{base}.{Channel(channel).value}.inventory"


def catalog_task_queue(base: str, channel: Channel | str) -> str:
    """Catalogue publication to a channel: its own queue, held to the rate of the channel's
    catalogue APIs (listings, products, feeds)."""
    return f"{base}.{Channel(channel).value}.catalog"
