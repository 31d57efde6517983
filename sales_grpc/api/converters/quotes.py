"""Quote messages to domain values and back."""

from __future__ import annotations

from collections.abc import Sequence

from erp.sales.v1 import delivery_pb2
from erp.sales.v1 import quote_service_pb2 as pb

from ...domain.errors import Violations
from ...domain.mail import MailState, MailStatus
from ...domain.money import Money
from ...domain.quotes import Quote, QuoteHistoryEntry, QuoteState
from ...services.quotes import QuoteInput
from .common import audit_out, enum_names, enum_out, money_in, money_out, only_masked, timestamp
from .documents import line_out, lines_in, totals_out

STATES = enum_names(pb.QuoteState.DESCRIPTOR, "QUOTE_STATE_")


def quote_in(message: pb.Quote, mask: Sequence[str] | None = None) -> QuoteInput:
    """The quote's editable values; on update bad values outside the mask are ignored."""
    v = Violations()
    lines = lines_in(v, "quote.lines", message.lines)
    shipping = (money_in(v, "quote.shipping_charge", message.shipping_charge)
                if message.HasField("shipping_charge") else None)
    only_masked(v, "quote", mask)
    v.raise_if_any()
    return QuoteInput(customer_id=message.customer_id, currency=message.currency_code,
                      lines=lines, discount_rate=message.discount_rate, shipping=shipping,
                      notes=message.notes, owner_id=message.owner_id, team_id=message.team_id,
                      terms=message.terms, valid_until=message.valid_until)


def _state(state: QuoteState | None) -> int:
    return 0 if state is None else enum_out(state, STATES)


def quote_out(q: Quote, delivery: MailStatus | None = None) -> pb.Quote:
    c = q.currency
    return pb.Quote(
        delivery=delivery_out(delivery) if delivery else None,
        id=q.id, number=q.number, revision=q.revision, customer_id=q.customer_id,
        state=_state(q.state),  # type: ignore[arg-type]
        currency_code=c, lines=[line_out(x, c, q.discount_rate) for x in q.lines],
        discount_rate=str(q.discount_rate), shipping_charge=money_out(Money(c, q.shipping)),
        totals=totals_out(q.totals, c), notes=q.notes, terms=q.terms,
        valid_until=q.valid_until.isoformat(), owner_id=q.owner_id, team_id=q.team_id,
        audit=audit_out(q.audit), etag=q.etag, send_time=timestamp(q.send_time),
        close_time=timestamp(q.close_time), close_reason=q.close_reason, order_id=q.order_id,
        previous_revision_id=q.previous_revision_id, next_revision_id=q.next_revision_id)


def history_out(h: QuoteHistoryEntry) -> pb.QuoteHistoryEntry:
    return pb.QuoteHistoryEntry(
        action=h.action.value, from_state=_state(h.from_state),  # type: ignore[arg-type]
        to_state=_state(h.to_state),  # type: ignore[arg-type]
        actor=h.actor, time=timestamp(h.time), note=h.note)


DELIVERY_STATES = {MailState.PENDING: delivery_pb2.DELIVERY_STATE_PENDING,
                   MailState.RETRYING: delivery_pb2.DELIVERY_STATE_RETRYING,
                   MailState.SENT: delivery_pb2.DELIVERY_STATE_SENT,
                   MailState.FAILED: delivery_pb2.DELIVERY_STATE_FAILED}


def delivery_out(status: MailStatus) -> delivery_pb2.DocumentDelivery:
    return delivery_pb2.DocumentDelivery(
        state=DELIVERY_STATES[status.state], recipients=list(status.recipients),
        message_id=status.message_id, attempts=status.attempts,
        send_time=timestamp(status.send_time),
        next_attempt_time=timestamp(status.next_attempt_time), last_error=status.last_error)
