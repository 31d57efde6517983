"""Money against invoices: payments, credit notes and the receivables aging. A payment or a
credit note commits with the invoice's new amounts, the customer's receivables, history and
events, in one transaction; a `request_id` makes a retry apply it once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from ..domain import events as ev
from ..domain import validation as check
from ..domain.access import Principal, in_scope, scope_of
from ..domain.aging import Aging, Receivable, age
from ..domain.authorization import Move, authorize
from ..domain.credit_notes import CreditNote, amount_totals, credited_lines, lines_totals
from ..domain.customers import Customer
from ..domain.documents.lines import DocumentLine
from ..domain.errors import FailedPrecondition, InvalidArgument, NotFound, Violations
from ..domain.invoices import (
    Invoice,
    Payment,
    PaymentMethod,
    check_payment_date,
    today,
)
from ..domain.listing import page_size
from ..domain.money import Money
from ..domain.numbering import CREDIT_NOTE
from ..domain.records import Audit
from ..domain.tallies import LineTally, Selection
from .clock import now
from .documents import Change, DocumentWorkflow
from .ids import new_id
from .inputs import reason_text
from .ports import (
    CreditNoteRecords,
    CustomerRecords,
    CustomerStatistics,
    IdempotencyKeys,
    InvoiceRecords,
    NumberSeries,
    Page,
    PaymentRecords,
    Replayed,
    idempotency_key,
)


@dataclass(frozen=True)
class PaymentInput:
    amount: Money | None
    method: PaymentMethod | None
    reference: str = ""
    payment_date: str = ""  # an ISO date; empty means today (UTC)


class Receivables:
    def __init__(self, workflow: DocumentWorkflow[Invoice], payments: PaymentRecords,
                 credit_notes: CreditNoteRecords, stats: CustomerStatistics,
                 customers: CustomerRecords, idempotency: IdempotencyKeys,
                 numbers: NumberSeries, invoices_in_scope: InvoiceScope) -> None:
        self._workflow = workflow
        self._payments = payments
        self._notes = credit_notes
        self._stats = stats
        self._customers = customers
        self._idempotency = idempotency
        self._numbers = numbers
        self._scope = invoices_in_scope

    # -- payments ---------------------------------------------------------------------

    async def record_payment(self, principal: Principal, invoice_id: str, data: PaymentInput,
                             request_id: str = "") -> tuple[Payment, Invoice]:
        authorize(principal, Move.RECORD_PAYMENT)
        amount, method, reference = _payment_fields(data, request_id)
        key = idempotency_key("payment", principal.subject, request_id)
        if key and (earlier := await self._idempotency.find(key)):
            return await self._recorded(principal, earlier)
        payment_id = new_id()
        recorded: list[Payment] = []

        async def effects(change: Change[Invoice]) -> None:
            invoice, moment = change.document, change.moment
            if amount.currency != invoice.currency:
                raise InvalidArgument.of("payment.amount.currency_code",
                                         f"must be the invoice's currency {invoice.currency}")
            day = _payment_day(invoice, data.payment_date, change)
            change.history += invoice.apply_payment(
                amount.amount, principal, moment,
                f"{amount} by {method.value}" + (f" ({reference})" if reference else ""))
            spent = -amount.amount if method is PaymentMethod.CREDIT_BALANCE else Decimal(0)
            customer = await self._stats.receivable(
                invoice.customer_id, Money(invoice.currency, -amount.amount),
                Money(invoice.currency, spent), change.session)
            if customer is None and method is PaymentMethod.CREDIT_BALANCE:
                raise _short_balance(invoice, amount)
            if customer is None:
                raise NotFound(f"customer {invoice.customer_id} of invoice {invoice.number} "
                               "is gone", reason="CUSTOMER_NOT_FOUND")
            payment = Payment(payment_id, invoice.id, invoice.number, invoice.customer_id,
                              invoice.owner_id, invoice.team_id, invoice.currency,
                              amount.amount, method, reference, day, principal.subject, moment)
            await self._payments.add(payment, change.session)
            recorded[:] = [payment]
            facts = ev.InvoiceFacts.facts(invoice)
            change.events.append(ev.PaymentReceived(
                **facts, payment_id=payment.id, amount=payment.amount, method=method.value,
                payment_date=day.isoformat()))
            if invoice.amount_due == 0:
                change.events.append(ev.InvoicePaid(**facts,
                                                    paid_date=today(moment).isoformat()))

        outcome = await self._idempotency.run_once(
            key, payment_id, self._workflow.changing(principal, invoice_id, "", effects))
        if isinstance(outcome, Replayed):
            return await self._recorded(principal, outcome.result_id)
        return recorded[0], outcome  # as committed with the invoice

    async def _recorded(self, principal: Principal, payment_id: str) -> tuple[Payment, Invoice]:
        payment = await self._payments.get(payment_id)
        if payment is None:
            raise NotFound(f"payment {payment_id} not found", reason="PAYMENT_NOT_FOUND")
        return payment, await self._scope.get(principal, payment.invoice_id)

    async def list_payments(self, principal: Principal, invoice_id: str, size: int = 0,
                            token: str = "") -> Page[Payment]:
        if invoice_id:
            await self._scope.get(principal, invoice_id)
        return await self._payments.list_page(scope_of(principal), invoice_id,
                                              page_size(size), token)

    # -- credit notes -----------------------------------------------------------------

    async def create_credit_note(self, principal: Principal, invoice_id: str,
                                 wanted: list[Selection], amount: Money | None, reason: str,
                                 request_id: str = "") -> tuple[CreditNote, Invoice]:
        authorize(principal, Move.ISSUE_CREDIT_NOTE)
        reason = reason_text(reason)
        _credit_fields(wanted, amount, request_id)
        key = idempotency_key("credit_note", principal.subject, request_id)
        if key and (earlier := await self._idempotency.find(key)):
            return await self._issued(principal, earlier)
        note_id = new_id()

        async def effects(change: Change[Invoice]) -> None:
            invoice, moment = change.document, change.moment
            if amount is not None:
                if amount.currency != invoice.currency:
                    raise InvalidArgument.of("amount.currency_code", "must be the invoice's "
                                             f"currency {invoice.currency}")
                invoice.require_creditable(amount.amount)
                lines: list[DocumentLine] = []
                sources: list[int] = []
                tallies = invoice.credited
                totals = amount_totals(invoice, amount.amount)
            else:
                invoice.require_creditable(Decimal(0))
                lines, sources, tallies = _lines_to_credit(invoice, wanted)
                totals = lines_totals(lines)
            applied, to_balance, entries = invoice.apply_credit(
                totals.grand_total, totals.tax_total, principal, moment, reason)
            invoice.credited = tallies
            await self._stats.receivable(invoice.customer_id, Money(invoice.currency, -applied),
                                         Money(invoice.currency, to_balance), change.session)
            number = await self._numbers.draw(CREDIT_NOTE, moment, change.session)
            note = CreditNote(
                id=note_id, number=number, invoice_id=invoice.id,
                invoice_number=invoice.number, customer_id=invoice.customer_id,
                owner_id=invoice.owner_id, team_id=invoice.team_id, currency=invoice.currency,
                lines=lines, source_lines=sources, totals=totals, reason=reason,
                issue_date=today(moment), audit=Audit.new(principal.subject, moment),
                amount_applied=applied, amount_to_balance=to_balance,
                discount_rate=invoice.discount_rate)
            await self._notes.add(note, change.session)
            entries[0] = replace(entries[0], note=f"{number}: {reason}")
            change.history += entries
            change.events.append(ev.CreditNoteIssued.of(note))
            if len(entries) > 1:  # the credit left nothing due: PAID
                change.events.append(ev.InvoicePaid(**ev.InvoiceFacts.facts(invoice),
                                                    paid_date=today(moment).isoformat()))

        outcome = await self._idempotency.run_once(
            key, note_id, self._workflow.changing(principal, invoice_id, "", effects))
        if isinstance(outcome, Replayed):
            return await self._issued(principal, outcome.result_id)
        note = await self._notes.get(note_id)
        assert note is not None, "the credit note commits with its invoice"
        return note, outcome

    async def _issued(self, principal: Principal, note_id: str) -> tuple[CreditNote, Invoice]:
        note = await self.get_credit_note(principal, note_id)
        return note, await self._scope.get(principal, note.invoice_id)

    async def get_credit_note(self, principal: Principal, note_id: str) -> CreditNote:
        check.object_id("id", note_id)
        note = await self._notes.get(note_id)
        if note is None or not self._scope.may_see(principal, note.owner_id, note.team_id):
            raise NotFound(f"credit note {note_id[:40]} not found",
                           reason="CREDIT_NOTE_NOT_FOUND")
        return note

    async def list_credit_notes(self, principal: Principal, invoice_id: str, size: int = 0,
                                token: str = "") -> Page[CreditNote]:
        if invoice_id:
            await self._scope.get(principal, invoice_id)
        return await self._notes.list_page(scope_of(principal), invoice_id, page_size(size),
                                           token)

    # -- aging ------------------------------------------------------------------------

    async def aging(self, principal: Principal, as_of: str = "", customer_id: str = "",
                    owner_id: str = "", team_id: str = "") -> tuple[Aging, dict[str, Customer]]:
        """The aging in the caller's scope, with the customers it names."""
        day = _as_of(as_of)
        receivables = await self._scope.receivables(principal, day, customer_id, owner_id,
                                                     team_id)
        aging = age(receivables, day)
        found = await asyncio.gather(*(self._customers.get(cid) for cid in aging.customers))
        return aging, {c.id: c for c in found if c is not None}


class InvoiceScope:
    """Reading invoices as a caller may: visibility and the aging's receivables."""

    def __init__(self, workflow: DocumentWorkflow[Invoice], invoices: InvoiceRecords) -> None:
        self._workflow = workflow
        self._invoices = invoices

    async def get(self, principal: Principal, invoice_id: str) -> Invoice:
        check.object_id("invoice_id", invoice_id)
        return self._workflow.visible(principal, await self._invoices.get(invoice_id),
                                      invoice_id)

    @staticmethod
    def may_see(principal: Principal, owner_id: str, team_id: str) -> bool:
        return in_scope(scope_of(principal), owner_id, team_id)

    async def receivables(self, principal: Principal, as_of: date, customer_id: str,
                          owner_id: str, team_id: str) -> list[Receivable]:
        return await self._invoices.receivables(scope_of(principal), as_of, customer_id,
                                                owner_id, team_id)


def _payment_fields(data: PaymentInput, request_id: str
                    ) -> tuple[Money, PaymentMethod, str]:
    v = Violations()
    check.request_id(v, request_id)
    amount = data.amount
    if amount is None:
        v.add("payment.amount", "is required")
    elif amount.amount <= 0:
        v.add("payment.amount.amount", "must be more than zero")
    elif not amount.fits_minor_unit():
        v.add("payment.amount.amount", amount.minor_unit_error())
    if data.method is None:
        v.add("payment.method", "is required (BANK_TRANSFER, CARD, CASH, CHECK, "
              "CREDIT_BALANCE or OTHER)")
    check.text(v, "payment.reference", data.reference, required=False, max_len=200)
    v.raise_if_any()
    assert amount is not None and data.method is not None
    return amount, data.method, data.reference.strip()


def _payment_day(invoice: Invoice, raw: str, change: Change[Invoice]) -> date:
    v = Violations()
    day = check.iso_date(v, "payment.payment_date", raw)
    v.raise_if_any()
    if day is None:
        return today(change.moment)
    check_payment_date(invoice, day, change.moment, "payment.payment_date")
    return day


def _short_balance(invoice: Invoice, amount: Money) -> FailedPrecondition:
    return FailedPrecondition(
        f"the customer's credit balance in {amount.currency} is below {amount.amount}",
        reason="CREDIT_BALANCE_INSUFFICIENT",
        metadata={"customer_id": invoice.customer_id, "currency": amount.currency})


def _credit_fields(wanted: list[Selection], amount: Money | None, request_id: str) -> None:
    v = Violations()
    check.request_id(v, request_id)
    if bool(wanted) == (amount is not None):
        v.add("lines", "give either lines or an amount to credit, not both" if wanted
              else "give the lines or the amount to credit")
    if amount is not None:
        if amount.amount <= 0:
            v.add("amount.amount", "must be more than zero")
        elif not amount.fits_minor_unit():
            v.add("amount.amount", amount.minor_unit_error())
    v.raise_if_any()


def _lines_to_credit(invoice: Invoice, wanted: list[Selection]
                     ) -> tuple[list[DocumentLine], list[int], list[LineTally]]:
    """credited_lines, with more than is left of a line refused as the contract says: reason
    CREDIT_EXCEEDS_INVOICE (a violation per line), like more than is left in total."""
    try:
        return credited_lines(invoice, wanted, "lines")
    except FailedPrecondition as exc:
        if exc.reason != "QUANTITY_EXCEEDS_REMAINING":
            raise
        raise replace(exc, reason="CREDIT_EXCEEDS_INVOICE", metadata={
            "left_to_credit": str(invoice.left_to_credit), "currency": invoice.currency}
            ) from None


def _as_of(raw: str) -> date:
    v = Violations()
    day = check.iso_date(v, "as_of", raw)
    v.raise_if_any()
    return day or today(now())

