"""Invoice rules over the wire: credit-note arithmetic, the credit balance, the aging, bad
input that changes nothing, row-level access, listing, history, voiding, write-offs and the
events each change writes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import grpc
import pytest
from google.protobuf import field_mask_pb2

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import invoice_service_pb2 as ipb
from erp.sales.v1 import order_service_pb2 as opb
from sales_grpc.domain.access import Role
from sales_grpc.services import documents as document_changes
from sales_grpc.services.clock import now

from .helpers import fails, unique
from .invoice_fixtures import Billing, balanced, outbox_events
from .order_fixtures import line, usd

D = Decimal
FP = grpc.StatusCode.FAILED_PRECONDITION
BAD = grpc.StatusCode.INVALID_ARGUMENT
YEAR = datetime.now(UTC).year


def _day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


@pytest.fixture
def billing(running, manager) -> Billing:
    return Billing(running.channel, manager)


@pytest.fixture
def desk(running) -> Billing:
    """A manager of a team of their own: their scope holds only what the test makes."""
    return Billing(running.channel, running.token(unique("mgr"), Role.SALES_MANAGER,
                                                  unique("team")))


@contextlib.contextmanager
def days_ago(monkeypatch: pytest.MonkeyPatch, days: int) -> Iterator[None]:
    """Changes made meanwhile happen `days` ago (the clock of the change routine)."""
    moment = now() - timedelta(days=days)
    with monkeypatch.context() as patch:
        patch.setattr(document_changes, "now", lambda: moment)
        yield


async def _customer_stats(billing: Billing, customer_id: str) -> cpb.CustomerSalesStats:
    return (await billing.customers.GetCustomer(cpb.GetCustomerRequest(id=customer_id),
                                                metadata=billing.md)).customer.sales_stats


def _amounts(moneys) -> list[tuple[str, str]]:
    return [(m.currency_code, m.amount) for m in moneys]


async def _listed(billing: Billing, filter: str = "", order_by: str = "",
                  page_size: int = 0) -> list[ipb.Invoice]:
    return list((await billing.invoices.ListInvoices(ipb.ListInvoicesRequest(
        filter=filter, order_by=order_by, page_size=page_size), metadata=billing.md)).invoices)


# -- credit notes -------------------------------------------------------------------------

async def test_credit_notes_on_an_open_invoice_reduce_what_is_due(billing):
    order = await billing.confirmed_order(("10.00", 4, "0.10"), ("5.00", 2, "0"))
    invoice = await billing.finalize((await billing.invoice_order(order.id)).id)
    assert invoice.totals.grand_total.amount == "54.00"
    paid = (await billing.pay(invoice.id, "10.00")).invoice
    assert paid.amount_due.amount == "44.00" and balanced(paid)

    by_line = await billing.credit(invoice.id, (1, 1))
    note, after = by_line.credit_note, by_line.invoice
    assert note.number.startswith(f"CN-{YEAR}-") and note.invoice_number == invoice.number
    assert [(x.source_line_number, x.quantity) for x in note.lines] == [(1, 1)]
    assert (note.totals.grand_total.amount, note.totals.tax_total.amount) == ("11.00", "1.00")
    assert (note.amount_applied.amount, note.amount_to_balance.amount) == ("11.00", "0.00")
    assert (after.amount_due.amount, after.amount_credited.amount) == ("33.00", "11.00")
    assert after.state == ipb.INVOICE_STATE_OPEN and after.partially_paid and balanced(after)

    by_amount = await billing.credit(invoice.id, amount="3.30")
    assert not by_amount.credit_note.lines
    split = by_amount.credit_note.totals
    assert split.grand_total.amount == "3.30"  # net and tax, the tax no more than is left
    assert D(split.subtotal.amount) + D(split.tax_total.amount) == D("3.30")
    assert D(0) <= D(split.tax_total.amount) <= D("3.00")
    after = by_amount.invoice
    assert (after.amount_due.amount, after.amount_credited.amount) == ("29.70", "14.30")
    assert balanced(after) and by_amount.credit_note.number > note.number

    # More than is left: of a line (3 of line 1 are left, 2 of line 2), or in total (39.70).
    for parts, amount in (([(1, 4)], ""), ([(2, 3)], ""), ([(1, 3), (2, 2)], ""),
                          ([], "39.71")):
        failure = await fails(billing.credit(invoice.id, *parts, amount=amount), FP)
        assert failure.info is not None and failure.info.reason == "CREDIT_EXCEEDS_INVOICE", (
            parts, amount, failure.info)
        assert failure.precondition is not None and failure.precondition.violations
    for parts, amount, field in (([(9, 1)], "", "lines[0].line_number"),
                                 ([(1, 0)], "", "lines[0].quantity"),
                                 ([(1, 1)], "1.00", "lines"), ([], "", "lines"),
                                 ([], "-1.00", "amount.amount"),
                                 ([], "0.001", "amount.amount")):
        failure = await fails(billing.credit(invoice.id, *parts, amount=amount), BAD)
        assert field in failure.fields, (parts, amount, failure.fields)
    unchanged = await billing.get(invoice.id)
    assert unchanged.etag == after.etag and unchanged.amount_due.amount == "29.70"

    rest_of_line = await billing.credit(invoice.id, (2, 2))
    assert rest_of_line.invoice.amount_due.amount == "19.70" and balanced(rest_of_line.invoice)
    last = await billing.credit(invoice.id, amount="19.70")
    assert last.invoice.state == ipb.INVOICE_STATE_PAID and balanced(last.invoice)
    assert (last.invoice.amount_due.amount, last.credit_note.amount_to_balance.amount) == (
        "0.00", "0.00")
    notes = (await billing.invoices.ListCreditNotes(ipb.ListCreditNotesRequest(
        invoice_id=invoice.id), metadata=billing.md)).credit_notes
    assert [n.totals.grand_total.amount for n in notes] == ["19.70", "10.00", "3.30", "11.00"]
    assert sum(D(n.totals.grand_total.amount) for n in notes) == D("44.00")
    assert len({n.number for n in notes}) == 4
    assert (await billing.history(invoice.id)).count("credited") == 4


async def test_credits_beyond_what_is_due_go_to_the_customers_balance_which_pays_later(billing):
    customer = (await billing.customer()).id
    paid = await billing.open_invoice("25.00", 2, customer_id=customer)
    assert (await billing.pay(paid.id, "50.00")).invoice.state == ipb.INVOICE_STATE_PAID

    on_paid = await billing.credit(paid.id, (1, 1))  # 25.00, all of it to the balance
    assert (on_paid.credit_note.amount_applied.amount,
            on_paid.credit_note.amount_to_balance.amount) == ("0.00", "25.00")
    credited = on_paid.invoice
    assert credited.state == ipb.INVOICE_STATE_PAID and credited.amount_due.amount == "0.00"
    assert credited.amount_credited_to_balance.amount == "25.00" and balanced(credited)

    # A credit on a partly paid invoice pays what is due and the rest goes to the balance.
    partly = await billing.open_invoice("40.00", customer_id=customer)
    await billing.pay(partly.id, "30.00")
    split = await billing.credit(partly.id, amount="15.00")
    assert (split.credit_note.amount_applied.amount,
            split.credit_note.amount_to_balance.amount) == ("10.00", "5.00")
    assert split.invoice.state == ipb.INVOICE_STATE_PAID and balanced(split.invoice)
    stats = await _customer_stats(billing, customer)
    assert _amounts(stats.credit_balance_by_currency) == [("USD", "30.00")]

    later = await billing.open_invoice("45.00", customer_id=customer)
    balance = ipb.PAYMENT_METHOD_CREDIT_BALANCE
    failure = await fails(billing.pay(later.id, "30.01", method=balance), FP)
    assert failure.info is not None and failure.info.reason == "CREDIT_BALANCE_INSUFFICIENT"
    assert (await billing.get(later.id)).amount_due.amount == "45.00"
    stranger = await billing.open_invoice("10.00")  # another customer: not their balance
    await fails(billing.pay(stranger.id, "5.00", method=balance), FP)

    spent = await billing.pay(later.id, "30.00", method=balance)
    assert spent.payment.method == balance
    assert spent.invoice.amount_due.amount == "15.00" and balanced(spent.invoice)
    stats = await _customer_stats(billing, customer)
    assert _amounts(stats.credit_balance_by_currency) == [("USD", "0.00")]
    assert _amounts(stats.outstanding_by_currency) == [("USD", "15.00")]
    await fails(billing.pay(later.id, "0.01", method=balance), FP)
    done = await billing.pay(later.id, "15.00")
    assert done.invoice.state == ipb.INVOICE_STATE_PAID and balanced(done.invoice)


# -- aging --------------------------------------------------------------------------------

def _buckets(b: ipb.AgingBuckets) -> tuple[str, ...]:
    return (b.currency_code, b.current.amount, b.days_1_30.amount, b.days_31_60.amount,
            b.days_61_90.amount, b.days_over_90.amount, b.total.amount)


async def test_aging_spreads_a_teams_receivables_over_the_buckets_per_customer_and_currency(
        desk):
    as_of = 200  # days from today; every invoice below is issued today
    first, second = (await desk.customer()).id, (await desk.customer()).id
    dollar = await desk.product(price="1.00", stock=0, tax_rate="0")
    euro = await desk.product(price="1.00", stock=0, tax_rate="0", currency="EUR")

    async def invoice(customer: str, amount: int, due: int | None, currency: str = "USD"
                      ) -> ipb.Invoice:
        product = dollar if currency == "USD" else euro
        draft = await desk.draft(customer, line(product.id, amount), currency_code=currency,
                                 due_date=_day(due) if due is not None else "")
        return await desk.finalize(draft.id)

    await invoice(first, 100, as_of + 50)  # current
    await invoice(first, 11, as_of)  # due on the day: current
    partly = await invoice(first, 30, as_of - 10)  # 1-30 days, 20 left
    await desk.pay(partly.id, "10.00")
    await invoice(first, 12, as_of - 30)  # 1-30
    await invoice(first, 40, as_of - 40)  # 31-60
    written_off = await invoice(first, 60, as_of - 70)  # 61-90, still owed
    await desk.invoices.MarkInvoiceUncollectible(ipb.MarkInvoiceUncollectibleRequest(
        id=written_off.id, reason="customer in liquidation"), metadata=desk.md)
    await invoice(first, 13, as_of - 90)  # 61-90
    await invoice(first, 90, None)  # NET_30: 170 days past due
    await invoice(first, 14, as_of - 91)  # over 90
    settled = await invoice(first, 5, as_of)
    await desk.pay(settled.id, "5.00")
    voided = await invoice(first, 7, as_of)
    await desk.invoices.VoidInvoice(ipb.VoidInvoiceRequest(id=voided.id, reason="wrong"),
                                    metadata=desk.md)
    await desk.draft(first, line(dollar.id, 8))  # a draft owes nothing yet
    await invoice(second, 70, as_of - 50, "EUR")  # 31-60
    await invoice(second, 15, as_of)  # current
    euro_stock = await desk.product(price="2.50", stock=4, tax_rate="0", currency="EUR")
    order = await desk.confirm((await desk.order(second, line(euro_stock.id, 4),
                                                 currency_code="EUR")).id)
    await desk.finalize((await desk.invoice_order(order.id)).id)  # 10.00 EUR, over 90

    aging = await desk.invoices.GetReceivablesAging(ipb.GetReceivablesAgingRequest(
        as_of=_day(as_of)), metadata=desk.md)
    assert aging.as_of == _day(as_of)
    assert [_buckets(b) for b in aging.totals] == [
        ("EUR", "0.00", "0.00", "70.00", "0.00", "10.00", "80.00"),
        ("USD", "126.00", "32.00", "40.00", "73.00", "104.00", "375.00")]
    assert [b.invoice_count for b in aging.totals] == [2, 10]
    rows = {row.customer_id: row for row in aging.customers}
    assert list(rows) == sorted(rows, key=lambda c: rows[c].customer_code) and set(rows) == {
        first, second}
    assert [_buckets(b) for b in rows[first].buckets] == [
        ("USD", "111.00", "32.00", "40.00", "73.00", "104.00", "360.00")]
    assert [_buckets(b) for b in rows[second].buckets] == [
        ("EUR", "0.00", "0.00", "70.00", "0.00", "10.00", "80.00"),
        ("USD", "15.00", "0.00", "0.00", "0.00", "0.00", "15.00")]
    assert rows[first].customer_code.startswith("CUST-") and rows[first].customer_name
    for b in [*aging.totals, *(b for row in aging.customers for b in row.buckets)]:
        assert sum(D(m.amount) for m in (b.current, b.days_1_30, b.days_31_60, b.days_61_90,
                                         b.days_over_90)) == D(b.total.amount)
        assert {m.currency_code for m in (b.current, b.days_1_30, b.days_31_60,
                                          b.days_61_90, b.days_over_90, b.total)} == {
            b.currency_code}

    # The totals are what the owed invoices in scope say is due.
    owed = await _listed(desk, "state = OPEN", page_size=500) + await _listed(
        desk, "state = UNCOLLECTIBLE", page_size=500)
    for b in aging.totals:
        assert sum(D(i.amount_due.amount) for i in owed
                   if i.currency_code == b.currency_code) == D(b.total.amount)

    today = await desk.invoices.GetReceivablesAging(ipb.GetReceivablesAgingRequest(),
                                                    metadata=desk.md)
    assert [(b.currency_code, b.current.amount, b.total.amount) for b in today.totals] == [
        ("EUR", "80.00", "80.00"), ("USD", "375.00", "375.00")]
    one = await desk.invoices.GetReceivablesAging(ipb.GetReceivablesAgingRequest(
        as_of=_day(as_of), customer_id=second), metadata=desk.md)
    assert [row.customer_id for row in one.customers] == [second]
    assert [_buckets(b) for b in one.totals] == [_buckets(b) for b in rows[second].buckets]
    before = await desk.invoices.GetReceivablesAging(ipb.GetReceivablesAgingRequest(
        as_of=_day(-1)), metadata=desk.md)  # nothing was issued yet
    assert not before.totals and not before.customers
    failure = await fails(desk.invoices.GetReceivablesAging(
        ipb.GetReceivablesAgingRequest(as_of="2026-13-01"), metadata=desk.md), BAD)
    assert "as_of" in failure.fields


# -- bad input ----------------------------------------------------------------------------

async def test_invoicing_beyond_the_order_or_an_unconfirmed_order_is_refused(billing):
    order = await billing.confirmed_order(("10.00", 3, "0"), ("4.00", 2, "0"))
    failure = await fails(billing.invoice_order(order.id, (1, 2), (2, 3)), FP)
    assert [v.subject for v in failure.precondition.violations] == [
        f"salesOrders/{order.id}/lines/2"]
    await fails(billing.invoice_order(order.id, (1, 4)), FP)
    for parts, field in ((((9, 1),), "lines[0].line_number"), (((1, 0),), "lines[0].quantity")):
        assert field in (await fails(billing.invoice_order(order.id, *parts), BAD)).fields
    await fails(billing.invoice_order("0" * 24), grpc.StatusCode.NOT_FOUND)
    kept = (await billing.orders.GetSalesOrder(opb.GetSalesOrderRequest(id=order.id),
                                               metadata=billing.md)).sales_order
    assert list(kept.invoiced_quantities) in ([], [0, 0])
    assert await _listed(billing, f'order_id = "{order.id}"') == []

    customer = (await billing.customer()).id
    product = await billing.product(price="3.00", stock=5)
    draft = await billing.order(customer, line(product.id, 1))
    cancelled = await billing.confirm((await billing.order(customer, line(product.id, 1))).id)
    await billing.orders.CancelSalesOrder(opb.CancelSalesOrderRequest(
        id=cancelled.id, reason="changed their mind"), metadata=billing.md)
    for unbillable in (draft, cancelled):
        failure = await fails(billing.invoice_order(unbillable.id), FP)
        assert failure.info.reason == "ORDER_NOT_INVOICEABLE"
        assert await _listed(billing, f'order_id = "{unbillable.id}"') == []


async def test_bad_payments_are_refused_and_change_nothing(billing):
    invoice = await billing.open_invoice("20.00")
    for amount, currency, field in (("0.00", "USD", "payment.amount.amount"),
                                    ("-5.00", "USD", "payment.amount.amount"),
                                    ("1.001", "USD", "payment.amount.amount"),
                                    ("5.00", "EUR", "payment.amount.currency_code")):
        failure = await fails(billing.pay(invoice.id, amount, currency=currency), BAD)
        assert field in failure.fields, (amount, currency, failure.fields)
    failure = await fails(billing.pay(invoice.id, "5.00", method=ipb.PAYMENT_METHOD_UNSPECIFIED),
                          BAD)
    assert "payment.method" in failure.fields
    failure = await fails(billing.pay(invoice.id, "5.00", payment_date=_day(1)), BAD)
    assert "payment.payment_date" in failure.fields
    over = await fails(billing.pay(invoice.id, "20.01"), FP)
    assert over.info.reason == "PAYMENT_EXCEEDS_AMOUNT_DUE"
    assert (over.info.metadata["amount_due"], over.info.metadata["amount"]) == ("20.00", "20.01")
    assert over.precondition.violations

    unchanged = await billing.get(invoice.id)
    assert unchanged.etag == invoice.etag and unchanged.amount_paid.amount == "0.00"
    assert not (await billing.invoices.ListPayments(ipb.ListPaymentsRequest(
        invoice_id=invoice.id), metadata=billing.md)).payments
    assert await billing.history(invoice.id) == ["created", "finalized"]

    customer = (await billing.customer()).id
    product = await billing.product(price="20.00", stock=0)
    draft = await billing.draft(customer, line(product.id, 1))
    void = await billing.open_invoice("20.00")
    await billing.invoices.VoidInvoice(ipb.VoidInvoiceRequest(id=void.id, reason="duplicate"),
                                       metadata=billing.md)
    paid = await billing.open_invoice("20.00")
    await billing.pay(paid.id, "20.00")
    for target, payments in ((draft, 0), (void, 0), (paid, 1)):
        failure = await fails(billing.pay(target.id, "1.00"), FP)
        assert failure.info.reason == "INVOICE_NOT_PAYABLE"
        assert len((await billing.invoices.ListPayments(ipb.ListPaymentsRequest(
            invoice_id=target.id), metadata=billing.md)).payments) == payments


async def test_a_finalized_invoice_is_not_edited_deleted_or_voided_once_paid(billing):
    invoice = await billing.open_invoice("30.00")
    failure = await fails(billing.invoices.UpdateInvoice(ipb.UpdateInvoiceRequest(
        invoice=ipb.Invoice(id=invoice.id, notes="changed"),
        update_mask=field_mask_pb2.FieldMask(paths=["notes"])), metadata=billing.md), FP)
    assert failure.info.reason == "INVOICE_NOT_DRAFT"
    failure = await fails(billing.invoices.DeleteInvoice(ipb.DeleteInvoiceRequest(
        id=invoice.id), metadata=billing.md), FP)
    assert failure.info.reason == "INVOICE_NOT_DRAFT"
    await fails(billing.finalize(invoice.id), FP)
    assert (await billing.get(invoice.id)).etag == invoice.etag

    await billing.pay(invoice.id, "1.00")
    failure = await fails(billing.invoices.VoidInvoice(ipb.VoidInvoiceRequest(
        id=invoice.id, reason="wrong"), metadata=billing.md), FP)
    assert failure.info.reason == "INVOICE_HAS_PAYMENTS"
    assert "credit note" in failure.message
    credited = await billing.open_invoice("30.00")
    await billing.credit(credited.id, amount="1.00")
    failure = await fails(billing.invoices.VoidInvoice(ipb.VoidInvoiceRequest(
        id=credited.id, reason="wrong"), metadata=billing.md), FP)
    assert failure.info.reason == "INVOICE_HAS_PAYMENTS"
    await billing.pay(invoice.id, "29.00")
    await fails(billing.invoices.VoidInvoice(ipb.VoidInvoiceRequest(
        id=invoice.id, reason="wrong"), metadata=billing.md), FP)
    kept = await billing.get(invoice.id)
    assert kept.state == ipb.INVOICE_STATE_PAID and kept.amount_paid.amount == "30.00"
    failure = await fails(billing.invoices.VoidInvoice(ipb.VoidInvoiceRequest(
        id=invoice.id), metadata=billing.md), BAD)
    assert "reason" in failure.fields


async def test_a_stale_etag_is_aborted_and_changes_nothing(billing):
    customer = (await billing.customer()).id
    product = await billing.product(price="8.00", stock=0)
    draft = await billing.draft(customer, line(product.id, 2))
    updated = (await billing.invoices.UpdateInvoice(ipb.UpdateInvoiceRequest(
        invoice=ipb.Invoice(id=draft.id, notes="first", etag=draft.etag),
        update_mask=field_mask_pb2.FieldMask(paths=["notes"])), metadata=billing.md)).invoice
    assert updated.etag != draft.etag
    stale = draft.etag
    aborted = grpc.StatusCode.ABORTED
    await fails(billing.invoices.UpdateInvoice(ipb.UpdateInvoiceRequest(
        invoice=ipb.Invoice(id=draft.id, notes="second", etag=stale),
        update_mask=field_mask_pb2.FieldMask(paths=["notes"])), metadata=billing.md), aborted)
    await fails(billing.invoices.DeleteInvoice(ipb.DeleteInvoiceRequest(
        id=draft.id, etag=stale), metadata=billing.md), aborted)
    await fails(billing.invoices.FinalizeInvoice(ipb.FinalizeInvoiceRequest(
        id=draft.id, etag=stale), metadata=billing.md), aborted)
    await fails(billing.invoices.SendInvoice(ipb.SendInvoiceRequest(
        id=draft.id, etag=stale, finalize=True), metadata=billing.md), aborted)
    kept = await billing.get(draft.id)
    assert (kept.state, kept.notes, kept.etag, kept.number) == (
        ipb.INVOICE_STATE_DRAFT, "first", updated.etag, "")

    invoice = (await billing.invoices.FinalizeInvoice(ipb.FinalizeInvoiceRequest(
        id=draft.id, etag=updated.etag), metadata=billing.md)).invoice
    for call in (billing.invoices.VoidInvoice(ipb.VoidInvoiceRequest(
                     id=invoice.id, etag=updated.etag, reason="x"), metadata=billing.md),
                 billing.invoices.MarkInvoiceUncollectible(ipb.MarkInvoiceUncollectibleRequest(
                     id=invoice.id, etag=updated.etag, reason="x"), metadata=billing.md)):
        await fails(call, aborted)
    assert (await billing.get(invoice.id)).etag == invoice.etag


# -- access -------------------------------------------------------------------------------

async def test_reps_see_only_their_own_invoices_and_need_billing_to_take_money(
        running, billing):
    owner = unique("rep")
    mine = Billing(running.channel, running.token(owner, Role.SALES_REP, "team-a"))
    customer = (await mine.customer()).id
    product = await billing.product(price="12.00", stock=0, tax_rate="0")
    invoice = await mine.finalize((await mine.draft(customer, line(product.id, 1))).id)
    assert invoice.owner_id == owner and invoice.team_id == "team-a"

    for outsider in (running.token(unique("rep"), Role.SALES_REP, "team-b"),
                     running.token(unique("rep"), Role.SALES_REP, "team-a"),
                     running.token(unique("mgr"), Role.SALES_MANAGER, "team-b")):
        stranger = Billing(running.channel, outsider)
        missing = grpc.StatusCode.NOT_FOUND
        await fails(stranger.get(invoice.id), missing)
        await fails(stranger.invoices.GetInvoiceByNumber(ipb.GetInvoiceByNumberRequest(
            number=invoice.number), metadata=outsider), missing)
        await fails(stranger.invoices.ListInvoiceHistory(ipb.ListInvoiceHistoryRequest(
            id=invoice.id), metadata=outsider), missing)
        await fails(stranger.invoices.ListPayments(ipb.ListPaymentsRequest(
            invoice_id=invoice.id), metadata=outsider), missing)
        assert invoice.id not in {i.id for i in await _listed(stranger, page_size=500)}
    assert (await billing.get(invoice.id)).id == invoice.id  # team-a's manager sees it

    listed = await _listed(mine, page_size=500)
    assert invoice.id in {i.id for i in listed} and {i.owner_id for i in listed} == {owner}

    failure = await fails(mine.pay(invoice.id, "1.00"), grpc.StatusCode.PERMISSION_DENIED)
    assert failure.info.reason == "BILLING_NOT_ALLOWED"
    await fails(mine.credit(invoice.id, amount="1.00"), grpc.StatusCode.PERMISSION_DENIED)
    await fails(mine.invoices.VoidInvoice(ipb.VoidInvoiceRequest(
        id=invoice.id, reason="no"), metadata=mine.md), grpc.StatusCode.PERMISSION_DENIED)
    clerk = running.token(owner, Role.SALES_REP, "team-a", [
        "sales:read", "sales:create", "sales:update", "sales:billing"])
    paid = await mine.pay(invoice.id, "12.00", md=clerk)
    assert paid.invoice.state == ipb.INVOICE_STATE_PAID and paid.payment.recorded_by == owner


# -- listing, history, lifecycle ----------------------------------------------------------

async def test_list_invoices_filters_overdue_state_and_amount_and_orders_by_due_date(
        desk, monkeypatch):
    customer = (await desk.customer()).id
    product = await desk.product(price="1.00", stock=0, tax_rate="0")

    async def draft(amount: int, due: int | None = None) -> ipb.Invoice:
        return await desk.draft(customer, line(product.id, amount),
                                due_date=_day(due) if due is not None else "")

    late_draft = await draft(30)
    with days_ago(monkeypatch, 40):  # issued 40 days ago: NET_30 was due 10 days ago
        late = await desk.finalize(late_draft.id)
    soon = await desk.finalize((await draft(5, 5)).id)
    far = await desk.finalize((await draft(50, 60)).id)
    paid = await desk.finalize((await draft(20)).id)
    await desk.pay(paid.id, "20.00")
    waiting = await draft(25)

    got = await desk.get(late.id)
    assert (got.overdue, got.days_overdue, got.due_date) == (True, 10, _day(-10))
    assert not (await desk.get(soon.id)).overdue

    async def ids(filter: str, order_by: str = "") -> list[str]:
        return [i.id for i in await _listed(desk, filter, order_by)]

    assert await ids("overdue = true") == [late.id]
    assert set(await ids("overdue = false")) == {soon.id, far.id, paid.id, waiting.id}
    assert set(await ids("state = OPEN")) == {late.id, soon.id, far.id}
    assert set(await ids("amount_due > 10")) == {late.id, far.id, waiting.id}
    assert set(await ids("state = OPEN AND amount_due > 10")) == {late.id, far.id}
    assert await ids("state = OPEN", "due_date") == [late.id, soon.id, far.id]
    assert await ids("state = OPEN", "due_date desc") == [far.id, soon.id, late.id]
    assert await ids("state = PAID") == [paid.id]
    pages, token = [], ""
    while True:
        reply = await desk.invoices.ListInvoices(ipb.ListInvoicesRequest(
            filter="state = OPEN", order_by="due_date", page_size=2, page_token=token),
            metadata=desk.md)
        pages.append([i.id for i in reply.invoices])
        if not (token := reply.next_page_token):
            break
    assert pages == [[late.id, soon.id], [far.id]]
    for bad in ("overdue = maybe", "colour = red", "amount_due > ten", "state = LATE"):
        failure = await fails(desk.invoices.ListInvoices(ipb.ListInvoicesRequest(filter=bad),
                                                         metadata=desk.md), BAD)
        assert "filter" in failure.fields

    by_number = (await desk.invoices.GetInvoiceByNumber(ipb.GetInvoiceByNumberRequest(
        number=late.number), metadata=desk.md)).invoice
    assert by_number.id == late.id and by_number.overdue
    await fails(desk.invoices.GetInvoiceByNumber(ipb.GetInvoiceByNumberRequest(
        number=f"INV-{YEAR}-999999"), metadata=desk.md), grpc.StatusCode.NOT_FOUND)


async def test_a_manual_invoice_is_priced_like_an_order_and_its_story_is_in_history_and_events(
        running, billing):
    customer = (await billing.customer()).id
    taxed = await billing.product(price="12.50", stock=10, tax_rate="0.20")
    plain = await billing.product(price="3.99", stock=10, tax_rate="0")
    draft = await billing.draft(customer, line(taxed.id, 1))
    lines = [line(taxed.id, 2, discount_rate="0.05"), line(plain.id, 3)]
    updated = (await billing.invoices.UpdateInvoice(ipb.UpdateInvoiceRequest(
        invoice=ipb.Invoice(id=draft.id, etag=draft.etag, lines=lines, discount_rate="0.10",
                            shipping_charge=usd("4.00")),
        update_mask=field_mask_pb2.FieldMask(paths=["lines", "discount_rate",
                                                    "shipping_charge"])),
        metadata=billing.md)).invoice
    twin = await billing.order(customer, *lines, discount_rate="0.10",
                               shipping_charge=usd("4.00"))
    assert updated.totals == twin.totals and updated.etag != draft.etag
    assert [x.total_amount for x in updated.lines] == [x.total_amount for x in twin.lines]
    assert updated.amount_due == updated.totals.grand_total and balanced(updated)

    invoice = await billing.finalize(draft.id)
    total = D(invoice.totals.grand_total.amount)
    assert invoice.number.startswith(f"INV-{YEAR}-") and invoice.issue_date == _day(0)
    assert invoice.due_date == _day(30) and balanced(invoice)
    await billing.pay(invoice.id, "10.00", reference="wire 1")
    await billing.pay(invoice.id, str(total - D("10.00")))
    refund = await billing.credit(invoice.id, amount="5.00", reason="late delivery")

    reply = await billing.invoices.ListInvoiceHistory(ipb.ListInvoiceHistoryRequest(
        id=invoice.id), metadata=billing.md)
    assert [(e.action, e.from_state, e.to_state) for e in reply.entries] == [
        ("created", 0, ipb.INVOICE_STATE_DRAFT),
        ("updated", ipb.INVOICE_STATE_DRAFT, ipb.INVOICE_STATE_DRAFT),
        ("finalized", ipb.INVOICE_STATE_DRAFT, ipb.INVOICE_STATE_OPEN),
        ("payment_recorded", ipb.INVOICE_STATE_OPEN, ipb.INVOICE_STATE_OPEN),
        ("payment_recorded", ipb.INVOICE_STATE_OPEN, ipb.INVOICE_STATE_OPEN),
        ("paid", ipb.INVOICE_STATE_OPEN, ipb.INVOICE_STATE_PAID),
        ("credited", ipb.INVOICE_STATE_PAID, ipb.INVOICE_STATE_PAID)]
    assert invoice.number in reply.entries[2].note
    assert refund.credit_note.number in reply.entries[6].note

    mongo = running.app.mongo
    [finalized] = [e for e in await outbox_events(mongo, "InvoiceFinalized")
                   if e.invoice_id == invoice.id]
    assert (finalized.number, finalized.grand_total.amount, finalized.due_date) == (
        invoice.number, str(total), invoice.due_date)
    received = [e for e in await outbox_events(mongo, "PaymentReceived")
                if e.invoice_id == invoice.id]
    assert [(e.amount.amount, e.method) for e in received] == [
        ("10.00", "BANK_TRANSFER"), (str(total - D("10.00")), "BANK_TRANSFER")]
    assert [e.amount_due.amount for e in received] == [str(total - D("10.00")), "0.00"]
    [paid] = [e for e in await outbox_events(mongo, "InvoicePaid") if e.invoice_id == invoice.id]
    assert paid.amount_due.amount == "0.00" and paid.paid_date == _day(0)
    [issued] = [e for e in await outbox_events(mongo, "CreditNoteIssued")
                if e.invoice_id == invoice.id]
    assert (issued.number, issued.grand_total.amount, issued.amount_to_balance.amount,
            issued.reason) == (refund.credit_note.number, "5.00", "5.00", "late delivery")


async def test_voiding_gives_the_order_its_quantities_and_the_customer_its_exposure_back(
        running, billing):
    order = await billing.confirmed_order(("9.99", 5, "0"))
    invoice = await billing.finalize((await billing.invoice_order(order.id, (1, 3))).id)
    billed = (await billing.orders.GetSalesOrder(opb.GetSalesOrderRequest(id=order.id),
                                                 metadata=billing.md)).sales_order
    assert list(billed.invoiced_quantities) == [3]
    assert billed.invoiced_amount.amount == "29.97"
    assert _amounts((await _customer_stats(billing, order.customer_id)
                     ).outstanding_by_currency) == [("USD", "29.97")]

    void = (await billing.invoices.VoidInvoice(ipb.VoidInvoiceRequest(
        id=invoice.id, etag=invoice.etag, reason="billed the wrong quantity"),
        metadata=billing.md)).invoice
    assert (void.state, void.number, void.amount_due.amount, void.close_reason) == (
        ipb.INVOICE_STATE_VOID, invoice.number, "0.00", "billed the wrong quantity")
    assert void.HasField("void_time") and not void.overdue
    released = (await billing.orders.GetSalesOrder(opb.GetSalesOrderRequest(id=order.id),
                                                   metadata=billing.md)).sales_order
    assert list(released.invoiced_quantities) == [0]
    assert D(released.invoiced_amount.amount) == 0
    assert _amounts((await _customer_stats(billing, order.customer_id)
                     ).outstanding_by_currency) == [("USD", "0.00")]
    by_number = (await billing.invoices.GetInvoiceByNumber(ipb.GetInvoiceByNumberRequest(
        number=invoice.number), metadata=billing.md)).invoice
    assert by_number.state == ipb.INVOICE_STATE_VOID
    failure = await fails(billing.invoices.VoidInvoice(ipb.VoidInvoiceRequest(
        id=invoice.id, reason="again"), metadata=billing.md), FP)
    assert failure.info.reason

    again = await billing.invoice_order(order.id, (1, 5))  # all five can be billed again
    assert again.totals.grand_total.amount == order.totals.grand_total.amount == "49.95"
    [voided] = [e for e in await outbox_events(running.app.mongo, "InvoiceVoided")
                if e.invoice_id == invoice.id]
    assert voided.reason == "billed the wrong quantity"


async def test_an_uncollectible_invoice_still_counts_and_can_be_paid(billing, rep):
    invoice = await billing.open_invoice("40.00")
    await fails(billing.invoices.MarkInvoiceUncollectible(ipb.MarkInvoiceUncollectibleRequest(
        id=invoice.id, reason="x"), metadata=rep), grpc.StatusCode.PERMISSION_DENIED)
    written_off = (await billing.invoices.MarkInvoiceUncollectible(
        ipb.MarkInvoiceUncollectibleRequest(id=invoice.id, reason="no answer for months"),
        metadata=billing.md)).invoice
    assert written_off.state == ipb.INVOICE_STATE_UNCOLLECTIBLE
    assert written_off.HasField("uncollectible_time")
    assert written_off.amount_due.amount == "40.00" and balanced(written_off)
    assert _amounts((await _customer_stats(billing, invoice.customer_id)
                     ).outstanding_by_currency) == [("USD", "40.00")]
    failure = await fails(billing.invoices.MarkInvoiceUncollectible(
        ipb.MarkInvoiceUncollectibleRequest(id=invoice.id, reason="again"),
        metadata=billing.md), FP)
    assert failure.info.reason

    part = await billing.pay(invoice.id, "15.00")
    assert part.invoice.state == ipb.INVOICE_STATE_UNCOLLECTIBLE and part.invoice.partially_paid
    rest = await billing.pay(invoice.id, "25.00")
    assert rest.invoice.state == ipb.INVOICE_STATE_PAID and balanced(rest.invoice)
    assert await billing.history(invoice.id) == [
        "created", "finalized", "uncollectible", "payment_recorded", "payment_recorded",
        "paid"]
    assert _amounts((await _customer_stats(billing, invoice.customer_id)
                     ).outstanding_by_currency) == [("USD", "0.00")]


async def test_money_in_the_request_is_refused_in_another_currency_for_credit_notes(billing):
    invoice = await billing.open_invoice("10.00")
    failure = await fails(billing.credit(invoice.id, amount="1.00", currency="EUR"), BAD)
    assert "amount.currency_code" in failure.fields
    assert (await billing.get(invoice.id)).etag == invoice.etag
