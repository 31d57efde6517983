"""Sales quotes: a sales document offered until a day, answered by the customer, revised,
or turned into an order that keeps its prices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any

from .access import Principal
from .documents.document import SalesDocument
from .documents.lifecycle import HistoryEntry, StateMachine, Step
from .errors import FailedPrecondition, PreconditionViolation
from .orders import OrderState, SalesOrder
from .records import Audit


class QuoteState(str, Enum):
    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


class QuoteAction(str, Enum):
    """What can happen to a quote; the values are the history's `action` strings."""

    CREATE = "created"
    UPDATE = "updated"
    SEND = "sent"
    ACCEPT = "accepted"
    REJECT = "rejected"
    EXPIRE = "expired"
    CANCEL = "cancelled"
    SUPERSEDE = "superseded"
    REVISE = "revised"


LIFECYCLE: StateMachine[QuoteAction, QuoteState] = StateMachine("quote", "quotes", {
    QuoteAction.SEND: Step(frozenset({QuoteState.DRAFT}), QuoteState.SENT),
    QuoteAction.ACCEPT: Step(frozenset({QuoteState.SENT}), QuoteState.ACCEPTED),
    QuoteAction.REJECT: Step(frozenset({QuoteState.SENT}), QuoteState.REJECTED),
    QuoteAction.EXPIRE: Step(frozenset({QuoteState.SENT}), QuoteState.EXPIRED),
    QuoteAction.CANCEL: Step(frozenset({QuoteState.DRAFT, QuoteState.SENT}),
                             QuoteState.CANCELLED),
    QuoteAction.SUPERSEDE: Step(frozenset({QuoteState.SENT}), QuoteState.SUPERSEDED),
})
CLOSED = frozenset({QuoteState.ACCEPTED, QuoteState.REJECTED, QuoteState.EXPIRED,
                    QuoteState.CANCELLED, QuoteState.SUPERSEDED})
QuoteHistoryEntry = HistoryEntry[QuoteAction, QuoteState]


def today(now: datetime) -> date:
    """Validity is counted in UTC days: a quote valid until the 31st can be accepted until
    the 31st ends in UTC."""
    return now.date()


@dataclass
class Quote(SalesDocument[QuoteState]):
    valid_until: date = date.min
    revision: int = 1
    terms: str = ""
    close_reason: str = ""
    order_id: str = ""
    previous_revision_id: str = ""
    next_revision_id: str = ""

    def machine(self) -> StateMachine[Any, QuoteState]:
        return LIFECYCLE

    @property
    def send_time(self) -> datetime | None:
        return self.entered.get(QuoteState.SENT)

    @property
    def close_time(self) -> datetime | None:
        return next((self.entered[s] for s in CLOSED if s in self.entered), None)

    def move(self, action: Enum, principal: Principal, now: datetime, note: str = ""
             ) -> QuoteHistoryEntry:
        """As for every document, except that a SENT quote past its day counts as EXPIRED:
        the only move left to it is the expiry itself."""
        if action is not QuoteAction.EXPIRE:
            self.require_open(now)
        return super().move(action, principal, now, note)

    def is_past_due(self, now: datetime) -> bool:
        """A sent quote whose last day is over: it reads EXPIRED and cannot be accepted,
        whether or not the expiry job has recorded it yet."""
        return self.state is QuoteState.SENT and today(now) > self.valid_until

    def as_read(self, now: datetime) -> Quote:
        """The quote as a reader sees it at `now`: expired at once when past its day."""
        if not self.is_past_due(now):
            return self
        shown = Quote(**{f: getattr(self, f) for f in self.__dataclass_fields__})
        shown.entered = {**self.entered, QuoteState.EXPIRED: _end_of(self.valid_until)}
        shown.state = QuoteState.EXPIRED
        return shown

    def require_draft(self) -> None:
        if self.state is not QuoteState.DRAFT:
            raise FailedPrecondition(
                f"quote {self.number} is {self.state.name}; only drafts can be edited",
                reason="QUOTE_NOT_DRAFT", metadata={"current_state": self.state.name})

    def require_open(self, now: datetime) -> None:
        """Refuses to act on a sent quote past its day (before the job has marked it)."""
        if self.is_past_due(now):
            raise FailedPrecondition(
                f"quote {self.number} expired at the end of {self.valid_until.isoformat()}",
                reason="QUOTE_EXPIRED", metadata={"current_state": "EXPIRED",
                                                  "valid_until": self.valid_until.isoformat()},
                violations=[PreconditionViolation("STATE", f"quotes/{self.id}",
                                                  "current state is EXPIRED")])


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def default_valid_until(now: datetime, validity_days: int) -> date:
    return today(now) + timedelta(days=validity_days)


def order_from(quote: Quote, order_id: str, number: str, actor: str, now: datetime
               ) -> SalesOrder:
    """The draft order an accepted quote becomes: the quoted lines, prices, discounts, tax
    rates and totals as they are (whatever the catalog says now), for the quote's customer,
    owner and team, linked back to it."""
    return SalesOrder(
        id=order_id, number=number, customer_id=quote.customer_id, currency=quote.currency,
        lines=list(quote.lines), discount_rate=quote.discount_rate, shipping=quote.shipping,
        totals=quote.totals, owner_id=quote.owner_id, team_id=quote.team_id,
        audit=Audit.new(actor, now), state=OrderState.DRAFT, notes=quote.notes,
        entered={OrderState.DRAFT: now}, quote_id=quote.id)


def revision_of(quote: Quote, new_id: str, actor: str, now: datetime) -> Quote:
    """The next DRAFT revision of a sent quote: same number and content, one revision on."""
    return Quote(
        id=new_id, number=quote.number, customer_id=quote.customer_id, currency=quote.currency,
        lines=list(quote.lines), discount_rate=quote.discount_rate, shipping=quote.shipping,
        totals=quote.totals, owner_id=quote.owner_id, team_id=quote.team_id,
        audit=Audit.new(actor, now), state=QuoteState.DRAFT, notes=quote.notes,
        entered={QuoteState.DRAFT: now}, valid_until=quote.valid_until,
        revision=quote.revision + 1, terms=quote.terms, previous_revision_id=quote.id)
