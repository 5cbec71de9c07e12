"""`starter.py privacy list|show`: the privacy requests the channels sent and what each did —
for a data request, what we hold on the customer (deliveries, workflows, ERP record) for
support to answer the shop with; for an erasure, what was emptied, anonymized, destroyed."""

from __future__ import annotations

from rich.table import Table

from canonical.privacy import PrivacyOutcome
from cli.output import console, print_json, whole_column
from infra.settings import Settings
from privacy.log import PrivacyLog


class PrivacyError(Exception):
    """A problem to tell the user in one sentence."""


def _log(settings: Settings) -> PrivacyLog:
    return PrivacyLog.open(settings.database_url)


def list_requests(settings: Settings, limit: int, as_json: bool) -> None:
    found = _log(settings).latest(limit)
    if as_json:
        print_json(found)
        return
    table = Table(title=f"{len(found)} privacy requests")
    whole_column(table, "Request", (o.request.workflow_id for o in found))
    table.add_column("Kind")
    whole_column(table, "Customer", (o.request.subject_ref or "-" for o in found))
    table.add_column("Done")
    table.add_column("Completed")
    for o in found:
        table.add_row(
            o.request.workflow_id, o.request.kind.value, o.request.subject_ref or "-", _done(o),
            o.completed_at.strftime("%Y-%m-%d %H:%M"),
        )  # fmt: skip
    console.print(table)


def show(settings: Settings, request_id: str, as_json: bool) -> None:
    outcome = _log(settings).get(request_id)
    if outcome is None:
        raise PrivacyError(f"No privacy request {request_id} (`privacy list` shows them).")
    if as_json:
        print_json(outcome)
        return
    request = outcome.request
    console.print(
        f"{request.workflow_id}: {request.kind.value} from {request.shop} "
        f"({request.channel.value}), customer {request.subject_ref or 'not named'}"
    )
    console.print(f"Received {request.received_at:%Y-%m-%d %H:%M}, completed "
                  f"{outcome.completed_at:%Y-%m-%d %H:%M}: {_done(outcome)}")  # fmt: skip
    if outcome.found is not None:
        found = outcome.found
        entries = ", ".join(map(str, found.inbox_entries)) or "none"
        console.print(f"Deliveries naming them (`inbox show ID`): {entries}")
        console.print(f"Workflows with their data: {', '.join(found.workflows) or 'none'}")
        console.print(f"ERP record: {found.erp_reference or 'none'}")
        if found.key_destroyed:
            console.print("Their data key was destroyed (erased before).")


def _done(outcome: PrivacyOutcome) -> str:
    if outcome.found is not None:
        held = outcome.found
        return (
            f"{len(held.inbox_entries)} deliveries, {len(held.workflows)} workflows, "
            f"ERP record {held.erp_reference or 'none'}"
        )
    done = [f"{outcome.entries_erased} deliveries emptied"]
    if outcome.erp_anonymized:
        done.append(f"ERP record {outcome.erp_anonymized} anonymized")
    if outcome.keys_destroyed:
        done.append("data key destroyed")
    return ", ".join(done)
