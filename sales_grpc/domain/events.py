"""Domain events that document changes emit; written to the outbox in the same transaction.

Plain values, defined once: api/converters/events.py turns each into the events.proto message
of the same name, field by field (Decimal amounts become Money in the event's currency_code),
and the outbox stores that message serialized. tests/unit/test_event_contract.py fails when an
event and its message disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .documents.document import SalesDocument


@dataclass(frozen=True)
class StockQuantity:
    product_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class OrderEventLine:
    """One line as sold; amounts in the order's currency."""

    product_id: str
    sku: str
    quantity: int
    unit_price: Decimal
    gross_amount: Decimal
    discount_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal


@dataclass(frozen=True, kw_only=True)
class OrderFacts:
    """What every order event tells about the order, as the change left it: enough for
    analytics and other services to act without calling back."""

    order_id: str
    number: str
    customer_id: str
    owner_id: str
    team_id: str
    currency_code: str
    lines: list[OrderEventLine]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    shipping: Decimal
    grand_total: Decimal


def _facts(order: SalesDocument[Any]) -> dict[str, Any]:
    totals = order.totals
    return {
        "order_id": order.id, "number": order.number, "customer_id": order.customer_id,
        "owner_id": order.owner_id, "team_id": order.team_id, "currency_code": order.currency,
        "lines": [OrderEventLine(line.product_id, line.sku, line.quantity, line.unit_price,
                                 line.amounts.gross, line.amounts.discount, line.amounts.tax,
                                 line.amounts.total) for line in order.lines],
        "subtotal": totals.subtotal, "discount_total": totals.discount_total,
        "tax_total": totals.tax_total, "shipping": totals.shipping,
        "grand_total": totals.grand_total,
    }


@dataclass(frozen=True, kw_only=True)
class OrderConfirmed(OrderFacts):
    credit_limit_overridden: bool = False

    @classmethod
    def of(cls, order: SalesDocument[Any], credit_limit_overridden: bool) -> OrderConfirmed:
        return cls(**_facts(order), credit_limit_overridden=credit_limit_overridden)


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderFacts):
    reason: str

    @classmethod
    def of(cls, order: SalesDocument[Any], reason: str) -> OrderCancelled:
        return cls(**_facts(order), reason=reason)


@dataclass(frozen=True, kw_only=True)
class OrderShipped(OrderFacts):
    @classmethod
    def of(cls, order: SalesDocument[Any]) -> OrderShipped:
        return cls(**_facts(order))


@dataclass(frozen=True, kw_only=True)
class OrderDelivered(OrderFacts):
    @classmethod
    def of(cls, order: SalesDocument[Any]) -> OrderDelivered:
        return cls(**_facts(order))


@dataclass(frozen=True)
class StockReserved:
    order_id: str
    quantities: list[StockQuantity] = field(default_factory=list)


@dataclass(frozen=True)
class StockReleased:
    order_id: str
    quantities: list[StockQuantity] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class QuoteFacts:
    """What every quote event tells: which quote revision, whose, and what it is worth."""

    quote_id: str
    number: str
    revision: int
    customer_id: str
    owner_id: str
    team_id: str
    currency_code: str
    grand_total: Decimal

    @classmethod
    def facts(cls, quote: Any) -> dict[str, Any]:
        return {"quote_id": quote.id, "number": quote.number, "revision": quote.revision,
                "customer_id": quote.customer_id, "owner_id": quote.owner_id,
                "team_id": quote.team_id, "currency_code": quote.currency,
                "grand_total": quote.totals.grand_total}


@dataclass(frozen=True, kw_only=True)
class QuoteCreated(QuoteFacts):
    pass


@dataclass(frozen=True, kw_only=True)
class QuoteSent(QuoteFacts):
    valid_until: str


@dataclass(frozen=True, kw_only=True)
class QuoteAccepted(QuoteFacts):
    order_id: str


@dataclass(frozen=True, kw_only=True)
class QuoteRejected(QuoteFacts):
    reason: str


@dataclass(frozen=True, kw_only=True)
class QuoteExpired(QuoteFacts):
    valid_until: str


@dataclass(frozen=True, kw_only=True)
class QuoteCancelled(QuoteFacts):
    reason: str


@dataclass(frozen=True, kw_only=True)
class MailDelivered:
    """A mail about a document went out (jobs/mail_delivery.py)."""

    mail_id: str
    document_type: str
    document_id: str
    recipients: list[str]
    message_id: str
    attempts: int


@dataclass(frozen=True, kw_only=True)
class MailFailed:
    """A mail about a document was refused for good or ran out of attempts."""

    mail_id: str
    document_type: str
    document_id: str
    recipients: list[str]
    message_id: str
    attempts: int
    error: str
    smtp_code: int


@dataclass(frozen=True, kw_only=True)
class InvoiceFacts:
    """What every invoice event tells: which invoice, whose, and where its amounts stand after
    the change."""

    invoice_id: str
    number: str
    order_id: str
    customer_id: str
    owner_id: str
    team_id: str
    currency_code: str
    issue_date: str
    due_date: str
    grand_total: Decimal
    amount_paid: Decimal
    amount_credited: Decimal
    amount_due: Decimal

    @classmethod
    def facts(cls, invoice: Any) -> dict[str, Any]:
        return {"invoice_id": invoice.id, "number": invoice.number,
                "order_id": invoice.order_id, "customer_id": invoice.customer_id,
                "owner_id": invoice.owner_id, "team_id": invoice.team_id,
                "currency_code": invoice.currency,
                "issue_date": invoice.issue_date.isoformat() if invoice.issue_date else "",
                "due_date": invoice.due_date.isoformat() if invoice.due_date else "",
                "grand_total": invoice.totals.grand_total, "amount_paid": invoice.amount_paid,
                "amount_credited": invoice.amount_credited, "amount_due": invoice.amount_due}


def event_lines(document: Any) -> list[OrderEventLine]:
    return [OrderEventLine(line.product_id, line.sku, line.quantity, line.unit_price,
                           line.amounts.gross, line.amounts.discount, line.amounts.tax,
                           line.amounts.total) for line in document.lines]


@dataclass(frozen=True, kw_only=True)
class InvoiceFinalized(InvoiceFacts):
    lines: list[OrderEventLine]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    shipping: Decimal

    @classmethod
    def of(cls, invoice: Any) -> InvoiceFinalized:
        t = invoice.totals
        return cls(**cls.facts(invoice), lines=event_lines(invoice), subtotal=t.subtotal,
                   discount_total=t.discount_total, tax_total=t.tax_total,
                   shipping=t.shipping)


@dataclass(frozen=True, kw_only=True)
class InvoiceSent(InvoiceFacts):
    recipients: list[str]


@dataclass(frozen=True, kw_only=True)
class PaymentReceived(InvoiceFacts):
    payment_id: str
    amount: Decimal
    method: str
    payment_date: str


@dataclass(frozen=True, kw_only=True)
class InvoicePaid(InvoiceFacts):
    paid_date: str


@dataclass(frozen=True, kw_only=True)
class InvoiceVoided(InvoiceFacts):
    reason: str


@dataclass(frozen=True, kw_only=True)
class InvoiceMarkedUncollectible(InvoiceFacts):
    reason: str


@dataclass(frozen=True, kw_only=True)
class InvoiceOverdue(InvoiceFacts):
    days_overdue: int


@dataclass(frozen=True, kw_only=True)
class CreditNoteIssued:
    credit_note_id: str
    number: str
    invoice_id: str
    invoice_number: str
    customer_id: str
    owner_id: str
    team_id: str
    currency_code: str
    issue_date: str
    lines: list[OrderEventLine]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    grand_total: Decimal
    amount_applied: Decimal
    amount_to_balance: Decimal
    reason: str

    @classmethod
    def of(cls, note: Any) -> CreditNoteIssued:
        t = note.totals
        return cls(credit_note_id=note.id, number=note.number, invoice_id=note.invoice_id,
                   invoice_number=note.invoice_number, customer_id=note.customer_id,
                   owner_id=note.owner_id, team_id=note.team_id, currency_code=note.currency,
                   issue_date=note.issue_date.isoformat(), lines=event_lines(note),
                   subtotal=t.subtotal, discount_total=t.discount_total, tax_total=t.tax_total,
                   grand_total=t.grand_total, amount_applied=note.amount_applied,
                   amount_to_balance=note.amount_to_balance, reason=note.reason)


DomainEvent = (OrderConfirmed | OrderCancelled | OrderShipped | OrderDelivered | StockReserved
               | StockReleased | QuoteCreated | QuoteSent | QuoteAccepted | QuoteRejected
               | QuoteExpired | QuoteCancelled | MailDelivered | MailFailed | InvoiceFinalized
               | InvoiceSent | PaymentReceived | InvoicePaid | InvoiceVoided
               | InvoiceMarkedUncollectible | InvoiceOverdue | CreditNoteIssued)
