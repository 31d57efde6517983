"""The invoice lifecycle: finalize (with its gapless number), send, void, write off, and the
overdue job. Each is one DocumentWorkflow change: the invoice, its order's invoicing, the
customer's receivables, history and events commit together."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..domain import events as ev
from ..domain.access import Principal, Role
from ..domain.authorization import Move, authorize
from ..domain.errors import Aborted, FailedPrecondition
from ..domain.invoices import Invoice, InvoiceAction, InvoiceState, release_order, today
from ..domain.mail import DocumentRef, Mail
from ..domain.money import Money
from ..domain.numbering import INVOICE
from .clock import now
from .documents import Change, DocumentWorkflow
from .inputs import reason_text, recipients
from .mail import MailJobs
from .ports import (
    CustomerRecords,
    CustomerStatistics,
    InvoiceRecords,
    NumberSeries,
    OrderRecords,
)

# The overdue job acts as the system: it sees every invoice.
SYSTEM = Principal("system", Role.ADMIN)


class InvoiceLifecycle:
    def __init__(self, workflow: DocumentWorkflow[Invoice], invoices: InvoiceRecords,
                 orders: OrderRecords, stats: CustomerStatistics,
                 customers: CustomerRecords, numbers: NumberSeries, mail: MailJobs) -> None:
        self._workflow = workflow
        self._invoices = invoices
        self._orders = orders
        self._stats = stats
        self._customers = customers
        self._numbers = numbers
        self._mail = mail

    async def finalize(self, principal: Principal, invoice_id: str, etag: str) -> Invoice:
        return await self._workflow.change(principal, invoice_id, etag, self._finalizing)

    async def _finalizing(self, change: Change[Invoice]) -> None:
        """DRAFT -> OPEN: the order's billed amount and the customer's receivables move, then
        the number is drawn, last, since the series' counter stays locked until the commit."""
        invoice, session = change.document, change.session
        invoice.check_finalizable(change.moment)
        customer = await self._stats.receivable(
            invoice.customer_id, Money(invoice.currency, invoice.totals.grand_total),
            Money.zero(invoice.currency), session)
        if customer is None or customer.is_deleted:
            raise FailedPrecondition(f"invoice {invoice.id}'s customer is deleted",
                                     reason="CUSTOMER_DELETED",
                                     metadata={"customer_id": invoice.customer_id})
        if invoice.order_id:
            order = await self._orders.get(invoice.order_id, session)
            if order is not None:
                order.invoiced_amount += invoice.totals.grand_total
                await self._orders.save_invoicing(order, session)
        number = await self._numbers.draw(INVOICE, change.moment, session)
        change.history += invoice.finalize(number, change.principal, change.moment)
        change.events.append(ev.InvoiceFinalized.of(invoice))
        if invoice.state is InvoiceState.PAID:
            change.events.append(ev.InvoicePaid(**ev.InvoiceFacts.facts(invoice),
                                                paid_date=today(change.moment).isoformat()))

    async def send(self, principal: Principal, invoice_id: str, etag: str,
                   to: Sequence[str] = (), finalize: bool = False) -> Invoice:
        """Queues the invoice's email (PDF attached) in the change's transaction; a draft is
        finalized first when asked."""
        addresses = recipients(to)

        async def effects(change: Change[Invoice]) -> None:
            invoice = change.document
            if invoice.state is InvoiceState.DRAFT:
                if not finalize:
                    raise FailedPrecondition(
                        f"invoice {invoice.id} is a draft; finalize it first, or send with "
                        "finalize", reason="INVOICE_IS_DRAFT")
                await self._finalizing(change)
            if invoice.state is InvoiceState.VOID:
                raise FailedPrecondition(f"invoice {invoice.number} is VOID; it is not sent",
                                         reason="INVOICE_VOID")
            customer = await self._customers.get(invoice.customer_id, change.session)
            address = addresses or ((customer.email,) if customer and customer.email else ())
            if not address:
                raise FailedPrecondition(f"invoice {invoice.number}'s customer has no email "
                                         "address; name the recipients in `to`",
                                         reason="NO_RECIPIENT")
            document = DocumentRef("invoice", invoice.id)
            await self._mail.enqueue(Mail(
                document, address, f"Invoice {invoice.number}",
                _mail_body(invoice, customer.first_name if customer else ""),
                attachments=(document,)), change.moment, change.session)
            invoice.last_send_time = change.moment
            change.history.append(invoice.record(InvoiceAction.SEND, principal, change.moment,
                                                 ", ".join(address)))
            change.events.append(ev.InvoiceSent(**ev.InvoiceFacts.facts(invoice),
                                                recipients=list(address)))

        return await self._workflow.change(principal, invoice_id, etag, effects)

    async def void(self, principal: Principal, invoice_id: str, etag: str, reason: str
                   ) -> Invoice:
        """OPEN or UNCOLLECTIBLE -> VOID, for an invoice with no payments or credits: it stops
        being owed, and its order can bill those quantities again."""
        authorize(principal, Move.VOID_INVOICE)
        reason = reason_text(reason)

        async def effects(change: Change[Invoice]) -> None:
            invoice, session = change.document, change.session
            invoice.require_voidable()
            owed = invoice.amount_due
            change.history.append(invoice.move(InvoiceAction.VOID, principal, change.moment,
                                               reason))
            invoice.close_reason = reason
            await self._stats.receivable(invoice.customer_id, Money(invoice.currency, -owed),
                                         Money.zero(invoice.currency), session)
            if invoice.order_id:
                order = await self._orders.get(invoice.order_id, session)
                if order is not None:
                    release_order(order, invoice)
                    order.invoiced_amount -= invoice.totals.grand_total
                    await self._orders.save_invoicing(order, session)
            change.events.append(ev.InvoiceVoided(**ev.InvoiceFacts.facts(invoice),
                                                  reason=reason))

        return await self._workflow.change(principal, invoice_id, etag, effects)

    async def mark_uncollectible(self, principal: Principal, invoice_id: str, etag: str,
                                 reason: str) -> Invoice:
        """OPEN -> UNCOLLECTIBLE: still owed (exposure and aging keep it), still payable."""
        authorize(principal, Move.WRITE_OFF_INVOICE)
        reason = reason_text(reason)

        async def effects(change: Change[Invoice]) -> None:
            change.document.close_reason = reason
            change.events.append(ev.InvoiceMarkedUncollectible(
                **ev.InvoiceFacts.facts(change.document), reason=reason))

        return await self._workflow.change(principal, invoice_id, etag, effects,
                                           action=InvoiceAction.WRITE_OFF, note=reason)

    async def note_overdue(self, moment: datetime | None = None, batch: int = 100) -> int:
        """Writes one InvoiceOverdue event per OPEN invoice past its due date. Safe on every
        replica at once: the version-checked save lets one replica mark an invoice; the
        others find it marked (or changed) and skip it. Returns how many this call marked."""
        moment = moment or now()
        marked = 0
        for invoice_id in await self._invoices.overdue_unnoted(today(moment), batch):
            async def effects(change: Change[Invoice]) -> None:
                invoice = change.document
                if invoice.overdue_noted or not invoice.is_overdue(moment):
                    raise _NotOverdue()  # noted by another replica, paid, or voided
                invoice.overdue_noted = True
                days = invoice.days_overdue(moment)
                change.history.append(invoice.record(InvoiceAction.OVERDUE, SYSTEM,
                                                     change.moment, f"{days} days past due"))
                change.events.append(ev.InvoiceOverdue(**ev.InvoiceFacts.facts(invoice),
                                                       days_overdue=days))

            try:
                await self._workflow.change(SYSTEM, invoice_id, "", effects)
                marked += 1
            except (_NotOverdue, Aborted, FailedPrecondition):
                continue
        return marked


class _NotOverdue(Exception):
    """Aborts a mark whose invoice needs none (nothing to record)."""


def _mail_body(invoice: Invoice, first_name: str) -> str:
    greeting = f"Dear {first_name}," if first_name else "Hello,"
    due = invoice.due_date.isoformat() if invoice.due_date else ""
    return (f"{greeting}\n\nplease find attached our invoice {invoice.number} for "
            f"{invoice.totals.grand_total} {invoice.currency}; {invoice.amount_due} "
            f"{invoice.currency} is due by {due}.\n\nKind regards\n")
