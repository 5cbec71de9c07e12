"""One running Tryton: a PostgreSQL cluster holding the seeded database, and `trytond`.

Creating a Tryton database (`trytond-admin`, about 70 s here) dominates everything else, so
it happens once per package list, seed script, catalogue and year: the seeded database is
kept as a `pg_dump` under `.data/tryton/cache/` and restored (about a second) on every start."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from adapters.tryton import DISCOUNT_PRODUCT, SHIPPING_PRODUCT, TrytonSettings
from infra.postgres import PostgresCluster
from infra.processes import Service, free_port, wait_until
from infra.settings import DATA_DIR, Settings
from sandbox.catalog import CATALOG, ITEM_MASTER
from sandbox.netsuite_items import MARKETPLACE_MARKUP, PARENTS
from tryton_local.install import MODULES, ensure_venv, packages_hash

ROOT = DATA_DIR / "tryton"
DATABASE = "retail"
ADMIN_USER = "admin"
ADMIN_PASSWORD = "admin"
SEED_SCRIPT = Path(__file__).with_name("seed_database.py")
STOCK_PER_ITEM = 10_000


def catalogue() -> dict[str, object]:
    """The ERP's item master as the seed makes it: what the channels sell (with stock), the
    items not listed yet, variants of one product under one template, and the services."""
    listed = {item.sku for item in CATALOG}
    items: list[dict[str, object]] = [
        {"sku": item.sku, "title": item.title, "price": str(item.price), "cost": str(item.cost),
         "gtin": item.gtin, "brand": item.brand, "material": item.material, "color": item.color,
         "template": PARENTS.get(item.parent, ""), "stock": item.sku in listed}
        for item in ITEM_MASTER
    ]  # fmt: skip
    for sku, title in ((SHIPPING_PRODUCT, "Shipping"), (DISCOUNT_PRODUCT, "Order discount")):
        items.append({"sku": sku, "title": title, "price": "0", "type": "service"})
    return {"items": items, "stock": STOCK_PER_ITEM, "marketplace_markup": str(MARKETPLACE_MARKUP)}


def _cache_key() -> str:
    seed = SEED_SCRIPT.read_text()
    parts = [packages_hash(), seed, json.dumps(catalogue()), str(date.today().year)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def _config(path: Path, database_url: str, port: int) -> Path:
    path.write_text(
        f"[web]\nlisten = 127.0.0.1:{port}\n\n[database]\nuri = {database_url}\nlanguage = en\n"
    )
    return path


Progress = Callable[[str], None]
TICK = 10.0  # seconds between "still at it" lines of a long step


def quiet(_: str) -> None:
    """No progress lines (tests, benchmarks)."""


def run_step(args: list[str], what: str, progress: Progress, **options: Any) -> None:
    """`subprocess.run(args, check=True)`, saying every `TICK` seconds that `what` goes on."""
    started = time.monotonic()
    with subprocess.Popen(args, **options) as process:
        while True:
            try:
                code = process.wait(timeout=TICK)
                break
            except subprocess.TimeoutExpired:
                progress(f"  … {what}: {time.monotonic() - started:.0f} s")
    if code:
        raise subprocess.CalledProcessError(code, args)


def seeded_dump(root: Path = ROOT, progress: Progress = quiet) -> Path:
    """The cached dump of a created and seeded database; built when missing."""
    dump = root / "cache" / f"seeded-{_cache_key()}.dump"
    if dump.exists():
        return dump
    bin_dir = ensure_venv(root / "venv", progress)
    build = root / "build"
    shutil.rmtree(build, ignore_errors=True)
    cluster = PostgresCluster(build / "pg", free_port())
    cluster.start()
    try:
        cluster.create_database(DATABASE)
        config = _config(build / "trytond.conf", cluster.url, free_port())
        (build / "passfile").write_text(ADMIN_PASSWORD)
        (build / "catalogue.json").write_text(json.dumps(catalogue()))
        env = {**os.environ, "TRYTONPASSFILE": str(build / "passfile")}
        log_path = build / "admin.log"
        with log_path.open("wb") as log, _explained(log_path):
            progress("creating the Tryton database with its modules (first run only, ~70 s)…")
            run_step(
                [str(bin_dir / "trytond-admin"), "-c", str(config), "-d", DATABASE,
                 "--email", "admin@example.com", "-u", *MODULES, "--activate-dependencies"],
                "creating the database", progress,
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip
            progress("seeding the company, items, stock and customers…")
            run_step(
                [str(bin_dir / "python"), str(SEED_SCRIPT), DATABASE, str(config),
                 str(build / "catalogue.json")],
                "seeding", progress, env=env, stdout=log, stderr=log,
            )  # fmt: skip
        progress(f"keeping the seeded database for the next starts ({dump.parent})")
        dump.parent.mkdir(parents=True, exist_ok=True)
        cluster.dump(DATABASE, dump.with_suffix(".tmp"))
        dump.with_suffix(".tmp").rename(dump)
        for old in dump.parent.glob("seeded-*.dump"):
            if old != dump:
                old.unlink()
    finally:
        cluster.stop()
    shutil.rmtree(build, ignore_errors=True)
    return dump


@contextlib.contextmanager
def _explained(log_path: Path) -> Iterator[None]:
    """A failed database creation says why (the end of its log), not just an exit status."""
    try:
        yield
    except subprocess.CalledProcessError as exc:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
        raise RuntimeError(f"creating the Tryton database failed ({exc}):\n{tail}") from exc


@dataclass
class TrytonInstance:
    """`trytond` on `port` over its own cluster in `directory`. A directory that already holds
    the database keeps its data (an ERP remembers); a new one starts from the seeded dump."""

    directory: Path
    port: int = field(default_factory=free_port)
    pg_port: int = field(default_factory=free_port)
    root: Path = ROOT
    nice: int = 0  # a benchmark runs the ERP as if on a machine of its own
    server: Service | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pidfile(self) -> Path:
        return self.directory / "trytond.pid"

    @property
    def cluster(self) -> PostgresCluster:
        return PostgresCluster(self.directory / "pg", self.pg_port)

    def start(self, progress: Progress = quiet) -> None:
        dump = seeded_dump(self.root, progress)
        bin_dir = ensure_venv(self.root / "venv", progress)
        self.directory.mkdir(parents=True, exist_ok=True)
        cluster = self.cluster
        fresh = not (cluster.data / "PG_VERSION").exists()
        seeded_from = self.directory / "seeded-from"  # the dump the kept database came from
        stale = not fresh and (
            not seeded_from.exists() or seeded_from.read_text().strip() != dump.name
        )
        progress(f"starting PostgreSQL on port {self.pg_port}…")
        cluster.start()
        try:
            if stale:
                progress(
                    "the kept database predates Tryton's modules or seed of this version: "
                    "starting again from the seeded one…"
                )
                cluster.drop_database(DATABASE)
            if fresh or stale:
                progress("restoring the seeded database…")
                cluster.restore(DATABASE, dump)
                seeded_from.write_text(dump.name)
            progress(f"starting trytond on {self.url}…")
            config = _config(self.directory / "trytond.conf", cluster.url, self.port)
            self.server = Service(
                "trytond",
                [str(bin_dir / "trytond"), "-c", str(config), "-d", DATABASE,
                 "--pidfile", str(self.pidfile)],
                {}, self.directory, self.nice,
            )  # fmt: skip
            wait_until(self.answering, f"trytond on {self.url}", self.server, timeout=60)
        except BaseException:
            self.stop()
            raise

    def answering(self) -> bool:
        body = {"id": 0, "method": "common.server.version", "params": []}
        return httpx.post(f"{self.url}/rpc/", json=body, timeout=2).status_code == 200

    def stop(self) -> None:
        """Stop what this instance started, also from another process (`make tryton-stop`)."""
        if self.server is not None:
            self.server.stop()
        elif self.pidfile.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(self.pidfile.read_text().strip()), signal.SIGTERM)
        self.pidfile.unlink(missing_ok=True)
        self.cluster.stop()


def local_instance(settings: Settings) -> TrytonInstance:
    """The long-lived Tryton of `make tryton` and the demo: on TRYTON_URL's port, its data in
    `.data/tryton/run/` (kept between runs, like any ERP's), PostgreSQL on TRYTON_PG_PORT."""
    return TrytonInstance(
        ROOT / "run",
        port=urlsplit(TrytonSettings.from_env(settings.env).url).port or 80,
        pg_port=int(os.environ.get("TRYTON_PG_PORT", "5439")),
    )
