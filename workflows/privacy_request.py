"""A privacy request a channel sent (Shopify's mandatory `customers/data_request`,
`customers/redact`, `shop/redact`), one workflow per delivery (`privacy:{channel}:{delivery id}`):

- a data request records what we hold on the customer, for support to send the shop;
- a customer redaction empties their deliveries, anonymizes their ERP record, waits for the
  workflows that carry their data to end (their key must outlive them), then destroys their
  data key: what Temporal holds of them no longer opens;
- a shop redaction empties what the shop sent.

Each ends with its audit record (what was done, never the data)."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from activities.privacy import PrivacyActivities
    from canonical.privacy import PrivacyOutcome, PrivacyRequest, PrivacyRequestKind

TIMEOUT = timedelta(minutes=2)
RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))
A = TypeVar("A")
R = TypeVar("R")


async def _call(activity: Callable[[PrivacyActivities, A], Awaitable[R]], arg: A) -> R:
    return await workflow.execute_activity_method(
        activity, arg, start_to_close_timeout=TIMEOUT, retry_policy=RETRY
    )


FIRST_RECHECK = timedelta(seconds=10)
LONGEST_RECHECK = timedelta(hours=6)


@workflow.defn(versioning_behavior=VersioningBehavior.AUTO_UPGRADE)  # may wait days: patch
class PrivacyRequestWorkflow:
    @workflow.run
    async def run(self, request: PrivacyRequest) -> PrivacyOutcome:
        outcome = PrivacyOutcome(request=request, completed_at=workflow.now())
        match request.kind:
            case PrivacyRequestKind.DATA_REQUEST:
                outcome.found = await _call(PrivacyActivities.find_customer_data, request)
            case PrivacyRequestKind.SHOP_REDACT:
                outcome.entries_erased = await _call(
                    PrivacyActivities.erase_shop_deliveries, request
                )
            case PrivacyRequestKind.CUSTOMER_REDACT:
                await self._forget(request, outcome)
        outcome.completed_at = workflow.now()
        await _call(PrivacyActivities.record_privacy_request, outcome)
        return outcome

    async def _forget(self, request: PrivacyRequest, outcome: PrivacyOutcome) -> None:
        outcome.entries_erased = await _call(PrivacyActivities.erase_customer_deliveries, request)
        if request.subject_ref is None:
            return  # named by neither e-mail nor phone: nothing else is keyed to them
        outcome.erp_anonymized = await _call(
            PrivacyActivities.anonymize_erp_customer, request.subject_ref
        )
        wait = FIRST_RECHECK
        while running := await _call(
            PrivacyActivities.open_customer_workflows, request.subject_ref
        ):
            workflow.set_current_details(f"waiting for {len(running)} workflow(s) to end")
            await workflow.sleep(wait)
            wait = min(wait * 2, LONGEST_RECHECK)
        outcome.keys_destroyed = await _call(
            PrivacyActivities.destroy_customer_keys, request.subject_ref
        )
