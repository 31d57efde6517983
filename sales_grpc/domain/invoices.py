"""Invoices: a sales document that is numbered when finalized, owed until paid, and corrected
only by credit notes.

The amounts an invoice keeps obey one equation, exact to the minor unit:

    amount_due = grand_total - amount_paid - amount_credited + credited_to_balance

where `credited_to_balance` is the part of its credit notes that exceeded what was still due
(a credit note on a paid invoice) and went to the customer's credit balance instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from .access import Principal
from .customers import PaymentTerms
from .documents.document import SalesDocument
from .documents.lifecycle import HistoryEntry, StateMachine, Step
from .documents.lines import totals_of
from .errors import FailedPrecondition, InvalidArgument, PreconditionViolation
from .orders import INVOICEABLE, SalesOrder
from .tallies import LineTally, Selection, give_back, select, take, tallies_for


class InvoiceState(str, Enum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


class InvoiceAction(str, Enum):
    """What can happen to an invoice; the values are the history's `action` strings."""

    CREATE = "created"
    UPDATE = "updated"
    FINALIZE = "finalized"
    SEND = "sent"
    RECORD_PAYMENT = "payment_recorded"
    PAY = "paid"
    CREDIT = "credited"
    VOID = "voided"
    WRITE_OFF = "uncollectible"
    OVERDUE = "overdue"


# States in which an invoice is owed: it counts in credit exposure and in aging, and takes
# payments.
OWING = frozenset({InvoiceState.OPEN, InvoiceState.UNCOLLECTIBLE})
# States a credit note may be issued in.
CREDITABLE = frozenset({InvoiceState.OPEN, InvoiceState.PAID, InvoiceState.UNCOLLECTIBLE})

LIFECYCLE: StateMachine[InvoiceAction, InvoiceState] = StateMachine("invoice", "invoices", {
    InvoiceAction.FINALIZE: Step(frozenset({InvoiceState.DRAFT}), InvoiceState.OPEN),
    InvoiceAction.PAY: Step(OWING, InvoiceState.PAID),
    InvoiceAction.VOID: Step(OWING, InvoiceState.VOID),
    InvoiceAction.WRITE_OFF: Step(frozenset({InvoiceState.OPEN}), InvoiceState.UNCOLLECTIBLE),
})
InvoiceHistoryEntry = HistoryEntry[InvoiceAction, InvoiceState]

# Days from the issue date to the due date, per payment terms; the rest are due on receipt.
TERM_DAYS = {PaymentTerms.NET_15: 15, PaymentTerms.NET_30: 30, PaymentTerms.NET_45: 45,
             PaymentTerms.NET_60: 60, PaymentTerms.NET_90: 90}


def today(now: datetime) -> date:
    """Issue, due and payment days are UTC days, like a quote's validity."""
    return now.date()


def due_date_for(terms: PaymentTerms, issued: date) -> date:
    return issued + timedelta(days=TERM_DAYS.get(terms, 0))


@dataclass
class Invoice(SalesDocument[InvoiceState]):
    order_id: str = ""
    order_number: str = ""
    # Per line, the order line it bills (1-based), or 0 on a manual invoice.
    source_lines: list[int] = field(default_factory=list)
    payment_terms: PaymentTerms = PaymentTerms.NET_30
    issue_date: date | None = None
    # On a draft, None means "from the payment terms at finalize".
    due_date: date | None = None
    amount_paid: Decimal = Decimal(0)
    amount_credited: Decimal = Decimal(0)
    credited_to_balance: Decimal = Decimal(0)
    # The tax part of amount_credited, so credits in full credit exactly the invoice's tax.
    credited_tax: Decimal = Decimal(0)
    # Per line, what credit notes have credited of it (empty until the first one).
    credited: list[LineTally] = field(default_factory=list)
    close_reason: str = ""
    # Whether the overdue job has written this invoice's InvoiceOverdue event.
    overdue_noted: bool = False
    last_send_time: datetime | None = None

    def machine(self) -> StateMachine[Any, InvoiceState]:
        return LIFECYCLE

    # -- amounts ----------------------------------------------------------------------

    @property
    def amount_due(self) -> Decimal:
        if self.state is InvoiceState.VOID:
            return Decimal(0)
        return (self.totals.grand_total - self.amount_paid - self.amount_credited
                + self.credited_to_balance)

    @property
    def partially_paid(self) -> bool:
        return self.state in OWING and Decimal(0) < self.amount_due < self.totals.grand_total

    @property
    def left_to_credit(self) -> Decimal:
        return self.totals.grand_total - self.amount_credited

    def days_overdue(self, now: datetime) -> int:
        """Days past the due date, for an OPEN invoice; 0 when not overdue."""
        if self.state is not InvoiceState.OPEN or self.due_date is None:
            return 0
        return max(0, (today(now) - self.due_date).days)

    def is_overdue(self, now: datetime) -> bool:
        return self.days_overdue(now) > 0

    # -- times ------------------------------------------------------------------------

    @property
    def finalize_time(self) -> datetime | None:
        return self.entered.get(InvoiceState.OPEN)

    @property
    def paid_time(self) -> datetime | None:
        return self.entered.get(InvoiceState.PAID)

    @property
    def void_time(self) -> datetime | None:
        return self.entered.get(InvoiceState.VOID)

    @property
    def uncollectible_time(self) -> datetime | None:
        return self.entered.get(InvoiceState.UNCOLLECTIBLE)

    # -- moves ------------------------------------------------------------------------

    def require_draft(self) -> None:
        if self.state is not InvoiceState.DRAFT:
            raise FailedPrecondition(
                f"invoice {self.number} is {self.state.name}; only drafts can be changed or "
                "deleted (issue a credit note, or void it, instead)",
                reason="INVOICE_NOT_DRAFT", metadata={"current_state": self.state.name})

    def check_finalizable(self, now: datetime) -> None:
        """What finalizing needs besides the number: a draft with lines, and a due date (if
        the draft set one) not before the issue date. Pure, so a finalize checks it before it
        writes anything or draws its number."""
        self.require_draft()
        if not self.lines:
            raise FailedPrecondition(f"invoice {self.id} has no lines to bill",
                                     reason="INVOICE_EMPTY")
        issued = today(now)
        if self.due_date is not None and self.due_date < issued:
            raise FailedPrecondition(
                f"the draft's due date {self.due_date.isoformat()} is before today's issue "
                "date; set a later one or clear it", reason="DUE_DATE_PAST",
                violations=[PreconditionViolation("DUE_DATE", f"invoices/{self.id}",
                                                  "due_date is before the issue date")])

    def finalize(self, number: str, principal: Principal, now: datetime
                 ) -> list[InvoiceHistoryEntry]:
        """DRAFT -> OPEN with its number, issue date and due date; a zero total is PAID at
        once (nothing is owed). Returns the history entries."""
        self.check_finalizable(now)
        issued = today(now)
        self.number = number
        self.issue_date = issued
        self.due_date = self.due_date or due_date_for(self.payment_terms, issued)
        entries = [self.move(InvoiceAction.FINALIZE, principal, now, number)]
        if self.amount_due == 0:
            entries.append(self.move(InvoiceAction.PAY, principal, now, "nothing due"))
        return entries

    def require_payable(self, amount: Decimal) -> None:
        """A payment must be positive (checked at the edge) and at most the amount due, on an
        invoice that is owed."""
        if self.state not in OWING:
            raise FailedPrecondition(
                f"invoice {self.number or self.id} is {self.state.name}; only an OPEN or "
                "UNCOLLECTIBLE invoice takes payments", reason="INVOICE_NOT_PAYABLE",
                metadata={"current_state": self.state.name},
                violations=[PreconditionViolation("STATE", f"invoices/{self.id}",
                                                  f"current state is {self.state.name}")])
        if amount > self.amount_due:
            raise FailedPrecondition(
                f"a payment of {amount} {self.currency} exceeds the amount due "
                f"{self.amount_due} {self.currency} on {self.number}",
                reason="PAYMENT_EXCEEDS_AMOUNT_DUE",
                metadata={"amount_due": str(self.amount_due), "amount": str(amount),
                          "currency": self.currency},
                violations=[PreconditionViolation(
                    "AMOUNT_DUE", f"invoices/{self.id}",
                    f"payment {amount} > amount due {self.amount_due} {self.currency}")])

    def apply_payment(self, amount: Decimal, principal: Principal, now: datetime, note: str
                      ) -> list[InvoiceHistoryEntry]:
        self.require_payable(amount)
        self.amount_paid += amount
        entries = [self.record(InvoiceAction.RECORD_PAYMENT, principal, now, note)]
        if self.amount_due == 0:
            entries.append(self.move(InvoiceAction.PAY, principal, now))
        return entries

    def require_creditable(self, total: Decimal) -> None:
        if self.state not in CREDITABLE:
            raise FailedPrecondition(
                f"invoice {self.number or self.id} is {self.state.name}; credit notes are "
                "issued against OPEN, PAID or UNCOLLECTIBLE invoices",
                reason="INVOICE_NOT_CREDITABLE", metadata={"current_state": self.state.name},
                violations=[PreconditionViolation("STATE", f"invoices/{self.id}",
                                                  f"current state is {self.state.name}")])
        if total > self.left_to_credit:
            raise credit_exceeds(self, f"{total} {self.currency} is more than the "
                                 f"{self.left_to_credit} {self.currency} left to credit",
                                 "total")

    def apply_credit(self, total: Decimal, tax: Decimal, principal: Principal, now: datetime,
                     note: str) -> tuple[Decimal, Decimal, list[InvoiceHistoryEntry]]:
        """Credits `total` (of which `tax` is tax): it reduces the amount due first, and what
        exceeds it goes to the customer's balance. Returns (applied, to_balance, history
        entries). Neither its tax nor its net may exceed what is left of the invoice's: a
        credit by lines after credits by amount could otherwise credit more tax than the
        invoice had."""
        self.require_creditable(total)
        tax_left = self.totals.tax_total - self.credited_tax
        net_left = self.left_to_credit - tax_left
        if tax > tax_left or total - tax > net_left:
            raise credit_exceeds(self, f"{tax} of tax and {total - tax} net {self.currency} "
                                 f"is more than the {tax_left} of tax and {net_left} net "
                                 "left to credit", "total")
        owed = self.amount_due if self.state in OWING else Decimal(0)
        applied = min(total, owed)
        to_balance = total - applied
        self.amount_credited += total
        self.credited_tax += tax
        self.credited_to_balance += to_balance
        entries = [self.record(InvoiceAction.CREDIT, principal, now, note)]
        if self.state in OWING and self.amount_due == 0:
            entries.append(self.move(InvoiceAction.PAY, principal, now, "credited in full"))
        return applied, to_balance, entries

    def require_voidable(self) -> None:
        if self.state is InvoiceState.DRAFT:
            raise FailedPrecondition(f"invoice {self.id} is a draft; delete it instead",
                                     reason="INVOICE_IS_DRAFT")
        if self.state in OWING and (self.amount_paid or self.amount_credited):
            raise FailedPrecondition(
                f"invoice {self.number} has payments or credit notes "
                f"({self.amount_paid} paid, {self.amount_credited} credited {self.currency}); "
                "an invoice with payments cannot be voided: issue a credit note instead",
                reason="INVOICE_HAS_PAYMENTS",
                metadata={"amount_paid": str(self.amount_paid),
                          "amount_credited": str(self.amount_credited)},
                violations=[PreconditionViolation("PAYMENTS", f"invoices/{self.id}",
                                                  "has payments or credit notes")])


def credit_exceeds(invoice: Invoice, description: str, subject_field: str
                   ) -> FailedPrecondition:
    return FailedPrecondition(
        f"credit note on {invoice.number}: {description}", reason="CREDIT_EXCEEDS_INVOICE",
        metadata={"left_to_credit": str(invoice.left_to_credit),
                  "currency": invoice.currency},
        violations=[PreconditionViolation("CREDIT_LIMIT", f"invoices/{invoice.id}",
                                          f"{subject_field}: {description}")])


class PaymentMethod(str, Enum):
    BANK_TRANSFER = "BANK_TRANSFER"
    CARD = "CARD"
    CASH = "CASH"
    CHECK = "CHECK"
    CREDIT_BALANCE = "CREDIT_BALANCE"
    OTHER = "OTHER"


@dataclass(frozen=True)
class Payment:
    id: str
    invoice_id: str
    invoice_number: str
    customer_id: str
    owner_id: str
    team_id: str
    currency: str
    amount: Decimal
    method: PaymentMethod
    reference: str
    payment_date: date
    recorded_by: str
    create_time: datetime


def check_payment_date(invoice: Invoice, day: date, now: datetime, path: str) -> None:
    if day > today(now):
        raise InvalidArgument.of(path, f"{day.isoformat()} is in the future")
    if invoice.issue_date is not None and day < invoice.issue_date:
        raise InvalidArgument.of(path, f"{day.isoformat()} is before the invoice's issue "
                                 f"date {invoice.issue_date.isoformat()}")


def require_invoiceable(order: SalesOrder) -> None:
    if order.state not in INVOICEABLE:
        raise FailedPrecondition(
            f"order {order.number} is {order.state.name}; only a CONFIRMED, PROCESSING, "
            "SHIPPED or DELIVERED order can be invoiced", reason="ORDER_NOT_INVOICEABLE",
            metadata={"current_state": order.state.name},
            violations=[PreconditionViolation("STATE", f"salesOrders/{order.id}",
                                              f"current state is {order.state.name}")])


def bill_order(order: SalesOrder, wanted: list[Selection], invoice: Invoice, path: str
               ) -> None:
    """Fills the draft `invoice` with the order's chosen parts (everything not yet invoiced
    when `wanted` is empty), claims them on the order, and gives the invoice the order's
    shipping charge if no other invoice has it."""
    require_invoiceable(order)
    parts = select(order.lines, order.invoiced, wanted, path, "invoiced",
                   f"salesOrders/{order.id}")
    lines, sources, after = take(order.lines, order.invoiced, parts, order.discount_rate,
                                 order.currency)
    order.invoiced = after
    invoice.lines, invoice.source_lines = lines, sources
    invoice.discount_rate = order.discount_rate
    invoice.shipping = Decimal(0) if order.shipping_invoiced else order.shipping
    order.shipping_invoiced = True
    invoice.totals = totals_of(lines, invoice.shipping)


def release_order(order: SalesOrder, invoice: Invoice) -> None:
    """Gives back what a deleted draft or a voided invoice claimed on its order."""
    order.invoiced = give_back(tallies_for(order.lines, order.invoiced), invoice.lines,
                               invoice.source_lines)
    if invoice.shipping or not any(t.quantity for t in order.invoiced):
        order.shipping_invoiced = False
