"""One import of a channel's settlements, run by its `settlement-import-{channel}` schedule or
by `starter.py settlement import CHANNEL --now`: the settlements found are kept, and each gets
its own workflow, `settlement:{channel}:{id}`, started once however often imports repeat or
overlap."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, VersioningBehavior, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.settlement import SettlementActivities, SettlementRef
    from canonical import Channel
    from canonical.settlement import settlement_workflow_id
    from workflows.settlement import SettlementWorkflow


@workflow.defn(versioning_behavior=VersioningBehavior.PINNED)  # minutes: stays on its build
class SettlementImportWorkflow:
    @workflow.run
    async def run(self, channel: Channel) -> list[str]:
        """The workflow ids of the settlements this import started (new ones only)."""
        found = await workflow.execute_activity_method(
            SettlementActivities.import_settlements,
            channel,
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=5),
        )
        started = []
        for settlement_id in found:
            workflow_id = settlement_workflow_id(channel, settlement_id)
            try:
                await workflow.start_child_workflow(
                    SettlementWorkflow.run,
                    SettlementRef(channel=channel, settlement_id=settlement_id),
                    id=workflow_id,
                    parent_close_policy=ParentClosePolicy.ABANDON,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                )
            except WorkflowAlreadyStartedError:
                continue  # imported before: booked once
            started.append(workflow_id)
        return started
