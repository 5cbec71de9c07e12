"""Privacy request activities: what we hold on a customer, and forgetting them — their
deliveries emptied, their ERP record anonymized, their data key destroyed (which leaves what
Temporal holds of them unreadable) — each step idempotent, and the request's audit record.
Who the customer is comes from the request's own delivery, never from the workflow."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activities.errors import partner_call
from adapters.ports import ErpPort
from canonical import Channel
from canonical.order import order_workflow_id
from canonical.privacy import (
    CustomerDataFound,
    PrivacyOutcome,
    PrivacyRequest,
    PrivacySubject,
)
from inbox.store import Inbox, InboxEntry
from infra.customer_keys import CustomerKeys
from privacy.log import PrivacyLog

SubjectReader = Callable[[dict[str, Any]], PrivacySubject]


class PrivacyActivities:
    def __init__(
        self,
        inbox: Inbox,
        keys: CustomerKeys,
        erp: ErpPort,
        log: PrivacyLog,
        subjects: Mapping[Channel, SubjectReader],
    ) -> None:
        self._inbox = inbox
        self._keys = keys
        self._erp = erp
        self._log = log
        self._subjects = subjects  # a channel's request body -> who it is about

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.find_customer_data,
            self.erase_customer_deliveries,
            self.erase_shop_deliveries,
            self.anonymize_erp_customer,
            self.open_customer_workflows,
            self.destroy_customer_keys,
            self.record_privacy_request,
        ]

    @activity.defn
    async def find_customer_data(self, request: PrivacyRequest) -> CustomerDataFound:
        """What we hold on them: the deliveries naming them, the workflows their data went
        through, their ERP record."""
        found = await asyncio.to_thread(self._held, request)
        if request.subject_ref:
            with partner_call():
                found.erp_reference = await self._erp.customer_reference(request.subject_ref)
        return found

    @activity.defn
    async def erase_customer_deliveries(self, request: PrivacyRequest) -> int:
        """Every delivery naming them emptied, the request's own with them in one transaction
        (so a retry after it finds nothing left to do); how many."""
        return await asyncio.to_thread(self._erase, request)

    @activity.defn
    async def erase_shop_deliveries(self, request: PrivacyRequest) -> int:
        return await asyncio.to_thread(self._inbox.erase_shop, request.channel.value, request.shop)

    @activity.defn
    async def anonymize_erp_customer(self, subject_ref: str) -> str | None:
        with partner_call():
            return await self._erp.anonymize_customer(subject_ref)

    @activity.defn
    async def open_customer_workflows(self, subject_ref: str) -> list[str]:
        """The customer's workflows still running: their key must outlive them (a worker
        reads a running workflow's history again when it picks it up)."""
        client = activity.client()
        running = []
        for workflow_id in await asyncio.to_thread(self._keys.workflows, subject_ref):
            try:
                described = await client.get_workflow_handle(workflow_id).describe()
            except RPCError as exc:
                if exc.status is RPCStatusCode.NOT_FOUND:
                    continue  # gone with the namespace's retention
                raise
            if described.status is WorkflowExecutionStatus.RUNNING:
                running.append(workflow_id)
        return running

    @activity.defn
    async def destroy_customer_keys(self, subject_ref: str) -> int:
        return await asyncio.to_thread(self._keys.destroy, subject_ref)

    @activity.defn
    async def record_privacy_request(self, outcome: PrivacyOutcome) -> None:
        await asyncio.to_thread(self._log.record, outcome)

    def _held(self, request: PrivacyRequest) -> CustomerDataFound:
        """What our own stores hold on them (the ERP is asked apart)."""
        entry, subject = self._subject(request)
        workflows = self._workflows(request)
        entries = self._inbox.naming(*(subject.names if subject else []), workflow_ids=workflows)
        return CustomerDataFound(
            inbox_entries=[found for found in entries if entry is None or found != entry.id],
            workflows=workflows,
            key_destroyed=self._keys.destroyed(request.subject_ref or ""),
        )

    def _erase(self, request: PrivacyRequest) -> int:
        entry, subject = self._subject(request)
        if entry is None or subject is None:
            return 0  # emptied already
        assert entry.id is not None
        workflows = self._workflows(request)
        return len(self._inbox.erase(*subject.names, workflow_ids=workflows, entry_ids=[entry.id]))

    def _subject(self, request: PrivacyRequest) -> tuple[InboxEntry | None, PrivacySubject | None]:
        """The request's delivery, and who it is about (None once the delivery was emptied)."""
        entry = self._inbox.find(request.channel.value, request.delivery_id)
        if entry is None or entry.emptied_at is not None:
            return entry, None
        return entry, self._subjects[request.channel](json.loads(entry.body))

    def _workflows(self, request: PrivacyRequest) -> list[str]:
        """Their orders' workflows: those the channel names, and those their key sealed."""
        named = [order_workflow_id(request.channel, order_id) for order_id in request.order_ids]
        sealed = self._keys.workflows(request.subject_ref) if request.subject_ref else []
        return sorted({*named, *sealed})
