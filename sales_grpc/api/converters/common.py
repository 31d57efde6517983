"""Converters for the shared types: Money, PostalAddress, AuditInfo, timestamps, enums."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TypeVar, overload

from google.protobuf.timestamp_pb2 import Timestamp

from erp.sales.v1 import address_pb2, audit_pb2, money_pb2

from ...domain.errors import Violations
from ...domain.money import Money, MoneyError, at_minor, check_currency, parse_decimal
from ...domain.records import Address, Audit

E = TypeVar("E", bound=Enum)


def money_in(v: Violations, path: str, message: money_pb2.Money) -> Money | None:
    """Parses a Money; a bad currency or amount becomes a field violation, not an error."""
    currency: str | None = None
    amount: Decimal | None = None
    try:
        currency = check_currency(message.currency_code)
    except MoneyError as exc:
        v.add(f"{path}.currency_code", str(exc))
    try:
        amount = parse_decimal(message.amount or "0")
    except MoneyError as exc:
        v.add(f"{path}.amount", str(exc))
    return None if currency is None or amount is None else Money(currency, amount)


def only_masked(v: Violations, prefix: str, mask: Sequence[str] | None) -> None:
    """On update, drops violations of fields outside the mask: those fields are ignored."""
    if mask is None:
        return
    masked = {path.split(".", 1)[0] for path in mask}
    v.items = [item for item in v.items
               if re.split(r"[.\[]", item.field.removeprefix(prefix + "."), maxsplit=1)[0]
               in masked]


@overload
def money_out(money: Money) -> money_pb2.Money: ...
@overload
def money_out(money: Money | None) -> money_pb2.Money | None: ...
def money_out(money: Money | None) -> money_pb2.Money | None:
    if money is None:
        return None
    return money_pb2.Money(currency_code=money.currency, amount=str(money.amount))


def minor_money_out(amount: Decimal, currency: str) -> money_pb2.Money:
    """An amount written to its currency's minor unit at least ("0.00", not the "0" of a
    starting value), as the amounts pricing computes are; an amount finer than that (a unit
    price of 0.0045) is shown as it is, never rounded here."""
    return money_out(Money(currency, at_minor(amount, currency)))


def address_in(message: address_pb2.PostalAddress) -> Address:
    return Address(tuple(message.address_lines), message.locality, message.administrative_area,
                   message.postal_code, message.region_code)


def address_out(address: Address | None) -> address_pb2.PostalAddress | None:
    if address is None:
        return None
    return address_pb2.PostalAddress(
        address_lines=list(address.address_lines), locality=address.locality,
        administrative_area=address.administrative_area, postal_code=address.postal_code,
        region_code=address.region_code)


def timestamp(moment: datetime | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def audit_out(audit: Audit) -> audit_pb2.AuditInfo:
    return audit_pb2.AuditInfo(
        create_time=timestamp(audit.create_time), create_actor=audit.create_actor,
        update_time=timestamp(audit.update_time), update_actor=audit.update_actor)


def enum_in(v: Violations, path: str, number: int, names: dict[int, str], kind: type[E]
            ) -> E | None:
    """Maps a proto enum number to the domain enum by name; 0 (UNSPECIFIED) becomes None."""
    if number == 0:
        return None
    name = names.get(number)
    if name is None:
        v.add(path, f"{number} is not a known value")
        return None
    return kind[name]


def enum_names(descriptor: object, prefix: str) -> dict[int, str]:
    values = descriptor.values  # type: ignore[attr-defined]
    return {value.number: value.name.removeprefix(prefix) for value in values if value.number}


def enum_out(value: Enum, names: dict[int, str]) -> int:
    for number, name in names.items():
        if name == value.name:
            return number
    return 0
