"""The command line's argument checks: each value is read into what the command needs or
refused with one sentence, and a usage error exits 2 with that sentence alone."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import NoReturn, TypeVar

from pydantic import ValidationError

from canonical import Channel, OrderStatus
from canonical.address import Address
from canonical.returns import Condition, InspectedLine
from services.orders import order_ref, return_ref

USAGE = 2
GROUP_ID = re.compile(r"g[1-9][0-9]*")


class UsageError(Exception):
    """An argument the command cannot take, found once the settings are read (an unknown
    node): said in one sentence, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse, whose errors are one line on stderr (no usage block) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: {message} (see --help)\n")


def order_id(text: str) -> str:
    """An order's key (`shopify-1042`) or workflow id: its workflow id."""
    try:
        return order_ref(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def saga_id(text: str) -> str:
    """An order's (`shopify-1042`, `order:shopify:1042`) or a return's workflow id."""
    if text.startswith("return:"):
        return return_id(text)
    return order_id(text)


def return_id(text: str) -> str:
    """A return's workflow id (`return:shopify:1042:R1`)."""
    try:
        return return_ref(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def settlement(text: str) -> tuple[Channel, str]:
    """A settlement as `settlement:amazon:11726380521` or `amazon:11726380521`."""
    channel, _, settlement_id = text.removeprefix("settlement:").partition(":")
    try:
        return Channel(channel), settlement_id or _no_settlement(text)
    except ValueError:
        _no_settlement(text)


def settlement_or_saga(text: str) -> tuple[Channel, str] | str:
    """A settlement, or an order's or a return's workflow id (or an order's key)."""
    if text.startswith(("order:", "return:")) or ("-" in text and ":" not in text):
        return saga_id(text)
    return settlement(text)


def _no_settlement(text: str) -> NoReturn:
    raise argparse.ArgumentTypeError(
        f"'{text}' is not a settlement: settlement:CHANNEL:ID as `settlement list` shows"
    )


def group_id(text: str) -> str:
    if not GROUP_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"'{text}' is not a group: g1, g2, … as `status` shows")
    return text


def _quantity(text: str, spec: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{spec}': the quantity must be a whole number ≥ 1")
    return int(text)


def line_quantity(text: str) -> tuple[str, int]:
    """LINE=QTY: units of one of the order's lines (their ids: `status ID`)."""
    line, sep, quantity = text.partition("=")
    if not sep or not line.strip():
        raise argparse.ArgumentTypeError(f"'{text}' is not LINE=QTY (line ids: `status ID`)")
    return line.strip(), _quantity(quantity.strip(), text)


def _pair(text: str, form: str) -> tuple[str, str]:
    left, sep, right = (part.strip() for part in text.partition("="))
    if not sep or not left or not right:
        raise argparse.ArgumentTypeError(f"'{text}' is not {form}")
    return left, right


def sku_replacement(text: str) -> tuple[str, str]:
    """OLD=NEW: the SKU a held order names and the one to use instead."""
    return _pair(text, "OLD=NEW (two SKUs)")


def line_sku(text: str) -> tuple[str, str]:
    """LINE=SKU: the SKU a line of a delivery should carry."""
    return _pair(text, "LINE=SKU")


def address(text: str) -> Address:
    """A JSON object with Address's fields (name, line1, line2, city, region, postal_code,
    country as ISO 3166-1 alpha-2, phone)."""
    try:
        return Address.model_validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'the value'}: {e['msg']}" for e in exc.errors()
        )
        raise argparse.ArgumentTypeError(f"not an address ({problems})") from None


def inspected_line(text: str) -> InspectedLine:
    """LINE=QTY:CONDITION."""
    spec, _, condition = text.rpartition(":")
    conditions = ", ".join(c.value for c in Condition)
    if not spec:
        raise argparse.ArgumentTypeError(f"'{text}' is not LINE=QTY:CONDITION ({conditions})")
    line, quantity = line_quantity(spec)
    if condition not in {c.value for c in Condition}:
        raise argparse.ArgumentTypeError(f"'{condition}' is not a condition: one of {conditions}")
    return InspectedLine(line_id=line, quantity=quantity, condition=Condition(condition))


E = TypeVar("E", bound=StrEnum)


def one_of(enum: type[E], upper: bool = False) -> Callable[[str], E]:
    """A value of `enum`, in any case; refused naming every value."""

    def read(text: str) -> E:
        value = text.strip().upper() if upper else text.strip().lower()
        if value not in {e.value for e in enum}:
            raise argparse.ArgumentTypeError(
                f"'{text}' is not one of {', '.join(e.value for e in enum)}"
            )
        return enum(value)

    read.__name__ = enum.__name__
    return read


status = one_of(OrderStatus, upper=True)
channel = one_of(Channel)


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number ≥ 1")
    return int(text)


def days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of days ≥ 0")
    return value


def repeated(
    parser: argparse.ArgumentParser,
    flag: str,
    read: Callable[[str], object],
    metavar: str,
    help: str,
    required: bool = False,
) -> None:
    """An option given once per value (`--line A=1 --line B=2`): a list of what `read` made."""
    parser.add_argument(
        flag, action="append", default=[], required=required, type=read, metavar=metavar,
        help=help,
    )  # fmt: skip


def usage_error(message: str) -> int:
    """Say a `UsageError` as argparse's own are said; the exit code."""
    print(f"starter.py: {message}", file=sys.stderr)
    return USAGE
