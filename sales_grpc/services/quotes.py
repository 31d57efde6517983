"""Quote use cases: create, read, list, edit and duplicate drafts (the lifecycle, accepting
into an order and expiry are in quote_lifecycle.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ..config import Settings
from ..domain import events as ev
from ..domain import validation as check
from ..domain.access import Principal, scope_of
from ..domain.documents.lines import totals_of
from ..domain.errors import InvalidArgument, Violations
from ..domain.listing import (
    FilterField,
    day_converter,
    decimal_converter,
    enum_converter,
    page_size,
    parse_filter,
    parse_order_by,
    text_converter,
    time_converter,
)
from ..domain.mail import MailStatus
from ..domain.money import Money
from ..domain.numbering import QUOTE
from ..domain.products import Product
from ..domain.quotes import (
    Quote,
    QuoteAction,
    QuoteHistoryEntry,
    QuoteState,
    default_valid_until,
    today,
)
from ..domain.records import Audit
from .clock import now
from .customers import CustomerService
from .document_lines import LineInput
from .documents import Change, DocumentWorkflow
from .drafts import PRICING_FIELDS, DraftInput, Drafts
from .ids import new_id
from .mail import MailJobs
from .ports import (
    IdempotencyKeys,
    NumberSeries,
    Page,
    ProductRecords,
    QuoteRecords,
    Replayed,
    Session,
    idempotency_key,
)


@dataclass(frozen=True)
class QuoteInput(DraftInput):
    terms: str = ""
    valid_until: str = ""  # an ISO date; empty means today + QUOTE_VALIDITY_DAYS


EDITABLE = PRICING_FIELDS | {"terms", "valid_until"}
PREFIX = "quote"


_EQ = frozenset({"=", "!="})
_RANGE = frozenset({"=", "<", "<=", ">", ">="})
FILTERS = {
    "state": FilterField("state", _EQ, enum_converter({s.name: s.value for s in QuoteState})),
    "customer_id": FilterField("customer_id", _EQ, text_converter),
    "owner_id": FilterField("owner_id", _EQ, text_converter),
    "team_id": FilterField("team_id", _EQ, text_converter),
    "valid_until": FilterField("valid_until", _RANGE, day_converter),
    "create_time": FilterField("create_time", _RANGE - {"="}, time_converter),
    "grand_total": FilterField("totals.grand_total", _RANGE, decimal_converter),
    "text": FilterField("text", frozenset({":"}), text_converter),
}
ORDER_BY = {"create_time": "create_time", "number": "number", "valid_until": "valid_until",
            "grand_total": "totals.grand_total"}


class QuoteService:
    def __init__(self, workflow: DocumentWorkflow[Quote], quotes: QuoteRecords,
                 products: ProductRecords, customers: CustomerService,
                 idempotency: IdempotencyKeys, settings: Settings,
                 numbers: NumberSeries, mail: MailJobs) -> None:
        self._mail = mail
        self._workflow = workflow
        self._quotes = quotes
        self._idempotency = idempotency
        self._settings = settings
        self._numbers = numbers
        self._drafts = Drafts(products, customers, settings)

    # -- reading: every quote is returned as of now, so a SENT one past its day reads EXPIRED

    async def get(self, principal: Principal, quote_id: str) -> Quote:
        check.object_id("id", quote_id)
        quote = self._workflow.visible(principal, await self._quotes.get(quote_id), quote_id)
        return quote.as_read(now())

    async def get_by_number(self, principal: Principal, number: str) -> Quote:
        if not number:
            raise InvalidArgument.of("number", "is required")
        quote = self._workflow.visible(principal, await self._quotes.get_by_number(number),
                                       number)
        return quote.as_read(now())

    async def list_page(self, principal: Principal, *, filter: str = "", order_by: str = "",
                        size: int = 0, token: str = "") -> tuple[list[Quote], str]:
        conditions = parse_filter(filter, FILTERS)
        order = parse_order_by(order_by, ORDER_BY, "create_time desc")
        quotes, next_token = await self._quotes.list_page(scope_of(principal), conditions,
                                                          order, page_size(size), token)
        moment = now()
        return [q.as_read(moment) for q in quotes], next_token

    async def deliveries(self, quotes: Sequence[Quote]) -> dict[str, MailStatus]:
        """Where each quote's latest email stands, by quote id (quotes without one absent)."""
        return await self._mail.statuses_of("quote", [q.id for q in quotes]) if quotes else {}

    async def history(self, principal: Principal, quote_id: str, size: int = 0,
                      token: str = "") -> Page[QuoteHistoryEntry]:
        return await self._workflow.history(principal, quote_id, page_size(size), token)

    # -- creating and editing ------------------------------------------------------------

    async def create(self, principal: Principal, data: QuoteInput, request_id: str = ""
                     ) -> Quote:
        v = Violations()
        check.request_id(v, request_id)
        v.raise_if_any()
        key = idempotency_key("quote", principal.subject, request_id)
        if key and (earlier := await self._idempotency.find(key)):
            return await self.get(principal, earlier)  # before drawing a number
        quote = await self._draft(principal, data)
        quote.number = await self._numbers.draw(QUOTE, quote.audit.create_time, None)
        outcome = await self._idempotency.run_once(key, quote.id,
                                                   self._inserting(quote, principal))
        if isinstance(outcome, Replayed):
            return await self.get(principal, outcome.result_id)
        return quote

    def _inserting(self, quote: Quote, principal: Principal
                   ) -> Callable[[Session], Awaitable[None]]:
        """Inserts a new quote (or revision) with its history entry and QuoteCreated event,
        in the caller's transaction."""

        async def work(session: Session) -> None:
            await self._workflow.add(quote, QuoteAction.CREATE, principal, session)
            await self._workflow.log(Change(
                quote, principal, quote.audit.create_time, session,
                events=[ev.QuoteCreated(**ev.QuoteFacts.facts(quote))]), session)

        return work

    async def _draft(self, principal: Principal, data: QuoteInput) -> Quote:
        start = await self._drafts.start(principal, data, PREFIX, "quote")
        moment = now()
        quote = Quote(
            id=new_id(), number="", customer_id=start.customer.id, currency=start.currency,
            lines=[], discount_rate=Decimal(0), shipping=Decimal(0),
            totals=totals_of([], Decimal(0)), owner_id=start.owner_id, team_id=start.team_id,
            audit=Audit.new(principal.subject, moment), state=QuoteState.DRAFT,
            entered={QuoteState.DRAFT: moment},
            valid_until=default_valid_until(moment, self._settings.quote_validity_days))
        self._apply(principal, quote, data, set(EDITABLE), start.catalog, moment,
                    default_day=not data.valid_until)
        return quote

    def _apply(self, principal: Principal, quote: Quote, data: QuoteInput, fields: set[str],
               catalog: dict[str, Product], moment: datetime, default_day: bool = False
               ) -> None:
        v = Violations()
        if "terms" in fields:
            check.text(v, f"{PREFIX}.terms", data.terms, required=False, max_len=4000)
        valid_until = quote.valid_until
        if "valid_until" in fields and not default_day:
            valid_until = _valid_until(v, data.valid_until, moment)
        v.raise_if_any()
        self._drafts.apply(principal, quote, data, fields & PRICING_FIELDS, catalog, PREFIX)
        if "terms" in fields:
            quote.terms = data.terms
        quote.valid_until = valid_until

    async def update(self, principal: Principal, quote_id: str, mask: list[str],
                     data: QuoteInput, etag: str) -> Quote:
        fields = set(check.update_mask(mask, EDITABLE, kind="draft quote"))
        catalog = await self._drafts.catalog(data, fields)

        async def effects(change: Change[Quote]) -> None:
            quote = change.document
            quote.require_draft()
            self._apply(principal, quote, data, fields, catalog, change.moment)
            change.history.append(quote.record(QuoteAction.UPDATE, principal, change.moment,
                                               ",".join(sorted(fields))))

        return await self._workflow.change(principal, quote_id, etag, effects)

    async def duplicate(self, principal: Principal, quote_id: str, request_id: str = ""
                        ) -> Quote:
        source = await self.get(principal, quote_id)
        data = QuoteInput(
            customer_id=source.customer_id, currency=source.currency,
            lines=[LineInput(x.product_id, x.quantity, None, str(x.discount_rate))
                   for x in source.lines],
            discount_rate=str(source.discount_rate), notes=source.notes, terms=source.terms,
            shipping=Money(source.currency, source.shipping))
        return await self.create(principal, data, request_id)


def _valid_until(v: Violations, raw: str, moment: datetime) -> date:
    day = check.iso_date(v, f"{PREFIX}.valid_until", raw, required=True)
    if day is None:
        return date.min
    if day < today(moment):
        v.add(f"{PREFIX}.valid_until", f"{day.isoformat()} is in the past")
    return day
