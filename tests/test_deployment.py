"""The deployment files, checked without a Docker engine (none exists here): every image is
pinned, every command the compose file runs exists in the project, every variable it reads is
documented, every file it mounts or copies is in the repository; Temporal Cloud settings become
the client's credentials."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.build import PROJECT_ROOT
from infra.settings import Settings
from infra.temporal import security

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()
DOCUMENTED = set(
    re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (PROJECT_ROOT / ".env.example").read_text(), re.M)
)
PINNED = re.compile(r"^[\w./-]+:v?\d+(\.\d+)+[\w.-]*$")  # a version, never `latest` or a bare major


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = COMPOSE["services"]
    return found


def test_every_image_is_pinned() -> None:
    for name, service in services().items():
        image = service["image"]
        if "build" in service:  # ours, tagged by APP_VERSION
            assert image.startswith("retail-orchestrator:"), name
            continue
        assert PINNED.match(image), f"{name}: {image} is not pinned to a version"
    (base,) = re.findall(r"^FROM (\S+)", DOCKERFILE, re.M)
    assert PINNED.match(base), base


def test_every_command_exists_in_the_project() -> None:
    commands = {name: s["command"] for name, s in services().items() if "build" in s}
    assert set(commands) == {"migrate", "worker", "webhooks", "codec"}
    for name, command in commands.items():
        if command[:2] == ["python", "-m"]:
            assert importlib.util.find_spec(command[2]) is not None, name
        elif command[0] == "python":
            assert (PROJECT_ROOT / command[1]).is_file(), name
        else:
            assert command[:2] == ["uvicorn", "--factory"], name
            module, attribute = command[2].split(":")
            assert callable(getattr(importlib.import_module(module), attribute)), name
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (PROJECT_ROOT / source).exists(), f"{name} mounts missing {source}"
    for source in re.findall(r"^COPY (.+) \S+$", DOCKERFILE, re.M):
        for path in source.split():
            assert (PROJECT_ROOT / path).exists(), f"Dockerfile copies missing {path}"


def test_every_variable_it_reads_is_documented() -> None:
    read = set(re.findall(r"\$\{([A-Z0-9_]+)", (PROJECT_ROOT / "docker-compose.yml").read_text()))
    ours = {key for s in services().values() if "build" in s for key in s.get("environment", {})}
    assert read - DOCUMENTED == set()
    assert ours - DOCUMENTED == set()  # what compose sets for our services is ours to document


def mounts(service: str) -> dict[str, Path]:
    """Container path -> the repository's file or folder mounted there."""
    found = {}
    for volume in services()[service].get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            found[target] = PROJECT_ROOT / source
    return found


def test_the_observability_profile_scrapes_ours_and_shows_the_dashboard() -> None:
    prometheus, grafana = services()["prometheus"], services()["grafana"]
    assert prometheus["profiles"] == grafana["profiles"] == ["observability"]
    config = yaml.safe_load(mounts("prometheus")["/etc/prometheus/prometheus.yml"].read_text())
    targets = {
        job["job_name"]: target
        for job in config["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    worker_port = services()["worker"]["environment"]["WORKER_METRICS_PORT"]
    webhooks_port = services()["webhooks"]["command"][-3]
    temporal_port = services()["temporal"]["environment"]["PROMETHEUS_ENDPOINT"].split(":")[1]
    assert targets == {
        "worker": f"worker:{worker_port}",
        "webhooks": f"webhooks:{webhooks_port}",
        "temporal": f"temporal:{temporal_port}",
    }

    provisioning = mounts("grafana")["/etc/grafana/provisioning"]
    (source,) = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())[
        "datasources"
    ]
    (provider,) = yaml.safe_load((provisioning / "dashboards/orchestrator.yml").read_text())[
        "providers"
    ]
    dashboards = mounts("grafana")[provider["options"]["path"]]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    dashboard = json.loads((dashboards / Path(home).name).read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels and all(p["datasource"]["uid"] == source["uid"] for p in panels)
    assert all(t["expr"] for p in panels for t in p["targets"])


def test_temporal_cloud_credentials(tmp_path: Path) -> None:
    assert security(Settings.from_env({})) == {}
    assert security(Settings.from_env({"TEMPORAL_API_KEY": "k"})) == {"api_key": "k", "tls": True}
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    cert.write_bytes(b"CERT")
    key.write_bytes(b"KEY")
    tls = security(
        Settings.from_env({"TEMPORAL_TLS_CERT": str(cert), "TEMPORAL_TLS_KEY": str(key)})
    )
    assert (tls["tls"].client_cert, tls["tls"].client_private_key) == (b"CERT", b"KEY")
    with pytest.raises(ValueError, match="both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY"):
        security(Settings.from_env({"TEMPORAL_TLS_CERT": str(cert)}))
