"""Conversions between domain values and MongoDB documents: Decimal128 for every amount."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from bson import Decimal128

from ..domain.money import Money
from ..domain.records import Address, Audit


def dec(value: Decimal) -> Decimal128:
    return Decimal128(value)


def undec(value: Any) -> Decimal:
    return value.to_decimal() if isinstance(value, Decimal128) else Decimal(value)


def day_doc(day: date | None) -> str | None:
    """A calendar day as its ISO text, which sorts and compares as the day does."""
    return day.isoformat() if day else None


def day_from(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def money_doc(money: Money | None) -> dict[str, Any] | None:
    return None if money is None else {"currency": money.currency, "amount": dec(money.amount)}


def money_from(doc: dict[str, Any] | None) -> Money | None:
    return None if not doc else Money(doc["currency"], undec(doc["amount"]))


def address_doc(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "address_lines": list(address.address_lines), "locality": address.locality,
        "administrative_area": address.administrative_area,
        "postal_code": address.postal_code, "region_code": address.region_code,
    }


def address_from(doc: dict[str, Any] | None) -> Address | None:
    if not doc:
        return None
    return Address(tuple(doc.get("address_lines", ())), doc.get("locality", ""),
                   doc.get("administrative_area", ""), doc.get("postal_code", ""),
                   doc.get("region_code", ""))


def audit_fields(audit: Audit) -> dict[str, Any]:
    return {"create_time": audit.create_time, "create_actor": audit.create_actor,
            "update_time": audit.update_time, "update_actor": audit.update_actor}


def audit_from(doc: dict[str, Any]) -> Audit:
    return Audit(doc["create_time"], doc["create_actor"], doc["update_time"], doc["update_actor"])
