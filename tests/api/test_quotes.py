"""QuoteService over the wire: the lifecycle, accepting into an order, revisions, expiry."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import grpc
import pytest
from bson import ObjectId
from google.protobuf.field_mask_pb2 import FieldMask

from erp.sales.v1 import order_service_pb2 as opb
from erp.sales.v1 import product_service_pb2 as ppb
from erp.sales.v1 import quote_service_pb2 as qpb
from erp.sales.v1 import quote_service_pb2_grpc as qgrpc
from sales_grpc.bootstrap import build
from sales_grpc.domain.access import Role

from .helpers import fails
from .order_fixtures import Shop, line, usd

FAILED = grpc.StatusCode.FAILED_PRECONDITION


@pytest.fixture
def shop(running, admin) -> Shop:
    return Shop(running.channel, admin)


@pytest.fixture
def quotes(running) -> qgrpc.QuoteServiceStub:
    return qgrpc.QuoteServiceStub(running.channel)


async def _quote(quotes, md, customer_id: str, *lines, **fields) -> qpb.Quote:
    return (await quotes.CreateQuote(qpb.CreateQuoteRequest(quote=qpb.Quote(
        customer_id=customer_id, lines=list(lines), **fields)), metadata=md)).quote


async def _sent(quotes, md, customer_id: str, *lines, **fields) -> qpb.Quote:
    quote = await _quote(quotes, md, customer_id, *lines, **fields)
    return (await quotes.SendQuote(qpb.SendQuoteRequest(id=quote.id), metadata=md)).quote


async def _past_due(running, quote_id: str) -> None:
    """Moves a sent quote's last day to yesterday, as if its validity had run out."""
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    await running.app.mongo.db.quotes.update_one({"_id": ObjectId(quote_id)},
                                                 {"$set": {"valid_until": yesterday}})


async def test_a_quote_is_numbered_priced_like_an_order_and_valid_for_thirty_days(
        shop, quotes, admin):
    customer = await shop.customer()
    product = await shop.product(price="19.99", tax_rate="0.07")
    lines = (line(product.id, 3, discount_rate="0.125"),)
    quote = await _quote(quotes, admin, customer.id, *lines, discount_rate="0.05",
                         shipping_charge=usd("4.95"))
    order = await shop.order(customer.id, *lines, discount_rate="0.05",
                             shipping_charge=usd("4.95"))
    assert quote.number.startswith(f"QT-{date.today().year}-") and quote.revision == 1
    assert quote.state == qpb.QUOTE_STATE_DRAFT
    assert quote.valid_until == (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    assert list(quote.lines) == list(order.lines)
    assert quote.totals == order.totals


async def test_an_accepted_quote_becomes_an_order_with_the_quoted_prices_to_the_cent(
        shop, quotes, admin):
    customer = await shop.customer()
    product = await shop.product(price="50.00", tax_rate="0.19")
    quote = await _sent(quotes, admin, customer.id, line(product.id, 3, discount_rate="0.1"))
    assert quote.state == qpb.QUOTE_STATE_SENT
    # The catalog changes after the quote went out; the order keeps what was quoted.
    changed = ppb.Product(id=product.id, unit_price=usd("80.00"))
    await shop.products.UpdateProduct(ppb.UpdateProductRequest(
        product=changed, update_mask=FieldMask(paths=["unit_price"])), metadata=admin)
    accepted = await quotes.AcceptQuote(qpb.AcceptQuoteRequest(id=quote.id), metadata=admin)
    order = accepted.sales_order
    assert accepted.quote.state == qpb.QUOTE_STATE_ACCEPTED
    assert (accepted.quote.order_id, order.quote_id) == (order.id, quote.id)
    assert order.state == opb.SALES_ORDER_STATE_DRAFT
    assert list(order.lines) == list(quote.lines) and order.totals == quote.totals
    assert order.lines[0].unit_price.amount == "50.00"
    history = await quotes.ListQuoteHistory(qpb.ListQuoteHistoryRequest(id=quote.id),
                                            metadata=admin)
    assert [e.action for e in history.entries] == ["created", "sent", "accepted"]
    assert history.entries[-1].note == f"order {order.number}"


async def test_retried_and_concurrent_accepts_of_one_quote_make_one_order(
        running, shop, quotes, admin):
    customer = await shop.customer()
    product = await shop.product()
    quote = await _sent(quotes, admin, customer.id, line(product.id, 1))
    replies = await asyncio.gather(*(
        quotes.AcceptQuote(qpb.AcceptQuoteRequest(id=quote.id), metadata=admin)
        for _ in range(5)))
    assert len({r.sales_order.id for r in replies}) == 1
    again = await quotes.AcceptQuote(qpb.AcceptQuoteRequest(id=quote.id), metadata=admin)
    assert again.sales_order.id == replies[0].sales_order.id
    assert await running.app.mongo.db.sales_orders.count_documents({"quote_id": quote.id}) == 1


async def test_accept_with_confirm_reserves_stock_and_a_shortage_rolls_it_all_back(
        running, shop, quotes, admin):
    customer = await shop.customer()
    plenty, scarce = await shop.product(stock=10), await shop.product(stock=1)
    fine = await _sent(quotes, admin, customer.id, line(plenty.id, 4))
    done = await quotes.AcceptQuote(qpb.AcceptQuoteRequest(id=fine.id, confirm=True),
                                    metadata=admin)
    assert done.sales_order.state == opb.SALES_ORDER_STATE_CONFIRMED
    assert (await shop.stock(plenty.id)).reserved == 4
    short = await _sent(quotes, admin, customer.id, line(plenty.id, 1), line(scarce.id, 2))
    failure = await fails(quotes.AcceptQuote(qpb.AcceptQuoteRequest(id=short.id, confirm=True),
                                             metadata=admin), FAILED)
    assert failure.info.reason == "INSUFFICIENT_STOCK"
    kept = (await quotes.GetQuote(qpb.GetQuoteRequest(id=short.id), metadata=admin)).quote
    assert kept.state == qpb.QUOTE_STATE_SENT and not kept.order_id
    assert (await shop.stock(plenty.id)).reserved == 4 and (await shop.stock(scarce.id)
                                                            ).reserved == 0
    assert await running.app.mongo.db.sales_orders.count_documents({"quote_id": short.id}) == 0


async def test_a_sent_quote_past_its_day_reads_expired_and_cannot_be_accepted_at_once(
        running, shop, quotes, admin):
    customer = await shop.customer()
    product = await shop.product()
    quote = await _sent(quotes, admin, customer.id, line(product.id, 1))
    await _past_due(running, quote.id)  # the expiry job has not run
    read = (await quotes.GetQuote(qpb.GetQuoteRequest(id=quote.id), metadata=admin)).quote
    assert read.state == qpb.QUOTE_STATE_EXPIRED
    for call in (quotes.AcceptQuote(qpb.AcceptQuoteRequest(id=quote.id), metadata=admin),
                 quotes.RejectQuote(qpb.RejectQuoteRequest(id=quote.id, reason="late"),
                                    metadata=admin),
                 quotes.ReviseQuote(qpb.ReviseQuoteRequest(id=quote.id), metadata=admin)):
        # Whether or not the server's expiry job has recorded it by now, it is EXPIRED.
        assert (await fails(call, FAILED)).info.metadata["current_state"] == "EXPIRED"


async def test_two_replicas_expiring_at_once_record_each_expiry_once(
        running, shop, quotes, admin, settings):
    customer = await shop.customer()
    product = await shop.product()
    sent = [await _sent(quotes, admin, customer.id, line(product.id, 1)) for _ in range(4)]
    for quote in sent:
        await _past_due(running, quote.id)
    other = await build(settings)  # a second replica over the same database
    try:
        counts = await asyncio.gather(running.app.quote_lifecycle.expire_due(),
                                      other.quote_lifecycle.expire_due())
    finally:
        await other.close()
    assert sum(counts) >= 4
    ids = [q.id for q in sent]
    stored = running.app.mongo.db.quotes.find({"_id": {"$in": [ObjectId(i) for i in ids]}})
    assert {d["state"] async for d in stored} == {"expired"}
    history = running.app.mongo.db.document_history
    assert await history.count_documents({"document_id": {"$in": ids},
                                          "action": "expired"}) == 4
    events = running.app.mongo.db.outbox
    assert await events.count_documents({"type_url": {"$regex": "QuoteExpired$"}}) >= 4


async def test_a_revision_supersedes_the_sent_quote_under_the_same_number(
        shop, quotes, admin):
    customer = await shop.customer()
    product = await shop.product()
    sent = await _sent(quotes, admin, customer.id, line(product.id, 2))
    revised = (await quotes.ReviseQuote(qpb.ReviseQuoteRequest(id=sent.id),
                                        metadata=admin)).quote
    assert (revised.number, revised.revision, revised.state) == (
        sent.number, 2, qpb.QUOTE_STATE_DRAFT)
    assert revised.previous_revision_id == sent.id
    again = (await quotes.ReviseQuote(qpb.ReviseQuoteRequest(id=sent.id), metadata=admin)).quote
    assert again.id == revised.id  # a retry returns the revision already made
    old = (await quotes.GetQuote(qpb.GetQuoteRequest(id=sent.id), metadata=admin)).quote
    assert old.state == qpb.QUOTE_STATE_SUPERSEDED and old.next_revision_id == revised.id
    await fails(quotes.AcceptQuote(qpb.AcceptQuoteRequest(id=sent.id), metadata=admin), FAILED)
    latest = (await quotes.GetQuoteByNumber(qpb.GetQuoteByNumberRequest(number=sent.number),
                                            metadata=admin)).quote
    assert latest.id == revised.id


async def test_moves_from_the_wrong_state_or_with_bad_input_change_nothing(
        shop, quotes, admin):
    customer = await shop.customer()
    product = await shop.product()
    draft = await _quote(quotes, admin, customer.id, line(product.id, 1))
    failure = await fails(quotes.AcceptQuote(qpb.AcceptQuoteRequest(id=draft.id),
                                             metadata=admin), FAILED)
    assert failure.info.metadata["current_state"] == "DRAFT"
    await fails(quotes.RejectQuote(qpb.RejectQuoteRequest(id=draft.id), metadata=admin),
                grpc.StatusCode.INVALID_ARGUMENT)
    past = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    bad = await fails(quotes.CreateQuote(qpb.CreateQuoteRequest(quote=qpb.Quote(
        customer_id=customer.id, lines=[line(product.id, 1)], valid_until=past)),
        metadata=admin), grpc.StatusCode.INVALID_ARGUMENT)
    assert "quote.valid_until" in bad.fields
    sent = (await quotes.SendQuote(qpb.SendQuoteRequest(id=draft.id), metadata=admin)).quote
    sent.notes = "too late"
    await fails(quotes.UpdateQuote(qpb.UpdateQuoteRequest(
        quote=sent, update_mask=FieldMask(paths=["notes"])), metadata=admin), FAILED)
    await fails(quotes.SendQuote(qpb.SendQuoteRequest(id=draft.id, etag="v1"),
                                 metadata=admin), grpc.StatusCode.ABORTED)
    cancelled = (await quotes.CancelQuote(qpb.CancelQuoteRequest(
        id=draft.id, reason="customer went elsewhere"), metadata=admin)).quote
    assert cancelled.state == qpb.QUOTE_STATE_CANCELLED
    assert cancelled.close_reason == "customer went elsewhere"


async def test_a_reps_quotes_are_theirs_and_held_to_the_discount_limit(running, quotes):
    rep = running.token("rep-q1", Role.SALES_REP, "team-q")
    other = running.token("rep-q2", Role.SALES_REP, "team-q")
    shop = Shop(running.channel, rep)
    admin_shop = Shop(running.channel, running.token("admin-q", Role.ADMIN, ""))
    customer = await shop.customer()
    product = await admin_shop.product(price="50.00")
    failure = await fails(quotes.CreateQuote(qpb.CreateQuoteRequest(quote=qpb.Quote(
        customer_id=customer.id, lines=[line(product.id, 1, unit_price=usd("10.00"))])),
        metadata=rep), grpc.StatusCode.PERMISSION_DENIED)
    assert failure.info.reason == "DISCOUNT_ABOVE_LIMIT"
    mine = await _quote(quotes, rep, customer.id, line(product.id, 1))
    await fails(quotes.GetQuote(qpb.GetQuoteRequest(id=mine.id), metadata=other),
                grpc.StatusCode.NOT_FOUND)
    listed = await quotes.ListQuotes(qpb.ListQuotesRequest(filter="state = DRAFT"),
                                     metadata=rep)
    assert [q.id for q in listed.quotes] == [mine.id]
