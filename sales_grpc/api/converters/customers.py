"""Customer messages to domain values and back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from erp.sales.v1 import customer_service_pb2 as pb

from ...domain.customers import Customer, CustomerStatus, CustomerType, PaymentTerms
from ...domain.errors import Violations
from .common import (
    address_in,
    address_out,
    audit_out,
    enum_in,
    enum_names,
    enum_out,
    money_in,
    money_out,
    only_masked,
    timestamp,
)

TYPES = enum_names(pb.CustomerType.DESCRIPTOR, "CUSTOMER_TYPE_")
STATUSES = enum_names(pb.CustomerStatus.DESCRIPTOR, "CUSTOMER_STATUS_")
TERMS = enum_names(pb.PaymentTerms.DESCRIPTOR, "PAYMENT_TERMS_")
_TEXT = ("first_name", "last_name", "company_name", "email", "phone", "tax_id", "notes",
         "owner_id", "team_id")


def values_in(message: pb.Customer, *, creating: bool,
              mask: Sequence[str] | None = None) -> dict[str, Any]:
    """The editable fields as domain values. On create an UNSPECIFIED status or payment terms
    is left out so the default applies; on update it stays None and is rejected. Given a
    mask, bad values outside it are not reported (the update ignores them)."""
    v = Violations()
    values: dict[str, Any] = {name: getattr(message, name) for name in _TEXT}
    values["customer_type"] = enum_in(v, "customer.customer_type", message.customer_type,
                                      TYPES, CustomerType)
    values["status"] = enum_in(v, "customer.status", message.status, STATUSES, CustomerStatus)
    values["payment_terms"] = enum_in(v, "customer.payment_terms", message.payment_terms,
                                      TERMS, PaymentTerms)
    for name in ("billing_address", "shipping_address"):
        values[name] = address_in(getattr(message, name)) if message.HasField(name) else None
    values["credit_limit"] = (money_in(v, "customer.credit_limit", message.credit_limit)
                              if message.HasField("credit_limit") else None)
    only_masked(v, "customer", mask)
    v.raise_if_any()
    if creating:
        for name in ("status", "payment_terms", "billing_address", "shipping_address",
                     "credit_limit"):
            if values[name] is None:
                del values[name]
    return values


def customer_out(c: Customer) -> pb.Customer:
    return pb.Customer(
        id=c.id, customer_code=c.customer_code, first_name=c.first_name, last_name=c.last_name,
        company_name=c.company_name, customer_type=enum_out(c.customer_type, TYPES),  # type: ignore[arg-type]
        email=c.email, phone=c.phone, billing_address=address_out(c.billing_address),
        shipping_address=address_out(c.shipping_address),
        payment_terms=enum_out(c.payment_terms, TERMS),  # type: ignore[arg-type]
        credit_limit=money_out(c.credit_limit), tax_id=c.tax_id, notes=c.notes,
        status=enum_out(c.status, STATUSES),  # type: ignore[arg-type]
        owner_id=c.owner_id, team_id=c.team_id,
        sales_stats=pb.CustomerSalesStats(
            order_count=c.stats.order_count,
            total_spent_by_currency=[money_out(money) for money in c.stats.total_spent],
            # The deprecated single total keeps its meaning where it still has one.
            total_spent=money_out(c.stats.total_spent[0]) if len(c.stats.total_spent) == 1
            else None,
            last_order_time=timestamp(c.stats.last_order_time),
            outstanding_by_currency=[money_out(m) for m in c.stats.outstanding],
            credit_balance_by_currency=[money_out(m) for m in c.stats.credit_balance]),
        audit=audit_out(c.audit), etag=c.etag, delete_time=timestamp(c.delete_time),
    )
