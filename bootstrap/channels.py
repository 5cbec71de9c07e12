"""A setting that names channels, checked against those it may name."""

from __future__ import annotations

from collections.abc import Iterable

from canonical import Channel


def unknown_channels(
    setting: str, names: Iterable[str], allowed: Iterable[Channel], lacking: str
) -> str | None:
    """Why `setting` cannot name these channels (they have no `lacking`), or None."""
    known = {channel.value for channel in allowed}
    unknown = sorted(set(names) - known)
    if not unknown:
        return None
    return (
        f"{setting}: {', '.join(unknown)} has no {lacking}; choose among {', '.join(sorted(known))}"
    )
