"""An order's customer is nowhere in Temporal's own records, yet an operator reads the run in
the Web UI: a real dev server whose UI points at the codec server, an order run through it,
then the history as the CLI prints it and as the UI's HTTP API serves it (decoded the way the
browser does, through the codec server)."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from cli.stack import DEV_SERVER_CONFIG
from codec_server.app import create_app as create_codec
from infra.processes import binary, bound_socket, free_port, port_of
from infra.settings import Settings
from sandbox.shipstation import AutoShip
from testing.harness import UvicornThread, completed_sandbox_order, order_harness
from tests.conftest import CONVERTER
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES


@pytest.fixture
async def ui() -> AsyncIterator[tuple[WorkflowEnvironment, str, str]]:
    """(dev server with its Web UI, the UI's URL, the codec server's URL)."""
    ui_port, codec_socket = free_port(), bound_socket()
    codec_url = f"http://127.0.0.1:{port_of(codec_socket)}"
    ui_url = f"http://127.0.0.1:{ui_port}"
    settings = Settings.from_env({})
    codec = create_codec(settings.keyring, [ui_url], customers=settings.customer_keys)
    with UvicornThread(codec, codec_socket):
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=binary("temporal"),
            data_converter=CONVERTER,
            search_attributes=SEARCH_ATTRIBUTES,
            ui=True,
            ui_port=ui_port,
            dev_server_log_level="error",
            dev_server_extra_args=[*DEV_SERVER_CONFIG, "--ui-codec-endpoint", codec_url],
        )
        try:
            yield env, ui_url, codec_url
        finally:
            await env.shutdown()


async def test_the_history_holds_no_customer_data_and_the_ui_decodes_it(
    ui: tuple[WorkflowEnvironment, str, str],
) -> None:
    env, ui_url, codec_url = ui
    async with order_harness(env.client, autoship=AutoShip(after_seconds=0.3)) as h:
        order, handle = await completed_sandbox_order(h)
    assert order.ship_to is not None and order.customer.email
    secrets = [order.customer.email, order.customer.name, order.ship_to.line1]
    secrets += [order.customer.phone] if order.customer.phone else []

    # What the CLI shows (and the server stores): sealed payloads, plain search attributes.
    shown = subprocess.run(
        [binary("temporal"), "workflow", "show", "-w", handle.id, "-o", "json",
         "--address", env.client.service_client.config.target_host],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    described = (await handle.describe()).raw_description
    attributes = str(described.workflow_execution_info.search_attributes)
    for secret in secrets:
        assert secret not in shown and secret not in attributes
    assert "binary/encrypted" in shown or base64.b64encode(b"binary/encrypted").decode() in shown

    # What the browser does: the UI names the codec endpoint, serves the history, and the
    # codec server (answering the UI's origin) opens the payloads.
    async with httpx.AsyncClient(base_url=ui_url, timeout=10) as http:
        settings = (await http.get("/api/v1/settings")).json()
        assert settings["Codec"]["Endpoint"] == codec_url
        history = (
            await http.get(f"/api/v1/namespaces/default/workflows/{handle.id}/history")
        ).json()
    started = history["history"]["events"][0]["workflowExecutionStartedEventAttributes"]
    sealed: dict[str, Any] = started["input"]
    async with httpx.AsyncClient(timeout=10) as http:
        decoded = await http.post(
            f"{codec_url}/decode",
            content=json.dumps(sealed),
            headers={"Origin": ui_url, "X-Namespace": "default",
                     "Content-Type": "application/json"},
        )  # fmt: skip
    assert decoded.headers["access-control-allow-origin"] == ui_url
    opened = base64.b64decode(decoded.json()["payloads"][0]["data"]).decode()
    for secret in secrets:
        assert secret not in json.dumps(sealed) and secret in opened
