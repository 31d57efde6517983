"""Outbox events (serialized events.proto messages) to the revenue facts they record.

Wired into the projector in bootstrap, so the store and the job need no generated code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from erp.sales.v1 import events_pb2 as pb

from ...domain import revenue_facts as rf
from ...domain.money import parse_decimal
from .events import message_name


def _amount(money: Any) -> Decimal:
    return parse_decimal(money.amount or "0", max_places=34)


def _who(message: Any) -> rf.Owner:
    return rf.Owner(message.currency_code, message.owner_id, message.team_id)


def _confirmed(m: pb.OrderConfirmed, at: datetime) -> rf.Fact:
    return rf.Fact((rf.ORDER_CONFIRMED, m.order_id),
                   (rf.booking(at, _who(m), _amount(m.grand_total)),))


def _cancelled(m: pb.OrderCancelled, at: datetime) -> rf.Fact:
    return rf.Fact((rf.ORDER_CANCELLED, m.order_id),
                   unbooks=rf.booking(at, _who(m), _amount(m.grand_total)))


def _finalized(m: pb.InvoiceFinalized, at: datetime) -> rf.Fact:
    return rf.Fact((rf.INVOICE_FINALIZED, m.invoice_id), (rf.billing(
        date.fromisoformat(m.issue_date), _who(m), _amount(m.grand_total)),))


def _voided(m: pb.InvoiceVoided, at: datetime) -> rf.Fact:
    return rf.invoice_voided(m.invoice_id, date.fromisoformat(m.issue_date), _who(m),
                             _amount(m.grand_total))


def _credited(m: pb.CreditNoteIssued, at: datetime) -> rf.Fact:
    return rf.Fact((rf.CREDIT_NOTE_ISSUED, m.credit_note_id), (rf.credit(
        date.fromisoformat(m.issue_date), _who(m), _amount(m.grand_total)),))


def _paid(m: pb.PaymentReceived, at: datetime) -> rf.Fact:
    part = rf.collection(date.fromisoformat(m.payment_date), m.method, _who(m),
                         _amount(m.amount))
    return rf.Fact((rf.PAYMENT_RECEIVED, m.payment_id), () if part is None else (part,))


_READERS: dict[str, tuple[Any, Callable[[Any, datetime], rf.Fact]]] = {
    reader_type.DESCRIPTOR.full_name: (reader_type, reader)
    for reader_type, reader in ((pb.OrderConfirmed, _confirmed), (pb.OrderCancelled, _cancelled),
                                (pb.InvoiceFinalized, _finalized), (pb.InvoiceVoided, _voided),
                                (pb.CreditNoteIssued, _credited), (pb.PaymentReceived, _paid))
}


def revenue_fact(type_url: str, payload: bytes, occur_time: datetime) -> rf.Fact | None:
    """The fact an outbox event records, or None for an event revenue does not read."""
    found = _READERS.get(message_name(type_url))
    if found is None:
        return None
    message_type, reader = found
    return reader(message_type.FromString(payload), occur_time)
