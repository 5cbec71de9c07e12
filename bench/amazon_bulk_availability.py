"""Many SKUs' availability changing at once on Amazon (a receipt, a reconciliation): one
`JSON_LISTINGS_FEED` of PATCH messages against one `patchListingsItem` per SKU (its usage plan:
5 a second), on the sandbox's Amazon, which applies a feed half a second after it is created
(Amazon itself takes minutes: see the README). Prints, per path: calls, seconds until Amazon
holds every new quantity, and the ratio. Target: the feed at least 10 times sooner.
Usage: python bench/amazon_bulk_availability.py [--skus 100]"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.amazon import PATCHES_AT_MOST
from adapters.registry import build_adapters
from canonical import Channel
from canonical.inventory import AvailableToSell
from infra.processes import bound_socket, port_of
from infra.settings import Settings
from sandbox.app import create_app
from testing.harness import UvicornThread


async def until_held(state: object, wanted: dict[str, int], began: float) -> float:
    """Seconds from `began` until the sandbox's Amazon holds every wanted quantity."""
    held = state.availability  # type: ignore[attr-defined]
    while any(held.get(sku) != quantity for sku, quantity in wanted.items()):
        await asyncio.sleep(0.01)
    return time.monotonic() - began


async def main(skus: int) -> int:
    sock = bound_socket()
    url = f"http://127.0.0.1:{port_of(sock)}"
    app = create_app(url)
    amazon_state, feeds = app.state.partners["amazon"], app.state.catalogs["amazon"]
    names = [f"BULK-{n:05d}" for n in range(skus)]
    amazon_state.listed.update(names)
    rows = []
    with UvicornThread(app, sock):
        adapters = build_adapters(Settings.from_env({"SANDBOX_URL": url}))
        amazon = adapters.marketplace(Channel.AMAZON)
        for path, quantity in (("one feed", 7), ("a patch per SKU", 8)):
            updates = [AvailableToSell(sku=s, quantity=quantity, push_id=path) for s in names]
            if path != "one feed":
                amazon.inventory_bulk_from = skus + 1  # the path without a feed
            feed_calls, pushes = feeds.calls, len(amazon_state.push_log.entries)
            began = time.monotonic()
            await amazon.set_available(updates)
            seconds = await until_held(amazon_state, {s: quantity for s in names}, began)
            # A feed's calls are the Feeds API's; each patch is one call (and one push).
            patches = len(amazon_state.push_log.entries) - pushes
            calls = feeds.calls - feed_calls if path == "one feed" else patches
            rows.append((path, calls, seconds))
        await adapters.aclose()
    ratio = rows[1][2] / rows[0][2]
    table = Table(title=f"{skus} SKUs' availability at once on Amazon (sandbox)")
    for column in ("path", "calls", "seconds until held", "SKUs a second"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for path, calls, seconds in rows:
        table.add_row(path, str(calls), f"{seconds:.2f}", f"{skus / seconds:.0f}")
    Console().print(table)
    print(f"feed {ratio:.0f}x sooner (target ≥ 10x)")
    return 0 if ratio >= 10 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=PATCHES_AT_MOST, help=f"1 to {PATCHES_AT_MOST}")
    args = parser.parse_args()
    if not 1 <= args.skus <= PATCHES_AT_MOST:
        parser.error(f"--skus: 1 to {PATCHES_AT_MOST} (more wait for a feed)")
    sys.exit(asyncio.run(main(args.skus)))
