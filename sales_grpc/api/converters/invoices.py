"""Invoice, payment, credit-note and aging messages to domain values and back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from erp.sales.v1 import invoice_service_pb2 as pb

from ...domain.aging import Aging, Buckets
from ...domain.credit_notes import CreditNote
from ...domain.customers import Customer
from ...domain.errors import Violations
from ...domain.invoices import Invoice, InvoiceHistoryEntry, InvoiceState, Payment, PaymentMethod
from ...domain.mail import MailStatus
from ...domain.money import Money
from ...domain.tallies import Selection
from ...services.clock import now
from ...services.invoices import InvoiceInput
from ...services.receivables import PaymentInput
from .common import (
    audit_out,
    enum_in,
    enum_names,
    enum_out,
    minor_money_out,
    money_in,
    money_out,
    only_masked,
    timestamp,
)
from .customers import TERMS
from .documents import line_out, lines_in, totals_out
from .quotes import delivery_out

STATES = enum_names(pb.InvoiceState.DESCRIPTOR, "INVOICE_STATE_")
METHODS = enum_names(pb.PaymentMethod.DESCRIPTOR, "PAYMENT_METHOD_")


def invoice_in(message: pb.Invoice, mask: Sequence[str] | None = None) -> InvoiceInput:
    v = Violations()
    lines = lines_in(v, "invoice.lines", message.lines)
    shipping = (money_in(v, "invoice.shipping_charge", message.shipping_charge)
                if message.HasField("shipping_charge") else None)
    only_masked(v, "invoice", mask)
    v.raise_if_any()
    return InvoiceInput(customer_id=message.customer_id, currency=message.currency_code,
                        lines=lines, discount_rate=message.discount_rate, shipping=shipping,
                        notes=message.notes, owner_id=message.owner_id,
                        team_id=message.team_id, due_date=message.due_date)


def selections_in(parts: Iterable[pb.LineQuantity]) -> list[Selection]:
    return [Selection(p.line_number, p.quantity) for p in parts]


def payment_in(message: pb.Payment) -> PaymentInput:
    v = Violations()
    amount = money_in(v, "payment.amount", message.amount) if message.HasField("amount") \
        else None
    method = enum_in(v, "payment.method", message.method, METHODS, PaymentMethod)
    v.raise_if_any()
    return PaymentInput(amount, method, message.reference, message.payment_date)


def amount_in(request: pb.CreateCreditNoteRequest) -> Money | None:
    if not request.HasField("amount"):
        return None
    v = Violations()
    amount = money_in(v, "amount", request.amount)
    v.raise_if_any()
    return amount


_money = minor_money_out


def _state(state: InvoiceState | None) -> int:
    return 0 if state is None else enum_out(state, STATES)


def invoice_out(i: Invoice, delivery: MailStatus | None = None) -> pb.Invoice:
    c = i.currency
    moment = now()
    sources = i.source_lines or [0] * len(i.lines)
    return pb.Invoice(
        id=i.id, number=i.number, customer_id=i.customer_id,
        state=_state(i.state),  # type: ignore[arg-type]
        currency_code=c,
        lines=[line_out(x, c, i.discount_rate, n) for x, n in zip(i.lines, sources, strict=True)],
        discount_rate=str(i.discount_rate), shipping_charge=money_out(Money(c, i.shipping)),
        totals=totals_out(i.totals, c), notes=i.notes, owner_id=i.owner_id, team_id=i.team_id,
        audit=audit_out(i.audit), etag=i.etag, order_id=i.order_id,
        order_number=i.order_number,
        payment_terms=enum_out(i.payment_terms, TERMS),  # type: ignore[arg-type]
        issue_date=i.issue_date.isoformat() if i.issue_date else "",
        due_date=i.due_date.isoformat() if i.due_date else "",
        amount_paid=_money(i.amount_paid, c),
        amount_credited=_money(i.amount_credited, c),
        amount_credited_to_balance=_money(i.credited_to_balance, c),
        amount_due=_money(i.amount_due, c), partially_paid=i.partially_paid,
        overdue=i.is_overdue(moment), days_overdue=i.days_overdue(moment),
        finalize_time=timestamp(i.finalize_time), send_time=timestamp(i.last_send_time),
        paid_time=timestamp(i.paid_time), void_time=timestamp(i.void_time),
        uncollectible_time=timestamp(i.uncollectible_time), close_reason=i.close_reason,
        delivery=delivery_out(delivery) if delivery else None)


def history_out(h: InvoiceHistoryEntry) -> pb.InvoiceHistoryEntry:
    return pb.InvoiceHistoryEntry(
        action=h.action.value, from_state=_state(h.from_state),  # type: ignore[arg-type]
        to_state=_state(h.to_state),  # type: ignore[arg-type]
        actor=h.actor, time=timestamp(h.time), note=h.note)


def payment_out(p: Payment) -> pb.Payment:
    return pb.Payment(
        id=p.id, invoice_id=p.invoice_id, invoice_number=p.invoice_number,
        customer_id=p.customer_id, amount=money_out(Money(p.currency, p.amount)),
        method=enum_out(p.method, METHODS),  # type: ignore[arg-type]
        reference=p.reference, payment_date=p.payment_date.isoformat(),
        recorded_by=p.recorded_by, create_time=timestamp(p.create_time), owner_id=p.owner_id,
        team_id=p.team_id)


def credit_note_out(n: CreditNote) -> pb.CreditNote:
    c = n.currency
    return pb.CreditNote(
        id=n.id, number=n.number, invoice_id=n.invoice_id, invoice_number=n.invoice_number,
        customer_id=n.customer_id, currency_code=c,
        lines=[line_out(x, c, n.discount_rate, s) for x, s in zip(n.lines, n.source_lines,
                                                                   strict=True)],
        totals=totals_out(n.totals, c), reason=n.reason,
        amount_applied=_money(n.amount_applied, c),
        amount_to_balance=_money(n.amount_to_balance, c),
        issue_date=n.issue_date.isoformat(), owner_id=n.owner_id, team_id=n.team_id,
        audit=audit_out(n.audit))


def buckets_out(b: Buckets) -> pb.AgingBuckets:
    c = b.currency
    current, d30, d60, d90, over = (_money(a, c) for a in b.amounts)
    return pb.AgingBuckets(currency_code=c, current=current, days_1_30=d30, days_31_60=d60,
                           days_61_90=d90, days_over_90=over, total=_money(b.total, c),
                           invoice_count=b.invoice_count)


def _name(customer: Customer | None) -> str:
    if customer is None:
        return ""
    return customer.company_name or f"{customer.first_name} {customer.last_name}"


def aging_out(aging: Aging, customers: dict[str, Customer]) -> pb.GetReceivablesAgingResponse:
    def code(customer_id: str) -> str:
        found = customers.get(customer_id)
        return found.customer_code if found else customer_id

    rows = [pb.CustomerAging(
        customer_id=cid, customer_code=code(cid), customer_name=_name(customers.get(cid)),
        buckets=[buckets_out(b) for _, b in sorted(per.items())])
        for cid, per in aging.customers.items()]
    rows.sort(key=lambda r: r.customer_code)
    return pb.GetReceivablesAgingResponse(
        as_of=aging.as_of.isoformat(), customers=rows,
        totals=[buckets_out(b) for _, b in sorted(aging.totals.items())])
