"""One error for a channel payload that cannot be read, whatever Python error the mapping hit."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import InvalidOperation
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class PayloadError(ValueError):
    """The payload is not a valid instance of what it claims to be (answered 4xx, kept)."""


def reads_payload(what: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Turn any error of a mapping function into `PayloadError("not a valid {what}: …")`."""

    def decorate(mapping: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(mapping)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return mapping(*args, **kwargs)
            except (
                KeyError,
                IndexError,
                TypeError,
                AttributeError,
                ValueError,
                InvalidOperation,
            ) as exc:
                detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
                raise PayloadError(f"not a valid {what}: {detail}") from exc

        return wrapper

    return decorate
