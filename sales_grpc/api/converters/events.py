"""Encodes outbox documents as protobuf EventEnvelopes for the Redis stream."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from erp.sales.v1 import events_pb2 as pb
from erp.sales.v1 import money_pb2

from .common import timestamp


def _payload(kind: str, data: dict[str, Any]) -> Message:
    if kind == "OrderConfirmed":
        return pb.OrderConfirmed(
            order_id=data["order_id"], number=data["number"], customer_id=data["customer_id"],
            grand_total=money_pb2.Money(currency_code=data["currency"],
                                        amount=data["grand_total"]),
            credit_limit_overridden=data["credit_limit_overridden"])
    if kind in ("StockReserved", "StockReleased"):
        quantities = [pb.StockQuantity(**q) for q in data["quantities"]]
        return getattr(pb, kind)(order_id=data["order_id"], quantities=quantities)
    return getattr(pb, kind)(**data)  # OrderCancelled, OrderShipped, OrderDelivered


def encode_event(doc: dict[str, Any]) -> bytes:
    payload = _payload(doc["type"], doc["data"])
    return pb.EventEnvelope(
        event_id=doc["_id"], type=payload.DESCRIPTOR.full_name,
        occur_time=timestamp(doc["occur_time"]), actor=doc["actor"],
        payload=payload.SerializeToString()).SerializeToString()
