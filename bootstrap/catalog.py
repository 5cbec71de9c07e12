"""The catalogue settings a worker runs with — the channels it publishes to and how each lists
the ERP's items — read and checked at start."""

from __future__ import annotations

from bootstrap.channels import unknown_channels
from canonical import Channel
from catalog.mapping import CATALOG_CHANNELS, ChannelMapping, MappingError, load_mappings
from infra.settings import Settings


def catalog_channels(settings: Settings) -> list[Channel]:
    names = settings.catalog_channels
    if why := unknown_channels("CATALOG_CHANNELS", names, CATALOG_CHANNELS, "catalogue"):
        raise MappingError(why)
    return [Channel(name) for name in settings.catalog_channels]


def catalog_mappings(settings: Settings) -> dict[Channel, ChannelMapping]:
    """Every channel's mapping (`CATALOG_MAPPINGS` or the bundled ones), checked; `MappingError`
    (one sentence) when one cannot be used or CATALOG_CHANNELS names another channel."""
    catalog_channels(settings)
    return load_mappings(settings.catalog_mappings)
