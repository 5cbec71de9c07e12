"""Privacy requests as workflows: started once per delivery (support reads what each did in
the privacy log, `starter.py privacy`)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from canonical.privacy import PrivacyRequest
from inbox.outcome import Outcome, accepted
from inbox.store import InboxStatus
from infra.settings import Settings
from infra.temporal import temporal_call
from workflows.privacy_request import PrivacyRequestWorkflow


async def privacy_request_started(
    client: Client, settings: Settings, request: PrivacyRequest
) -> Outcome:
    try:
        with temporal_call():
            await client.start_workflow(
                PrivacyRequestWorkflow.run,
                request,
                id=request.workflow_id,
                task_queue=settings.task_queue,
            )
    except WorkflowAlreadyStartedError:
        return Outcome(InboxStatus.ACCEPTED, 200, request.workflow_id, "request already taken")
    return accepted(request.workflow_id, f"{request.kind.value} taken")
