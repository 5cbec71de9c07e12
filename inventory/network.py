"""The stock network as configured in a TOML file (`INVENTORY_NETWORK`): nodes, which nodes
each channel may sell from and how much of it, safety stock. Applied to the store on start."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from canonical import Channel
from canonical.inventory import NodeKind

NETWORKS = Path(__file__).parent / "networks"


class NodeConfig(BaseModel):
    code: str = Field(min_length=1)
    name: str
    kind: NodeKind
    country: str = "US"
    postal_code: str = ""
    erp_location: str | None = Field(default=None, description="The ERP's id of this location")
    wms_warehouse: str | None = Field(default=None, description="The WMS's warehouse id")
    safety_stock: int = Field(default=0, ge=0, description="Default for the node's positions")
    active: bool = True


class AllocationConfig(BaseModel):
    """`nodes` or `node_kinds` say where the channel may sell from; then a cap of that network
    ATP (a percentage, a fixed number of units, or both), less a safety buffer."""

    channel: Channel
    nodes: list[str] = []
    node_kinds: list[NodeKind] = []
    cap_percent: int = Field(default=100, ge=0, le=100)
    cap_units: int | None = Field(default=None, ge=0)
    safety_buffer: int = Field(default=0, ge=0)


class SafetyStockConfig(BaseModel):
    sku: str
    node: str
    quantity: int = Field(ge=0)


class Network(BaseModel):
    nodes: list[NodeConfig] = Field(min_length=1)
    allocations: list[AllocationConfig] = []
    safety_stock: list[SafetyStockConfig] = []

    @model_validator(mode="after")
    def _known_nodes(self) -> Network:
        codes = {node.code for node in self.nodes}
        named = [n for a in self.allocations for n in a.nodes] + [s.node for s in self.safety_stock]
        unknown = sorted(set(named) - codes)
        if unknown:
            raise ValueError(f"unknown node(s) {unknown}; configured: {sorted(codes)}")
        return self

    def allocation_nodes(self, allocation: AllocationConfig) -> list[str]:
        if allocation.nodes:
            return allocation.nodes
        kinds = set(allocation.node_kinds) or set(NodeKind)
        return [node.code for node in self.nodes if node.kind in kinds]


def load_network(path: Path) -> Network:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"inventory network {path}: {exc}") from exc
    return Network.model_validate(data)


def network_path(configured: Path | None, erp: str) -> Path:
    """`INVENTORY_NETWORK`, or the bundled demo network named the way the sandbox's ERP (or
    Tryton) names locations."""
    return configured or NETWORKS / f"{erp}.toml"


def configured_network(configured: Path | None, erp: str) -> Network:
    """The network a process runs with (`INVENTORY_NETWORK`, or the bundled demo one)."""
    return load_network(network_path(configured, erp))
