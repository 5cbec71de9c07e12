"""A simple zone table: distance between a node and a destination, as carriers' zones grow
with distance. US ZIP codes start with a region digit (0 = New England … 9 = the West Coast);
the zone is 2 plus the regions apart. Another country is zone 9, an unknown address zone 8."""

from __future__ import annotations

from canonical.address import Address

UNKNOWN = 8
ABROAD = 9


def _region(country: str, postal_code: str | None) -> int | None:
    if country == "US" and postal_code and postal_code[:1].isdigit():
        return int(postal_code[0])
    return None


def zone(node_country: str, node_postal_code: str, destination: Address | None) -> int:
    if destination is None:
        return UNKNOWN
    if destination.country != node_country:
        return ABROAD
    origin = _region(node_country, node_postal_code)
    target = _region(destination.country, destination.postal_code)
    if origin is None or target is None:
        return UNKNOWN
    return 2 + abs(origin - target)
