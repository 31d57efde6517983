"""The quote lifecycle: send, accept into an order, reject, cancel, revise, and the expiry of
sent quotes past their day. Each is one DocumentWorkflow change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..domain import events as ev
from ..domain.access import Principal, Role
from ..domain.documents.lifecycle import HistoryEntry
from ..domain.errors import FailedPrecondition
from ..domain.mail import DocumentRef, Mail
from ..domain.numbering import SALES_ORDER
from ..domain.orders import OrderAction, OrderState, SalesOrder
from ..domain.quotes import Quote, QuoteAction, QuoteState, order_from, revision_of, today
from .clock import now
from .documents import Change, DocumentWorkflow
from .ids import new_id
from .inputs import reason_text, recipients
from .mail import MailJobs
from .order_lifecycle import OrderLifecycle, ShortStock
from .ports import CustomerRecords, NumberSeries, OrderRecords, QuoteRecords

# The expiry job acts as the system, not as a caller: it sees every quote.
SYSTEM = Principal("system", Role.ADMIN)


class QuoteLifecycle:
    def __init__(self, workflow: DocumentWorkflow[Quote], quotes: QuoteRecords,
                 order_workflow: DocumentWorkflow[SalesOrder], orders: OrderRecords,
                 order_lifecycle: OrderLifecycle, numbers: NumberSeries,
                 customers: CustomerRecords, mail: MailJobs) -> None:
        self._customers = customers
        self._mail = mail
        self._workflow = workflow
        self._quotes = quotes
        self._order_workflow = order_workflow
        self._orders = orders
        self._order_lifecycle = order_lifecycle
        self._numbers = numbers

    async def send(self, principal: Principal, quote_id: str, etag: str,
                   to: Sequence[str] = ()) -> Quote:
        """DRAFT -> SENT, with the quote's email enqueued in the same transaction: it goes
        out (PDF attached) after the commit, by the delivery worker."""
        addresses = recipients(to)

        async def effects(change: Change[Quote]) -> None:
            quote = change.document
            if quote.valid_until < today(change.moment):
                raise FailedPrecondition(
                    f"quote {quote.number} was valid until {quote.valid_until.isoformat()}; "
                    "set a later valid_until before sending it", reason="QUOTE_VALIDITY_PAST")
            customer = await self._customers.get(quote.customer_id, change.session)
            address = addresses or ((customer.email,) if customer and customer.email else ())
            if not address:
                raise FailedPrecondition(f"quote {quote.number}'s customer has no email "
                                         "address; name the recipients in `to`",
                                         reason="NO_RECIPIENT")
            document = DocumentRef("quote", quote.id)
            await self._mail.enqueue(Mail(
                document, address, f"Quote {quote.number}",
                _mail_body(quote, customer.first_name if customer else ""),
                attachments=(document,)), change.moment, change.session)
            change.events.append(ev.QuoteSent(**ev.QuoteFacts.facts(quote),
                                              valid_until=quote.valid_until.isoformat()))

        return await self._workflow.change(principal, quote_id, etag, effects,
                                           action=QuoteAction.SEND)

    async def accept(self, principal: Principal, quote_id: str, etag: str,
                     confirm: bool = False) -> tuple[Quote, SalesOrder]:
        """The quote ACCEPTED and its order, made in one transaction; a retry (or a
        concurrent accept that lost) gets the order the first one made."""
        number = await self._numbers.draw(SALES_ORDER, now(), None)
        order_id = new_id()

        async def effects(change: Change[Quote]) -> None:
            quote, moment = change.document, change.moment
            order = order_from(quote, order_id, number, principal.subject, moment)
            made = Change(order, principal, moment, change.session)
            made.history.append(HistoryEntry(order.id, OrderAction.CREATE, None,
                                             OrderState.DRAFT, principal.subject, moment,
                                             f"from quote {quote.number}"))
            if confirm:
                made.history.append(order.move(OrderAction.CONFIRM, principal, moment))
                await self._order_lifecycle.confirming(principal)(made)
            await self._orders.add(order, change.session)
            await self._order_workflow.log(made, change.session)
            quote.order_id = order.id
            change.events.append(ev.QuoteAccepted(**ev.QuoteFacts.facts(quote),
                                                  order_id=order.id))

        try:
            quote = await self._workflow.change(principal, quote_id, etag, effects,
                                                action=QuoteAction.ACCEPT,
                                                note=f"order {number}")
        except ShortStock as short:
            raise await self._order_lifecycle.shortage(short.order) from None
        except FailedPrecondition:
            accepted = await self._accepted(principal, quote_id)
            if accepted is None:
                raise
            return accepted
        order = await self._orders.get(quote.order_id)
        assert order is not None, "the order commits with the accepted quote"
        return quote, order

    async def _accepted(self, principal: Principal, quote_id: str
                        ) -> tuple[Quote, SalesOrder] | None:
        """The quote and its order if it is already accepted (a retry, or a lost race)."""
        quote = self._workflow.visible(principal, await self._quotes.get(quote_id), quote_id)
        if quote.state is not QuoteState.ACCEPTED or not quote.order_id:
            return None
        order = await self._orders.get(quote.order_id)
        return (quote, order) if order is not None else None

    async def reject(self, principal: Principal, quote_id: str, etag: str, reason: str
                     ) -> Quote:
        return await self._close(principal, quote_id, etag, reason, QuoteAction.REJECT,
                                 ev.QuoteRejected)

    async def cancel(self, principal: Principal, quote_id: str, etag: str, reason: str
                     ) -> Quote:
        return await self._close(principal, quote_id, etag, reason, QuoteAction.CANCEL,
                                 ev.QuoteCancelled)

    async def _close(self, principal: Principal, quote_id: str, etag: str, reason: str,
                     action: QuoteAction,
                     event: type[ev.QuoteRejected] | type[ev.QuoteCancelled]) -> Quote:
        """A move that ends the quote for a reason the customer or the rep gives."""
        reason = reason_text(reason)

        async def effects(change: Change[Quote]) -> None:
            change.document.close_reason = reason
            change.events.append(event(**ev.QuoteFacts.facts(change.document), reason=reason))

        return await self._workflow.change(principal, quote_id, etag, effects, action=action,
                                           note=reason)

    async def revise(self, principal: Principal, quote_id: str, etag: str) -> Quote:
        """A new DRAFT revision; the sent one is SUPERSEDED. A retry returns the revision the
        first call made."""
        revision_id = new_id()

        async def effects(change: Change[Quote]) -> None:
            sent, moment = change.document, change.moment
            sent.next_revision_id = revision_id
            revised = revision_of(sent, revision_id, principal.subject, moment)
            await self._workflow.add(revised, QuoteAction.CREATE, principal, change.session)
            await self._workflow.log(Change(
                revised, principal, moment, change.session,
                history=[revised.record(QuoteAction.REVISE, principal, moment,
                                        f"revision {revised.revision} of {sent.id}")],
                events=[ev.QuoteCreated(**ev.QuoteFacts.facts(revised))]), change.session)

        try:
            superseded = await self._workflow.change(principal, quote_id, etag, effects,
                                                     action=QuoteAction.SUPERSEDE)
        except FailedPrecondition:
            current = self._workflow.visible(principal, await self._quotes.get(quote_id),
                                             quote_id)
            if current.state is not QuoteState.SUPERSEDED or not current.next_revision_id:
                raise
            superseded = current
        revised_quote = await self._quotes.get(superseded.next_revision_id)
        assert revised_quote is not None, "the revision commits with the superseded quote"
        return revised_quote

    async def expire_due(self, moment: datetime | None = None, batch: int = 100) -> int:
        """Records the expiry of SENT quotes past their day, each in its own transaction
        with its history entry and QuoteExpired event. Safe on every replica at once: the
        version-checked save lets one replica expire a quote; the others find it moved and
        skip it, so no event is written twice. Returns how many this call expired."""
        moment = moment or now()
        expired = 0
        for quote_id in await self._quotes.past_due(today(moment), batch):
            async def effects(change: Change[Quote]) -> None:
                quote = change.document
                if quote.valid_until >= today(moment):  # not past due after all
                    raise _NotDue()
                change.events.append(ev.QuoteExpired(
                    **ev.QuoteFacts.facts(quote), valid_until=quote.valid_until.isoformat()))

            try:
                await self._workflow.change(SYSTEM, quote_id, "", effects,
                                            action=QuoteAction.EXPIRE)
                expired += 1
            except (FailedPrecondition, _NotDue):
                continue  # another replica expired it, or it was answered in between
        return expired


class _NotDue(Exception):
    """Aborts an expiry whose quote is not past its day (nothing to record)."""


def _mail_body(quote: Quote, first_name: str) -> str:
    greeting = f"Dear {first_name}," if first_name else "Hello,"
    return (f"{greeting}\n\nplease find attached our quote {quote.number} for "
            f"{quote.totals.grand_total} {quote.currency}, valid until "
            f"{quote.valid_until.isoformat()}.\n\nKind regards\n")

