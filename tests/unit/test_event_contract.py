"""Every domain event has its events.proto message, and fills every field of it."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from decimal import Decimal

import pytest
from google.protobuf.message import Message

from erp.sales.v1 import events_pb2
from sales_grpc.api.converters.events import encode_event, event_message, event_payload
from sales_grpc.domain import events as ev
from sales_grpc.domain.money import Money

EVENTS = typing.get_args(ev.DomainEvent)


def sample(kind: type, name: str = "") -> object:
    """A value of `kind` in which nothing is empty, zero or false, so every field shows."""
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(**{f.name: sample(hints[f.name], f.name)
                       for f in dataclasses.fields(kind)})
    if typing.get_origin(kind) is list:
        return [sample(typing.get_args(kind)[0], name)]
    values = {str: "EUR" if name == "currency_code" else f"{name}-1", int: 3, bool: True,
              Decimal: Decimal("12.34"), Money: Money("EUR", Decimal("12.34"))}
    return values[kind]


def unfilled(message: Message, path: str = "") -> list[str]:
    """The fields of `message` (and of its nested messages) left at their defaults."""
    missing = []
    for spec in message.DESCRIPTOR.fields:
        value = getattr(message, spec.name)
        where = f"{path}{spec.name}"
        if spec.is_repeated:
            if not value:
                missing.append(where)
            elif spec.message_type is not None:
                missing += unfilled(value[0], f"{where}[0].")
        elif spec.message_type is not None:
            missing += unfilled(value, f"{where}.") if message.HasField(spec.name) else [where]
        elif value == spec.default_value:
            missing.append(where)
    return missing


@pytest.mark.parametrize("kind", EVENTS, ids=lambda kind: kind.__name__)
def test_every_domain_event_fills_every_field_of_its_message_of_the_same_name(kind):
    message = event_message(sample(kind))  # type: ignore[arg-type]
    assert message.DESCRIPTOR.full_name == f"erp.sales.v1.{kind.__name__}"
    assert unfilled(message) == []


def test_every_event_dataclass_of_the_domain_is_a_domain_event_or_a_part_of_one():
    parts = {ev.StockQuantity, ev.OrderEventLine, ev.OrderFacts, ev.QuoteFacts,
             ev.InvoiceFacts}
    declared = {value for value in vars(ev).values()
                if isinstance(value, type) and dataclasses.is_dataclass(value)
                and value.__module__ == ev.__name__}
    assert declared - parts == set(EVENTS)


def test_an_event_without_a_message_is_refused():
    @dataclass(frozen=True)
    class OrderTeleported:
        order_id: str

    with pytest.raises(LookupError, match="no message OrderTeleported"):
        event_message(OrderTeleported("o1"))  # type: ignore[arg-type]


def test_an_event_field_the_message_lacks_is_refused():
    @dataclass(frozen=True)
    class OrderShipped:  # the real name, with a field renamed
        order_id: str
        order_number: str

    with pytest.raises(LookupError, match="OrderShipped has no field order_number"):
        event_message(OrderShipped("o1", "SO-1"))  # type: ignore[arg-type]


def test_an_event_field_of_the_wrong_kind_is_refused():
    @dataclass(frozen=True)
    class OrderShipped:
        order_id: str
        number: int

    with pytest.raises(TypeError):
        event_message(OrderShipped("o1", 7))  # type: ignore[arg-type]


def test_amounts_become_money_in_the_events_currency_exactly():
    event = sample(ev.OrderConfirmed)
    event = dataclasses.replace(event, currency_code="JPY",  # type: ignore[type-var]
                                grand_total=Decimal("1500"))
    message = event_message(event)  # type: ignore[arg-type]
    assert (message.grand_total.currency_code, message.grand_total.amount) == ("JPY", "1500")
    assert message.lines[0].unit_price.currency_code == "JPY"
    assert message.lines[0].total_amount.amount == "12.34"


def test_the_stored_payload_is_the_message_serialized_under_its_type_url():
    event = sample(ev.OrderCancelled)
    type_url, payload = event_payload(event)  # type: ignore[arg-type]
    assert type_url == "type.googleapis.com/erp.sales.v1.OrderCancelled"
    decoded = events_pb2.OrderCancelled.FromString(payload)
    assert decoded.reason == "reason-1" and decoded.lines[0].sku == "sku-1"


def test_the_envelope_carries_the_stored_bytes_as_they_are():
    from datetime import UTC, datetime

    stored = b"\x0a\x02o1 bytes no Python code wrote"
    envelope = events_pb2.EventEnvelope.FromString(encode_event({
        "_id": "e1", "type_url": "type.googleapis.com/erp.sales.v1.InvoiceIssued",
        "payload": stored, "actor": "me", "occur_time": datetime.now(UTC)}))
    assert (envelope.event_id, envelope.type, envelope.payload) == (
        "e1", "erp.sales.v1.InvoiceIssued", stored)
