"""Invoices under concurrency, each test on a database of its own: gapless numbers from
concurrent and failing finalizes, concurrent payments that never overpay, and the overdue job
on two replicas writing one event per invoice."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import invoice_service_pb2 as ipb
from sales_grpc.api.auth import mint_token
from sales_grpc.api.server import SalesServer
from sales_grpc.bootstrap import App, build
from sales_grpc.config import Settings
from sales_grpc.domain.access import Role
from tests.api.helpers import decode
from tests.api.invoice_fixtures import Billing, balanced, outbox_events
from tests.api.order_fixtures import line

D = Decimal
YEAR = datetime.now(UTC).year


@dataclass
class World:
    app: App
    billing: Billing


@pytest.fixture
async def world(fresh_settings: Callable[..., Settings]) -> AsyncIterator[World]:
    """A server of its own over a fresh database, and an admin's stubs to it."""
    app = await build(fresh_settings())
    server = SalesServer(app)
    port = await server.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    token = mint_token(app.settings, "admin-inv", Role.ADMIN, "")
    yield World(app, Billing(channel, (("authorization", f"Bearer {token}"),)))
    await channel.close()
    await server.stop(0.5)
    await app.close()


async def _drafts(billing: Billing, count: int, price: str = "10.00",
                  customers: int = 5) -> list[ipb.Invoice]:
    buyers = [(await billing.customer()).id for _ in range(customers)]
    product = await billing.product(price=price, stock=0, tax_rate="0")
    return [await billing.draft(buyers[n % customers], line(product.id, n + 1))
            for n in range(count)]


async def test_twenty_concurrent_finalizes_get_twenty_consecutive_numbers(world: World):
    billing = world.billing
    drafts = await _drafts(billing, 20)
    finalized = await asyncio.gather(*(billing.finalize(d.id) for d in drafts))
    assert sorted(i.number for i in finalized) == [
        f"INV-{YEAR}-{seq:06d}" for seq in range(1, 21)]
    assert {i.id for i in finalized} == {d.id for d in drafts}  # each draft its own number
    assert all(i.state == ipb.INVOICE_STATE_OPEN for i in finalized)
    for invoice in finalized:  # what each call answered is what was stored
        stored = await billing.get(invoice.id)
        assert (stored.number, stored.state) == (invoice.number, ipb.INVOICE_STATE_OPEN)
    counter = await world.app.mongo.db.counters.find_one({"_id": f"invoice:{YEAR}"})
    assert counter is not None and counter["value"] == 20
    assert len(await outbox_events(world.app.mongo, "InvoiceFinalized")) == 20


class _Broken(Exception):
    """The outbox failing after the finalize drew its number."""


async def test_a_finalize_failing_after_drawing_its_number_consumes_none(
        world: World, monkeypatch: pytest.MonkeyPatch):
    billing, app = world.billing, world.app
    first, failing, after = await _drafts(billing, 3, customers=1)
    assert (await billing.finalize(first.id)).number == f"INV-{YEAR}-000001"
    customer_id = first.customer_id
    before = (await billing.customers.GetCustomer(
        cpb.GetCustomerRequest(id=customer_id), metadata=billing.md)).customer.sales_stats

    add = app.outbox.add

    async def breaking(events: list[Any], *args: Any, **kwargs: Any) -> None:
        # The outbox write comes after the number is drawn and the invoice saved.
        if any(getattr(e, "invoice_id", "") == failing.id for e in events):
            raise _Broken("the outbox is down")
        await add(events, *args, **kwargs)

    monkeypatch.setattr(app.outbox, "add", breaking)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await billing.finalize(failing.id)
    assert refused.value.code() == grpc.StatusCode.INTERNAL
    assert "outbox is down" not in (refused.value.details() or "")

    kept = await billing.get(failing.id)
    assert (kept.state, kept.number, kept.issue_date) == (ipb.INVOICE_STATE_DRAFT, "", "")
    stats = (await billing.customers.GetCustomer(
        cpb.GetCustomerRequest(id=customer_id), metadata=billing.md)).customer.sales_stats
    assert stats.outstanding_by_currency == before.outstanding_by_currency
    counter = await app.mongo.db.counters.find_one({"_id": f"invoice:{YEAR}"})
    assert counter is not None and counter["value"] == 1

    assert (await billing.finalize(after.id)).number == f"INV-{YEAR}-000002"
    monkeypatch.undo()
    assert (await billing.finalize(failing.id)).number == f"INV-{YEAR}-000003"


async def test_concurrent_payments_never_overpay_and_exactly_those_that_fit_succeed(
        world: World):
    billing = world.billing
    invoice = await billing.open_invoice("100.00")
    assert invoice.amount_due.amount == "100.00"
    outcomes = await asyncio.gather(*(billing.pay(invoice.id, "15.00") for _ in range(10)),
                                    return_exceptions=True)
    paid = [o for o in outcomes if isinstance(o, ipb.RecordPaymentResponse)]
    failed = [decode(o) for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(paid) + len(failed) == 10, outcomes
    assert [(f.code, f.info.reason if f.info else "") for f in failed] == [
        (grpc.StatusCode.FAILED_PRECONDITION, "PAYMENT_EXCEEDS_AMOUNT_DUE")] * 4
    assert len(paid) == 6

    after = await billing.get(invoice.id)
    payments = (await billing.invoices.ListPayments(ipb.ListPaymentsRequest(
        invoice_id=invoice.id), metadata=billing.md)).payments
    assert sum(D(p.amount.amount) for p in payments) == D(after.amount_paid.amount) == D("90")
    assert D(after.amount_due.amount) == D("10.00") and balanced(after)
    assert after.state == ipb.INVOICE_STATE_OPEN and after.partially_paid
    # Every answer showed the invoice as it was right after its own payment.
    assert sorted(D(p.invoice.amount_due.amount) for p in paid) == [
        D(x) for x in ("10", "25", "40", "55", "70", "85")]
    assert len(await outbox_events(world.app.mongo, "PaymentReceived")) == 6


async def test_the_overdue_job_on_two_replicas_writes_one_event_per_invoice(
        world: World, fresh_settings: Callable[..., Settings]):
    billing, app = world.billing, world.app
    customer = (await billing.customer()).id
    overdue = [await billing.open_invoice(price, customer_id=customer)
               for price in ("10.00", "20.00", "30.00", "40.00")]
    settled = await billing.open_invoice("50.00", customer_id=customer)
    await billing.pay(settled.id, "50.00")
    later = await billing.open_invoice(
        "60.00", customer_id=customer,
        due_date=(datetime.now(UTC).date() + timedelta(days=200)).isoformat())
    moment = datetime.now(UTC) + timedelta(days=45)  # NET_30: 15 days past due

    replica = await build(fresh_settings(database_name=app.settings.database_name))
    try:
        marked = await asyncio.gather(*(
            lifecycle.note_overdue(moment, batch=2) for _ in range(3)
            for lifecycle in (app.invoice_lifecycle, replica.invoice_lifecycle)))
        marked += await asyncio.gather(app.invoice_lifecycle.note_overdue(moment),
                                       replica.invoice_lifecycle.note_overdue(moment))
    finally:
        await replica.close()

    events = await outbox_events(app.mongo, "InvoiceOverdue")
    assert Counter(e.invoice_id for e in events) == Counter({i.id: 1 for i in overdue})
    assert sum(marked) == 4
    assert {e.days_overdue for e in events} == {15}
    for invoice in overdue:
        assert (await billing.history(invoice.id)).count("overdue") == 1
    for invoice in (settled, later):
        assert "overdue" not in await billing.history(invoice.id)
