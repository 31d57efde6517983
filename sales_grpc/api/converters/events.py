"""Domain events to their events.proto messages, generically, and outbox entries to the
EventEnvelopes the relay publishes.

One rule instead of one function per event: an event becomes the message of the same name,
each dataclass field the message field of the same name; a Decimal amount (or a domain Money)
becomes a Money in the event's `currency_code`, a list of dataclasses a repeated message. A
field the message lacks raises, and tests/unit/test_event_contract.py runs every event through
this, so an event and its message cannot drift apart unnoticed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from google.protobuf import message_factory
from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.message import Message

from erp.sales.v1 import events_pb2 as pb
from erp.sales.v1 import money_pb2

from ...domain.events import DomainEvent
from ...domain.money import Money
from .common import minor_money_out, timestamp

_MONEY = money_pb2.Money.DESCRIPTOR


def event_message(event: DomainEvent) -> Message:
    """The events.proto message named like the event's class, filled from its fields."""
    name = type(event).__name__
    descriptor = pb.DESCRIPTOR.message_types_by_name.get(name)
    if descriptor is None:
        raise LookupError(f"events.proto has no message {name} for the domain event")
    message = message_factory.GetMessageClass(descriptor)()
    _fill(message, event, getattr(event, "currency_code", ""))
    return message


def event_payload(event: DomainEvent) -> tuple[str, bytes]:
    """The event's type URL (`type.googleapis.com/erp.sales.v1.OrderConfirmed`) and its
    serialized message: what the outbox stores when the change commits."""
    packed = AnyMessage()
    packed.Pack(event_message(event))
    return packed.type_url, packed.value


def encode_event(doc: Mapping[str, Any]) -> bytes:
    """An outbox entry as the serialized EventEnvelope of its stream entry; the payload goes
    out byte for byte as stored."""
    return pb.EventEnvelope(
        event_id=doc["_id"], type=message_name(doc["type_url"]),
        occur_time=timestamp(doc["occur_time"]), actor=doc["actor"],
        payload=doc["payload"]).SerializeToString()


def message_name(type_url: str) -> str:
    """`erp.sales.v1.OrderConfirmed` of `type.googleapis.com/erp.sales.v1.OrderConfirmed`."""
    return type_url.rpartition("/")[2]


def _fill(message: Message, source: Any, currency: str) -> None:
    fields = message.DESCRIPTOR.fields_by_name
    for spec in dataclasses.fields(source):
        target = fields.get(spec.name)
        if target is None:
            raise LookupError(f"{message.DESCRIPTOR.full_name} has no field {spec.name}")
        value = getattr(source, spec.name)
        if target.is_repeated:
            getattr(message, spec.name).extend(_value(target, item, currency) for item in value)
        elif target.message_type is not None:
            getattr(message, spec.name).CopyFrom(_value(target, value, currency))
        else:
            setattr(message, spec.name, value)  # a mismatched scalar raises TypeError here


def _value(target: Any, value: Any, currency: str) -> Any:  # target: a FieldDescriptor
    if target.message_type is None:
        return value
    if target.message_type.full_name == _MONEY.full_name:
        if isinstance(value, Decimal):
            if not currency:
                raise ValueError(f"{target.full_name} is an amount, but the event has no "
                                 "currency_code")
            value = Money(currency, value)
        if not isinstance(value, Money):
            raise TypeError(f"{target.full_name} is Money; got {type(value).__name__}")
        return minor_money_out(value.amount, value.currency)
    nested = message_factory.GetMessageClass(target.message_type)()
    _fill(nested, value, currency)
    return nested
