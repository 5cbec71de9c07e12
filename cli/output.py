"""Where the commands write: results on stdout (a table, or JSON with `--json`), the one
sentence of a refusal or failure on stderr. Ids are never folded: their columns keep their
width and the other columns wrap instead."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

console = Console(soft_wrap=True)  # a line of text is never folded
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def whole_column(table: Table, name: str, values: Iterable[str]) -> None:
    """A column of ids (or statuses) as wide as the longest, so that none is folded."""
    width = max((len(v) for v in values), default=len(name))
    table.add_column(name, no_wrap=True, min_width=max(width, len(name)))


def print_json(data: Any) -> None:
    """`--json`: models as their JSON, everything else as it is; one document on stdout."""
    print(json.dumps(_plain(data), indent=2, default=str))


def _plain(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return _plain(dataclasses.asdict(data))
    if isinstance(data, set | frozenset):
        return sorted(_plain(value) for value in data)
    if isinstance(data, dict):
        return {key: _plain(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(value) for value in data]
    return data
