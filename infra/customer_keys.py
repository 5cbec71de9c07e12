"""One data key per customer, so their personal data can be made unreadable everywhere at once
(crypto-shredding): the payload codec seals a customer's payloads with their key as well as with
the payload keys, and an erasure destroys the key. What is left in Temporal's histories then
opens to nothing, however many copies the history store, its backups and exports hold.

A customer is named by their reference (`cust-…`, a digest: no personal data). The keys are
random, stored in our database wrapped (sealed) by the payload keys, so the database alone
reveals nothing. Which workflows concern which customer is kept beside them: an order's first
payload names its customer, and the payloads that follow (an address for the carrier, an e-mail
for a notification) are sealed with the same key even when they do not name them."""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, LargeBinary, func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel

from infra.database import TableStore, create_engine_for
from infra.keyring import KEY_BYTES, Keyring


class CustomerKeyRow(SQLModel, table=True):
    """A customer's key of one generation: a customer who comes back after an erasure gets a
    new generation, which never opens what the destroyed one sealed."""

    __tablename__ = "customer_key"

    customer_ref: str = Field(primary_key=True)
    generation: int = Field(primary_key=True)
    wrapped_by: str | None = None  # the payload key that sealed `wrapped`; None once destroyed
    wrapped: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime
    destroyed_at: datetime | None = None


class KeySubjectRow(SQLModel, table=True):
    """The customer a workflow (and the workflows it started, `id~…`) concerns."""

    __tablename__ = "customer_key_subject"

    workflow_id: str = Field(primary_key=True)
    customer_ref: str = Field(index=True)


KEYS = CustomerKeyRow.__table__  # type: ignore[attr-defined]
SUBJECTS = KeySubjectRow.__table__  # type: ignore[attr-defined]


class CustomerErased(LookupError):
    """The customer's key was destroyed: what it sealed is gone for good."""

    def __init__(self, customer_ref: str) -> None:
        super().__init__(f"customer {customer_ref} was erased at their request")
        self.customer_ref = customer_ref


CACHED_AT_MOST = 50_000  # entries a process keeps of keys, and of workflows' customers


def remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    """Keep `value`, forgetting the oldest entry beyond `CACHED_AT_MOST` (a worker runs for
    months through millions of orders)."""
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > CACHED_AT_MOST:
        cache.popitem(last=False)


def root_workflow(workflow_id: str) -> str:
    """The workflow a child or a retried run belongs to (`order-shopify-1~g1` → its order)."""
    return workflow_id.split("~", 1)[0]


class CustomerKeys(TableStore):
    """`cache_seconds`: how long a process keeps a key it read (workers seal many payloads of
    one order in a row); an erasure reaches every process within it. 0: read every time."""

    tables = [KEYS, SUBJECTS]

    def __init__(self, engine: Engine, keyring: Keyring, cache_seconds: float = 30.0) -> None:
        super().__init__(engine)
        self.keyring = keyring
        self._cache_seconds = cache_seconds
        self._keys: OrderedDict[tuple[str, int | None], tuple[float, int, bytes]] = OrderedDict()
        self._subjects: OrderedDict[str, str] = OrderedDict()  # never changes once written
        self._guard = threading.Lock()

    def key(self, customer_ref: str) -> tuple[int, bytes]:
        """(generation, key) that seals the customer's payloads now, made on first use."""
        return self._held(customer_ref, None) or self._kept(
            customer_ref, None, self._create(customer_ref)
        )

    def existing_key(self, customer_ref: str, generation: int) -> bytes:
        """The key that sealed it: `CustomerErased` when destroyed."""
        found = self._held(customer_ref, generation)
        if found is None:
            raise CustomerErased(customer_ref)
        return found[1]

    def _held(self, customer_ref: str, generation: int | None) -> tuple[int, bytes] | None:
        """(generation, key) from the cache, else from the table (then cached, for
        `cache_seconds` from now: a hit never extends it); None if neither holds it."""
        cached = self.cached_key(customer_ref, generation)
        if cached is not None:
            return cached
        found = self._read(customer_ref, generation)
        return found and self._kept(customer_ref, generation, found)

    def _kept(
        self, customer_ref: str, generation: int | None, found: tuple[int, bytes]
    ) -> tuple[int, bytes]:
        with self._guard:
            remember(self._keys, (customer_ref, generation), (time.monotonic(), *found))
        return found

    def destroy(self, customer_ref: str) -> int:
        """Destroy the customer's keys for good (an erasure); how many were live."""
        with self._lock, self.engine.begin() as conn:
            done: int = conn.execute(
                update(KEYS)
                .where(KEYS.c.customer_ref == customer_ref, KEYS.c.destroyed_at.is_(None))
                .values(wrapped=b"", wrapped_by=None, destroyed_at=datetime.now(UTC))
            ).rowcount
        with self._guard:
            for cached in [k for k in self._keys if k[0] == customer_ref]:
                del self._keys[cached]
        return done

    def destroyed(self, customer_ref: str) -> bool:
        """Whether the customer had keys and none is left."""
        with self.engine.connect() as conn:
            states = [
                row.destroyed_at is not None
                for row in conn.execute(
                    select(KEYS.c.destroyed_at).where(KEYS.c.customer_ref == customer_ref)
                )
            ]
        return bool(states) and all(states)

    def subject(self, workflow_id: str) -> str | None:
        """The customer the workflow's tree concerns, if a payload of it named one."""
        root = root_workflow(workflow_id)
        with self._guard:
            if root in self._subjects:
                return self._subjects[root]
        with self.engine.connect() as conn:
            found = conn.execute(
                select(SUBJECTS.c.customer_ref).where(SUBJECTS.c.workflow_id == root)
            ).scalar()
        if found is not None:
            with self._guard:
                remember(self._subjects, root, found)
        return found

    def assign(self, workflow_id: str, customer_ref: str) -> None:
        """The workflow's tree concerns this customer (the first one named wins)."""
        root = root_workflow(workflow_id)
        if self.subject(root) is not None:  # a read: another process (the client) wrote it
            return
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                self._dialect.insert(SUBJECTS)
                .values(workflow_id=root, customer_ref=customer_ref)
                .on_conflict_do_nothing(index_elements=["workflow_id"])
            )
        self.subject(root)

    def workflows(self, customer_ref: str) -> list[str]:
        """The workflows (roots) whose payloads the customer's key sealed."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(SUBJECTS.c.workflow_id)
                .where(SUBJECTS.c.customer_ref == customer_ref)
                .order_by(SUBJECTS.c.workflow_id)
            )
            return [row.workflow_id for row in rows]

    def known_subject(self, workflow_id: str) -> str | None:
        """The workflow's customer if this process knows it already (no I/O)."""
        with self._guard:
            return self._subjects.get(root_workflow(workflow_id))

    def cached_key(self, customer_ref: str, generation: int | None) -> tuple[int, bytes] | None:
        """(generation, key) if this process holds it (that generation's, or with None the
        live one), fresh enough; no I/O."""
        with self._guard:
            hit = self._keys.get((customer_ref, generation))
        if hit is None or time.monotonic() - hit[0] >= self._cache_seconds:
            return None
        return hit[1], hit[2]

    def _read(self, customer_ref: str, generation: int | None) -> tuple[int, bytes] | None:
        """(generation, key) opened: that generation's, or (None) the live one; None when
        there is none."""
        statement = select(KEYS).where(
            KEYS.c.customer_ref == customer_ref, KEYS.c.destroyed_at.is_(None)
        )
        if generation is not None:
            statement = statement.where(KEYS.c.generation == generation)
        with self.engine.connect() as conn:
            row = conn.execute(statement.order_by(KEYS.c.generation.desc())).first()
        if row is None or not row.wrapped_by:
            return None
        bound = f"{customer_ref}/{row.generation}".encode()
        return row.generation, self.keyring.open(row.wrapped_by, row.wrapped, bound)

    def _create(self, customer_ref: str) -> tuple[int, bytes]:
        """A new random key of the next generation, stored wrapped; the one another process
        stored first wins."""
        with self.engine.connect() as conn:
            last = conn.execute(
                select(func.max(KEYS.c.generation)).where(KEYS.c.customer_ref == customer_ref)
            ).scalar()
        generation = (last or 0) + 1
        wrapped_by, wrapped = self.keyring.seal(
            os.urandom(KEY_BYTES), f"{customer_ref}/{generation}".encode()
        )
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                self._dialect.insert(KEYS)
                .values(
                    customer_ref=customer_ref,
                    generation=generation,
                    wrapped_by=wrapped_by,
                    wrapped=wrapped,
                    created_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing(index_elements=["customer_ref", "generation"])
            )
        stored = self._read(customer_ref, None)
        assert stored is not None  # just written, by us or another process
        return stored


_STORES: dict[tuple[str, str, float], CustomerKeys] = {}
_STORES_GUARD = threading.Lock()


def customer_keys_at(url: str, keyring: Keyring, cache_seconds: float = 30.0) -> CustomerKeys:
    """The process's store for this database and keys (its engine and cache shared by every
    client and codec of the process)."""
    with _STORES_GUARD:
        store = _STORES.get(at := (url, keyring.config(), cache_seconds))
        if store is None:
            engine = create_engine_for(url, immediate=True)
            store = _STORES[at] = CustomerKeys(engine, keyring, cache_seconds)
        return store
