"""The engine's ceiling for the saga's shape: the same number of sequential activities, no I/O."""

from datetime import timedelta

from temporalio import activity, workflow

STEPS = 11  # the order saga runs 11 activities on its happy path (tests/histories: completed)


@activity.defn
async def noop_step(step: int) -> int:
    return step


@workflow.defn
class NoopSagaWorkflow:
    @workflow.run
    async def run(self, steps: int) -> int:
        for step in range(steps):
            await workflow.execute_activity(
                noop_step, step, start_to_close_timeout=timedelta(seconds=30)
            )
        return steps
