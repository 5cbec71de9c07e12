"""How one channel lists the ERP's items: a TOML file per channel (`CATALOG_MAPPINGS`, a
folder, or the bundled `catalog/mappings/`), read and checked when the worker starts, so a
mapping that cannot work refuses the start instead of failing every listing later."""

from __future__ import annotations

import string
import tomllib
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from canonical import Channel
from canonical.catalog import CatalogItem, Listing, ListingRules

BUNDLED = Path(__file__).parent / "mappings"
CATALOG_CHANNELS = (Channel.SHOPIFY, Channel.AMAZON, Channel.WALMART)
FIELDS = {"title", "sku"}  # the item's own fields a title may name, besides its attributes


class MappingError(ValueError):
    """A mapping that cannot be used, with why."""


class ChannelMapping(BaseModel):
    price_list: str = Field(min_length=1)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    title: str = "{title}"
    required_attributes: list[str] = Field(default_factory=list)
    gtin_required: bool = False
    attributes: dict[str, str] = Field(
        default_factory=dict, description="channel attribute <- ERP attribute"
    )
    product_type: str | None = None

    @property
    def rules(self) -> ListingRules:
        return ListingRules(
            currency=self.currency,
            required_attributes=self.required_attributes,
            gtin_required=self.gtin_required,
        )

    def listing(self, channel: Channel, item: CatalogItem, at: datetime) -> Listing | str:
        """The item as this channel lists it at `at` (a scheduled price then in force), or why
        it cannot be (no price in the channel's price list: another list's is never used)."""
        price = item.price_at(self.price_list, at)
        if price is None:
            return f"no price in price list {self.price_list!r}"
        values = {"title": item.title, "sku": item.sku, **item.attributes}
        try:
            title = self.title.format_map(values)
        except KeyError as missing:
            return f"the title needs attribute {missing}, which the item lacks"
        return Listing(
            channel=channel,
            sku=item.sku,
            product_key=item.product_id,
            title=title,
            description=item.description,
            attributes={
                ours: item.attributes[theirs]
                for ours, theirs in self.attributes.items()
                if item.attributes.get(theirs)
            },
            options=item.options,
            gtin=item.gtin,
            price=price,
            weight_grams=item.weight_grams,
            product_type=self.product_type,
        )


def mapping_path(folder: Path | None, channel: Channel) -> Path:
    return (folder or BUNDLED) / f"{channel.value}.toml"


def load_mapping(path: Path) -> ChannelMapping:
    """The mapping, checked: its keys and types, the title's placeholders (the item's fields
    or mapped attributes), required attributes the file maps."""
    try:
        mapping = ChannelMapping.model_validate(tomllib.loads(path.read_text()))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"catalogue mapping {path}: {exc}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise MappingError(f"catalogue mapping {path}: {where}: {error['msg']}") from None
    names = {name for _, name, _, _ in string.Formatter().parse(mapping.title) if name}
    unknown = sorted(names - FIELDS - set(mapping.attributes.values()))
    unmapped = sorted(set(mapping.required_attributes) - set(mapping.attributes))
    problems = [f"the title names {', '.join(unknown)}, not an item field"] if unknown else []
    problems += [f"required {', '.join(unmapped)} not in [attributes]"] if unmapped else []
    if problems:
        raise MappingError(f"catalogue mapping {path}: {'; '.join(problems)}")
    return mapping


def load_mappings(folder: Path | None) -> dict[Channel, ChannelMapping]:
    return {channel: load_mapping(mapping_path(folder, channel)) for channel in CATALOG_CHANNELS}
