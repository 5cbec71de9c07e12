"""Task queue names shared by workflows and workers."""

from canonical import Channel


def channel_task_queue(base: str, channel: Channel | str) -> str:
    """Each channel's calls have their own queue, so its worker can hold them to the channel's
    documented rate (`max_task_queue_activities_per_second`) for every worker at once."""
    return f"{base}.{Channel(channel).value}"
