"""Tryton's own virtual environment: its pinned packages never meet the project's."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

PACKAGES = [
    "trytond[postgresql]==8.2.*",
    "proteus==8.2.*",
    "trytond-sale==8.2.*",
    "trytond-stock==8.2.*",
    "trytond-account-invoice==8.2.*",
    "trytond-account-invoice-stock==8.2.*",
    "trytond-web-shop==8.2.*",
    "trytond-sale-amendment==8.2.*",  # reduce lines of a sale in process (partial cancel)
    "trytond-sale-price-list==8.2.*",  # price lists (the channels' "Base Price", "Marketplace")
    "trytond-product-price-list-dates==8.2.*",  # a price list line from a date to a date (sales)
    "trytond-product-attribute==8.2.*",  # brand, material, colour
    "psycopg[binary]>=3.1,<4",  # Tryton 8 speaks psycopg 3
]
MODULES = [
    "sale", "web_shop", "account_invoice_stock", "sale_amendment", "sale_price_list",
    "product_price_list_dates", "product_attribute",
]  # fmt: skip


def packages_hash() -> str:
    return hashlib.sha256("\n".join(PACKAGES).encode()).hexdigest()[:12]


def ensure_venv(venv: Path, progress: Callable[[str], None] = lambda _: None) -> Path:
    """Create or update the environment when the package list changed; returns its bin dir."""
    marker = venv / f".installed-{packages_hash()}"
    bin_dir = venv / "bin"
    if marker.exists():
        return bin_dir
    progress(f"installing Tryton's packages into {venv} (first run only)…")
    if not (bin_dir / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", *PACKAGES], check=True
    )
    for old in venv.glob(".installed-*"):
        old.unlink()
    marker.touch()
    return bin_dir
