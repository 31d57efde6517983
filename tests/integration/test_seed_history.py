"""The demo history on a fresh database: documents in every month, dated by the moved clock,
and amounts that reconcile."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from sales_grpc.bootstrap import App, build
from sales_grpc.config import Settings
from sales_grpc.domain.invoices import InvoiceState
from sales_grpc.domain.mail import MailState
from sales_grpc.domain.quotes import QuoteState
from sales_grpc.seed import SEEDER
from sales_grpc.seed_history import HistoryReport, load_history, month_start
from sales_grpc.services.clock import moved_to, now

T = TypeVar("T")
# Three whole months, whatever day the suite runs: the month so far is left out.
END = month_start(datetime.now(UTC))
MONTHS = [month_start(END, back).strftime("%Y-%m") for back in (3, 2, 1)]


async def everything(page: Callable[[str], Awaitable[tuple[list[T], str]]]) -> list[T]:
    items, token = await page("")
    while token:
        more, token = await page(token)
        items += more
    return items


@pytest.fixture(scope="module")
async def seeded(fresh_settings: Callable[..., Settings]) -> AsyncIterator[tuple[App,
                                                                                  HistoryReport]]:
    app = await build(fresh_settings())
    report = await load_history(app, 3, end=END)
    yield app, report
    await app.close()


async def test_the_clock_moves_only_inside_the_block():
    before = now()
    with moved_to(datetime(2020, 2, 29, 12, tzinfo=UTC)):
        assert now().date().isoformat() == "2020-02-29"
    assert now() >= before


async def test_every_month_has_confirmed_orders_quotes_and_invoices(
        seeded: tuple[App, HistoryReport]):
    app, report = seeded
    orders = await everything(lambda t: app.orders.list_page(SEEDER, size=500, token=t))
    confirmed = Counter(o.confirm_time.strftime("%Y-%m") for o in orders if o.confirm_time)
    assert all(confirmed[m] > 5 for m in MONTHS), confirmed
    assert sum(confirmed.values()) == report.orders
    assert sum(1 for o in orders if o.cancel_time) == report.cancelled
    quotes = await everything(lambda t: app.quotes.list_page(SEEDER, size=500, token=t))
    assert all(any(q.audit.create_time.strftime("%Y-%m") == m for q in quotes) for m in MONTHS)
    states = Counter(q.state.value for q in quotes)
    assert states["accepted"] and states["rejected"], states
    invoices = await everything(lambda t: app.invoices.list_page(SEEDER, size=500, token=t))
    issued = Counter(i.issue_date.strftime("%Y-%m") for i in invoices if i.issue_date)
    assert all(issued[m] > 0 for m in MONTHS), issued
    assert len(invoices) == report.invoices


async def test_paid_invoices_have_payments_that_sum_to_their_total_less_credits(
        seeded: tuple[App, HistoryReport]):
    app, report = seeded
    invoices = await everything(lambda t: app.invoices.list_page(SEEDER, size=500, token=t))
    paid = [i for i in invoices if i.state is InvoiceState.PAID]
    assert len(paid) > len(invoices) / 3
    payments: list[Any] = []
    for invoice in invoices:
        mine = await everything(lambda t, i=invoice: app.receivables.list_payments(
            SEEDER, i.id, size=500, token=t))
        payments += mine
        received = sum((p.amount for p in mine), Decimal(0))
        assert received == invoice.amount_paid
        assert all(p.payment_date >= invoice.issue_date for p in mine)
        if invoice.state is InvoiceState.PAID:
            assert received + invoice.amount_credited == invoice.totals.grand_total
        else:
            assert invoice.amount_due > 0
    assert len(payments) == report.payments
    assert sum(1 for i in invoices if i.amount_credited) == report.credit_notes


async def test_the_mail_of_every_sent_quote_is_failed_unsent(seeded: tuple[App, HistoryReport]):
    app, _ = seeded
    quotes = await everything(lambda t: app.quotes.list_page(SEEDER, size=500, token=t))
    sent = [q for q in quotes if q.state not in (QuoteState.DRAFT, QuoteState.CANCELLED)]
    statuses = await app.quotes.deliveries(sent)
    assert sent and set(statuses) == {q.id for q in sent}
    assert {s.state for s in statuses.values()} == {MailState.FAILED}
    assert {s.last_error for s in statuses.values()} == {"demo history: not mailed"}


async def test_the_rollups_are_the_documents_when_it_returns(seeded: tuple[App, HistoryReport]):
    """Served right after loading, the analytics read the whole history: no event waits for a
    projector, and the rollups equal what the documents make of them."""
    app, _ = seeded
    assert await app.mongo.db.outbox.count_documents({"projected_time": None}) == 0
    assert await app.analytics.maintenance.check() == []
