"""`starter.py demo --scenario catalog --exit` as a person runs it: the catalogue published to
the three sandbox channels, the diffuser refused as a listing exception on each, the sale
started and ended on each channel, and a Shopify customer who asked to be forgotten leaves
nothing readable in the inbox, the ERP or the Web UI."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.demo_process import demo_process


async def test_the_catalog_demo_publishes_refuses_one_and_runs_the_sale(tmp_path: Path) -> None:
    async with demo_process(tmp_path, ["--scenario", "catalog", "--exit"]) as demo:
        code = await asyncio.to_thread(demo.process.wait, 300)
        out = demo.log_path.read_text(errors="replace")
    assert code == 0, demo.tail(40)
    for channel in ("amazon", "shopify", "walmart"):
        assert f"│ {channel:<7} │    7 │         7 │      1 │       0 │         0 │" in out, out
        assert (
            f"listing exception {channel} DIFFUSER-REED-100: "
            "GTIN 0850012345740 has a wrong check digit"
        ) in out
    assert "The sale started on amazon (1 published), shopify (1 published), walmart" in out
    assert "The sale ended on amazon (1 published), shopify (1 published), walmart" in out
    flat = " ".join(out.split())
    assert "deliveries emptied, ERP record" in flat and "1 data key destroyed" in flat
    assert (
        "Left of them: inbox nothing readable, ERP record nothing readable, Web UI nothing "
        "readable." in flat
    )
