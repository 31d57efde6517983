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
from ...domain.rollups import Basis
from .events import message_name


def _amount(money: Any) -> Decimal:
    return parse_decimal(money.amount or "0", max_places=34)


def _who(message: Any) -> rf.Owner:
    return rf.Owner(message.currency_code, message.owner_id, message.team_id,
                    message.customer_id)


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _sale(m: pb.OrderConfirmed | pb.OrderCancelled) -> rf.Sale:
    return rf.Sale(_amount(m.grand_total), _amount(m.subtotal), _amount(m.discount_total),
                   tuple(rf.SoldLine(x.product_id, x.quantity, _amount(x.gross_amount),
                                     _amount(x.discount_amount)) for x in m.lines))


def _confirmed(m: pb.OrderConfirmed, at: datetime) -> rf.Fact:
    return rf.Fact((rf.ORDER_CONFIRMED, m.order_id), rf.booking(at, _who(m), _sale(m)))


def _cancelled(m: pb.OrderCancelled, at: datetime) -> rf.Fact:
    return rf.order_cancelled(m.order_id, at, _who(m), _sale(m))


def _finalized(m: pb.InvoiceFinalized, at: datetime) -> rf.Fact:
    return rf.Fact((rf.INVOICE_FINALIZED, m.invoice_id), rf.billing(
        date.fromisoformat(m.issue_date), _who(m), _amount(m.grand_total)))


def _voided(m: pb.InvoiceVoided, at: datetime) -> rf.Fact:
    return rf.invoice_voided(m.invoice_id, date.fromisoformat(m.issue_date), _who(m),
                             _amount(m.grand_total))


def _credited(m: pb.CreditNoteIssued, at: datetime) -> rf.Fact:
    return rf.Fact((rf.CREDIT_NOTE_ISSUED, m.credit_note_id), rf.credit(
        date.fromisoformat(m.issue_date), _who(m), _amount(m.grand_total)))


def _paid(m: pb.PaymentReceived, at: datetime) -> rf.Fact:
    return rf.Fact((rf.PAYMENT_RECEIVED, m.payment_id), rf.collection(
        date.fromisoformat(m.payment_date), m.method, _who(m), _amount(m.amount),
        _day(m.issue_date)))


def _quote(basis: Basis) -> Callable[[Any, datetime], rf.Fact]:
    def read(m: Any, at: datetime) -> rf.Fact:
        return rf.quote_outcome(basis, m.quote_id, at, _who(m), _amount(m.grand_total))
    return read


_READERS: dict[str, tuple[Any, Callable[[Any, datetime], rf.Fact]]] = {
    reader_type.DESCRIPTOR.full_name: (reader_type, reader)
    for reader_type, reader in ((pb.OrderConfirmed, _confirmed), (pb.OrderCancelled, _cancelled),
                                (pb.InvoiceFinalized, _finalized), (pb.InvoiceVoided, _voided),
                                (pb.CreditNoteIssued, _credited), (pb.PaymentReceived, _paid),
                                (pb.QuoteSent, _quote(Basis.QUOTES_SENT)),
                                (pb.QuoteAccepted, _quote(Basis.QUOTES_ACCEPTED)),
                                (pb.QuoteRejected, _quote(Basis.QUOTES_REJECTED)),
                                (pb.QuoteExpired, _quote(Basis.QUOTES_EXPIRED)))
}


def revenue_fact(type_url: str, payload: bytes, occur_time: datetime) -> rf.Fact | None:
    """The fact an outbox event records, or None for an event revenue does not read."""
    found = _READERS.get(message_name(type_url))
    if found is None:
        return None
    message_type, reader = found
    return reader(message_type.FromString(payload), occur_time)
