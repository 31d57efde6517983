"""Invoice rules without I/O: an order billed in parts adds up to the order to the minor unit,
payments and credit notes keep the invoice's amounts equation, and aging buckets add up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sales_grpc.domain.access import Principal, Role
from sales_grpc.domain.aging import BUCKETS, Receivable, age, bucket_of
from sales_grpc.domain.credit_notes import amount_totals, credited_lines, lines_totals
from sales_grpc.domain.customers import PaymentTerms
from sales_grpc.domain.documents.lines import DocumentLine, reprice, totals_of
from sales_grpc.domain.errors import FailedPrecondition, InvalidArgument
from sales_grpc.domain.invoices import (
    Invoice,
    InvoiceAction,
    InvoiceState,
    bill_order,
    check_payment_date,
    release_order,
)
from sales_grpc.domain.money import MINOR_UNITS, round_to_minor
from sales_grpc.domain.orders import OrderState, SalesOrder
from sales_grpc.domain.pricing import LineAmounts, Totals
from sales_grpc.domain.records import Audit
from sales_grpc.domain.tallies import LineTally, Selection

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
CLERK = Principal("clerk-1", Role.SALES_MANAGER, team_id="north")
D = Decimal
ZERO = LineAmounts(D(0), D(0), D(0))
NO_TOTALS = Totals(D(0), D(0), D(0), D(0))


def _line(sku: str, quantity: int, price: str, tax: str, discount: str = "0") -> DocumentLine:
    return DocumentLine(sku.lower() * 3, sku, sku.title(), quantity, D(price), False,
                        D(discount), D(tax), ZERO, D(price))


def _order(currency: str, lines: list[DocumentLine], discount: str = "0",
           shipping: str = "0", state: OrderState = OrderState.CONFIRMED) -> SalesOrder:
    priced = reprice(lines, D(discount), currency)
    return SalesOrder(id="o" * 24, number="SO-2026-000042", customer_id="c" * 24,
                      currency=currency, lines=priced, discount_rate=D(discount),
                      shipping=D(shipping), totals=totals_of(priced, D(shipping)),
                      owner_id="rep-1", team_id="north", audit=Audit.new("rep-1", NOW),
                      state=state)


def _mixed(currency: str) -> SalesOrder:
    """Awkward prices, three tax rates, a line discount and a 15% document discount."""
    return _order(currency, [_line("WIDGET", 13, "3.333333", "0.19", "0.1"),
                             _line("SCREW", 7, "0.005", "0.07"),
                             _line("MANUAL", 3, "19.99", "0")],
                  discount="0.15", shipping="4.95" if currency == "EUR" else "495")


def _draft(order: SalesOrder, terms: PaymentTerms = PaymentTerms.NET_30) -> Invoice:
    return Invoice(id="i" * 24, number="", customer_id=order.customer_id,
                   currency=order.currency, lines=[], discount_rate=D(0), shipping=D(0),
                   totals=NO_TOTALS, owner_id="rep-1", team_id="north",
                   audit=Audit.new("rep-1", NOW), state=InvoiceState.DRAFT,
                   order_id=order.id, order_number=order.number, payment_terms=terms)


def _bill(order: SalesOrder, *parts: tuple[int, int]) -> Invoice:
    invoice = _draft(order)
    bill_order(order, [Selection(n, q) for n, q in parts], invoice, "lines")
    return invoice


def _open(currency: str = "EUR", price: str = "100", tax: str = "0.19", quantity: int = 1,
          shipping: str = "0") -> Invoice:
    invoice = _bill(_order(currency, [_line("ITEM", quantity, price, tax)], shipping=shipping))
    invoice.finalize("INV-2026-000001", CLERK, NOW)
    return invoice


def _amounts(parts: list[DocumentLine]) -> LineAmounts:
    return LineAmounts(sum((p.amounts.gross for p in parts), D(0)),
                       sum((p.amounts.discount for p in parts), D(0)),
                       sum((p.amounts.tax for p in parts), D(0)))


def _assert_sensible(line: DocumentLine, currency: str) -> None:
    """A billed part is never negative, its discount never exceeds its gross, and every amount
    is whole minor units."""
    a, quantum = line.amounts, D(1).scaleb(-MINOR_UNITS[currency])
    assert line.quantity >= 1
    assert D(0) <= a.discount <= a.gross and a.tax >= 0, (line.sku, a)
    assert all(x == x.quantize(quantum) for x in (a.gross, a.discount, a.tax))


def _assert_parts_add_up(order: SalesOrder, invoices: list[Invoice]) -> None:
    for n, line in enumerate(order.lines, start=1):
        parts = [part for invoice in invoices
                 for part, source in zip(invoice.lines, invoice.source_lines, strict=True)
                 if source == n]
        for part in parts:
            _assert_sensible(part, order.currency)
        assert sum(p.quantity for p in parts) == line.quantity
        assert _amounts(parts) == line.amounts, line.sku
    assert order.invoiced == [LineTally(x.quantity, x.amounts.gross, x.amounts.discount,
                                        x.amounts.tax) for x in order.lines]
    for name in ("subtotal", "discount_total", "tax_total", "shipping", "grand_total"):
        assert sum((getattr(i.totals, name) for i in invoices), D(0)) == getattr(
            order.totals, name), name


# -- billing an order ---------------------------------------------------------------------

IN_ONES = [[(1, 1), (2, 1)]] * 7 + [[(1, 1)]] * 6 + [[]]  # the last takes what is left
PLANS = {"uneven": [[(1, 5), (2, 1)], [(1, 1), (2, 1), (3, 1)], [(2, 1)], [(1, 6), (2, 3)], []],
         "in ones": IN_ONES, "same line twice": [[(1, 2), (1, 3), (2, 6)], []]}


@pytest.mark.parametrize("currency", ["EUR", "JPY"])
@pytest.mark.parametrize("plan", list(PLANS))
def test_an_order_invoiced_in_parts_adds_up_to_the_order_exactly(currency, plan):
    order = _mixed(currency)
    invoices = [_bill(order, *parts) for parts in PLANS[plan]]
    _assert_parts_add_up(order, invoices)
    assert invoices[0].totals.shipping == order.shipping
    assert all(i.totals.shipping == 0 for i in invoices[1:])
    with pytest.raises(FailedPrecondition) as refused:
        _bill(order)
    assert refused.value.reason == "NOTHING_LEFT"


@pytest.mark.parametrize("currency", ["EUR", "JPY"])
def test_an_order_invoiced_whole_is_the_order_to_the_cent(currency):
    order = _mixed(currency)
    invoice = _bill(order)
    assert invoice.lines == order.lines and invoice.totals == order.totals
    assert invoice.source_lines == [1, 2, 3]
    assert invoice.discount_rate == D("0.15")


def test_the_worked_example_in_euros():
    order = _mixed("EUR")
    widget, screw, manual = (x.amounts for x in order.lines)
    # 13 x 3.333333 = 43.333329 -> 43.33; 10% = 4.33; 15% of 39.00 = 5.85; 19% of 33.15 = 6.30
    assert widget == LineAmounts(D("43.33"), D("10.18"), D("6.30"))
    # 7 x 0.005 = 0.035 -> 0.04; 15% of 0.04 = 0.006 -> 0.01; 7% of 0.03 -> 0.00
    assert screw == LineAmounts(D("0.04"), D("0.01"), D("0.00"))
    # 59.97; 15% = 8.9955 -> 9.00; no tax
    assert manual == LineAmounts(D("59.97"), D("9.00"), D("0.00"))
    assert order.totals.grand_total == D("33.15") + D("0.03") + D("50.97") + D("6.30") + D(
        "4.95")


def test_billing_a_cheap_line_one_unit_at_a_time_never_bills_a_negative_amount():
    order = _order("EUR", [_line("SCREW", 7, "0.005", "0.19")])
    invoices = [_bill(order, (1, 1)) for _ in range(7)]
    # the price of what has been billed so far, never more than the line
    assert [i.totals.subtotal for i in invoices] == [D("0.01"), D("0.00"), D("0.01"),
                                                     D("0.00"), D("0.01"), D("0.00"),
                                                     D("0.01")]
    _assert_parts_add_up(order, invoices)


def test_the_shipping_charge_goes_on_the_first_invoice_and_comes_back_with_it():
    order = _mixed("EUR")
    first, second = _bill(order, (1, 2)), _bill(order, (2, 2))
    assert (first.shipping, second.shipping) == (D("4.95"), D(0))
    release_order(order, second)  # a draft without the shipping: the first keeps it
    assert order.shipping_invoiced
    release_order(order, first)
    assert not order.shipping_invoiced and not order.has_invoices
    third = _bill(order, (3, 1))
    assert third.shipping == D("4.95")
    assert third.totals.grand_total == third.lines[0].amounts.total + D("4.95")


def test_an_order_without_shipping_bills_none():
    order = _order("EUR", [_line("ITEM", 2, "10", "0.19")])
    assert _bill(order, (1, 1)).totals.shipping == 0
    assert _bill(order).totals.shipping == 0


def test_billing_more_than_is_left_is_refused_with_a_violation_per_line_and_takes_nothing():
    order = _mixed("EUR")
    _bill(order, (1, 10), (2, 7))
    before = list(order.invoiced)
    with pytest.raises(FailedPrecondition) as refused:
        _bill(order, (1, 2), (1, 2), (2, 1), (3, 3))
    error = refused.value
    assert error.reason == "QUANTITY_EXCEEDS_REMAINING"
    assert [v.subject for v in error.violations] == ["salesOrders/" + "o" * 24 + "/lines/1",
                                                     "salesOrders/" + "o" * 24 + "/lines/2"]
    assert "4 asked, 3 of 13 left" in error.violations[0].description
    assert "1 asked, 0 of 7 left" in error.violations[1].description
    assert order.invoiced == before and order.shipping_invoiced


@pytest.mark.parametrize(("parts", "field"), [
    ([(0, 1)], "lines[0].line_number"), ([(4, 1)], "lines[0].line_number"),
    ([(1, 1), (2, 0)], "lines[1].quantity"), ([(3, -1)], "lines[0].quantity")])
def test_an_unknown_line_or_a_quantity_below_one_is_an_invalid_argument(parts, field):
    order = _mixed("EUR")
    with pytest.raises(InvalidArgument) as refused:
        _bill(order, *parts)
    assert [v.field for v in refused.value.violations] == [field]
    assert not order.has_invoices


@pytest.mark.parametrize("state", [OrderState.DRAFT, OrderState.CANCELLED])
def test_an_order_not_confirmed_cannot_be_invoiced(state):
    order = _mixed("EUR")
    order.state = state
    with pytest.raises(FailedPrecondition) as refused:
        _bill(order)
    assert refused.value.reason == "ORDER_NOT_INVOICEABLE"
    assert not order.has_invoices


@pytest.mark.parametrize("currency", ["EUR", "JPY"])
def test_releasing_an_invoice_gives_back_exactly_what_it_billed(currency):
    order = _mixed(currency)
    first = _bill(order, (1, 4), (2, 3))
    after_first = list(order.invoiced)
    second = _bill(order, (1, 5), (2, 2), (3, 1))
    release_order(order, second)
    assert order.invoiced == after_first
    release_order(order, first)
    assert order.invoiced == [LineTally()] * 3
    # billed again, differently, it still adds up
    invoices = [_bill(order, (1, 13)), _bill(order, (2, 1)), _bill(order)]
    _assert_parts_add_up(order, invoices)


rates = st.decimals(min_value=0, max_value=1, places=4)


@settings(max_examples=150, deadline=None)
@given(quantity=st.integers(1, 60),
       price=st.decimals(min_value=0, max_value=D("9999.999999"), places=6),
       line_discount=rates, document_discount=rates,
       tax=st.sampled_from(["0", "0.07", "0.19", "0.2", "0.25"]),
       currency=st.sampled_from(["EUR", "JPY", "BHD"]), data=st.data())
def test_any_split_of_a_line_into_invoices_adds_up_to_the_line_exactly(
        quantity, price, line_discount, document_discount, tax, currency, data):
    order = _order(currency, [_line("ITEM", quantity, str(price), tax, str(line_discount))],
                   discount=str(document_discount))
    cuts = sorted(data.draw(st.sets(st.integers(1, quantity - 1))) if quantity > 1 else [])
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, quantity], strict=True)]
    invoices = [_bill(order, (1, size)) for size in sizes]
    _assert_parts_add_up(order, invoices)
    # one of them voided and its units billed again in ones: still exact
    voided = invoices.pop(data.draw(st.integers(0, len(invoices) - 1)))
    release_order(order, voided)
    invoices += [_bill(order, (1, 1)) for _ in range(voided.lines[0].quantity)]
    _assert_parts_add_up(order, invoices)


# -- finalizing ---------------------------------------------------------------------------

@pytest.mark.parametrize(("terms", "days"), [
    (PaymentTerms.NET_15, 15), (PaymentTerms.NET_30, 30), (PaymentTerms.NET_45, 45),
    (PaymentTerms.NET_60, 60), (PaymentTerms.NET_90, 90), (PaymentTerms.IMMEDIATE, 0),
    (PaymentTerms.COD, 0), (PaymentTerms.PREPAID, 0)])
def test_finalizing_numbers_the_invoice_and_dates_it_by_its_terms(terms, days):
    order = _mixed("EUR")
    invoice = _draft(order, terms)
    bill_order(order, [], invoice, "lines")
    entries = invoice.finalize("INV-2026-000007", CLERK, NOW)
    assert (invoice.number, invoice.state, invoice.issue_date, invoice.due_date) == (
        "INV-2026-000007", InvoiceState.OPEN, TODAY, TODAY + timedelta(days=days))
    assert invoice.finalize_time == NOW and invoice.amount_due == order.totals.grand_total
    assert [(e.action, e.from_state, e.to_state) for e in entries] == [
        (InvoiceAction.FINALIZE, InvoiceState.DRAFT, InvoiceState.OPEN)]


def test_net_30_at_the_end_of_january_is_due_on_the_first_of_march():
    invoice = _bill(_mixed("EUR"))
    invoice.finalize("INV-2027-000001", CLERK, datetime(2027, 1, 30, 23, 59, tzinfo=UTC))
    assert (invoice.issue_date, invoice.due_date) == (date(2027, 1, 30), date(2027, 3, 1))


@pytest.mark.parametrize("due", [TODAY, TODAY + timedelta(days=10)])
def test_an_explicit_due_date_is_kept(due):
    invoice = _bill(_mixed("EUR"))
    invoice.due_date = due
    invoice.finalize("INV-2026-000008", CLERK, NOW)
    assert invoice.due_date == due


def test_an_empty_draft_or_a_past_due_date_cannot_be_finalized_and_nothing_changes():
    empty = _draft(_mixed("EUR"))
    with pytest.raises(FailedPrecondition) as refused:
        empty.finalize("INV-2026-000009", CLERK, NOW)
    assert refused.value.reason == "INVOICE_EMPTY"
    late = _bill(_mixed("EUR"))
    late.due_date = TODAY - timedelta(days=1)
    with pytest.raises(FailedPrecondition) as refused:
        late.finalize("INV-2026-000009", CLERK, NOW)
    assert refused.value.reason == "DUE_DATE_PAST"
    for draft in (empty, late):
        assert (draft.state, draft.number, draft.issue_date) == (InvoiceState.DRAFT, "", None)


def test_a_finalized_invoice_cannot_be_finalized_again():
    invoice = _open()
    with pytest.raises(FailedPrecondition) as refused:
        invoice.finalize("INV-2026-000002", CLERK, NOW)
    assert refused.value.reason == "INVOICE_NOT_DRAFT"
    assert invoice.number == "INV-2026-000001"


def test_an_invoice_of_zero_is_paid_when_finalized():
    invoice = _open(price="0")
    assert (invoice.state, invoice.amount_due, invoice.paid_time) == (InvoiceState.PAID, 0, NOW)


# -- payments -----------------------------------------------------------------------------

def test_a_partial_payment_then_the_rest_makes_the_invoice_paid():
    invoice = _open()  # 100.00 + 19.00 tax
    entries = invoice.apply_payment(D("19.01"), CLERK, NOW, "part")
    assert (invoice.state, invoice.amount_due, invoice.partially_paid) == (
        InvoiceState.OPEN, D("99.99"), True)
    assert [e.action for e in entries] == [InvoiceAction.RECORD_PAYMENT]
    entries = invoice.apply_payment(D("99.99"), CLERK, NOW, "rest")
    assert [e.action for e in entries] == [InvoiceAction.RECORD_PAYMENT, InvoiceAction.PAY]
    assert (invoice.state, invoice.amount_due, invoice.amount_paid) == (
        InvoiceState.PAID, 0, D("119.00"))


def test_a_payment_above_the_amount_due_is_refused_and_changes_nothing():
    invoice = _open()
    invoice.apply_payment(D("100"), CLERK, NOW, "")
    with pytest.raises(FailedPrecondition) as refused:
        invoice.apply_payment(D("19.01"), CLERK, NOW, "")
    assert refused.value.reason == "PAYMENT_EXCEEDS_AMOUNT_DUE"
    assert refused.value.metadata["amount_due"] == "19.00"
    assert (invoice.amount_paid, invoice.amount_due) == (D("100"), D("19.00"))


@pytest.mark.parametrize("state", [InvoiceState.DRAFT, InvoiceState.VOID, InvoiceState.PAID])
def test_only_an_owed_invoice_takes_payments(state):
    invoice = _open()
    invoice.state = state
    with pytest.raises(FailedPrecondition) as refused:
        invoice.apply_payment(D("1"), CLERK, NOW, "")
    assert refused.value.reason == "INVOICE_NOT_PAYABLE"
    assert invoice.amount_paid == 0


def test_a_written_off_invoice_can_still_be_paid():
    invoice = _open()
    invoice.move(InvoiceAction.WRITE_OFF, CLERK, NOW)
    invoice.apply_payment(D("119"), CLERK, NOW, "late after all")
    assert invoice.state is InvoiceState.PAID


def test_a_payment_date_is_between_the_issue_date_and_today():
    invoice = _open()
    for day in (TODAY,):
        check_payment_date(invoice, day, NOW, "payment_date")
    for day in (TODAY + timedelta(days=1), TODAY - timedelta(days=1)):
        with pytest.raises(InvalidArgument):
            check_payment_date(invoice, day, NOW, "payment_date")


# -- credit notes -------------------------------------------------------------------------

def _credit(invoice: Invoice, amount: str) -> tuple[Decimal, Decimal, Totals]:
    """A credit note by amount, as the service issues it: (applied, to balance, its totals)."""
    totals = amount_totals(invoice, D(amount))
    applied, to_balance, _ = invoice.apply_credit(totals.grand_total, totals.tax_total, CLERK,
                                                  NOW, "")
    return applied, to_balance, totals


def _credit_lines(invoice: Invoice, *parts: tuple[int, int]) -> list[DocumentLine]:
    """A credit note by line quantities, as the service issues it: its lines."""
    return _issue_lines(invoice, *parts)[0]


def _issue_lines(invoice: Invoice, *parts: tuple[int, int]
                 ) -> tuple[list[DocumentLine], Decimal, Decimal, Totals]:
    lines, _, tallies = credited_lines(invoice, [Selection(n, q) for n, q in parts], "lines")
    totals = lines_totals(lines)
    applied, to_balance, _ = invoice.apply_credit(totals.grand_total, totals.tax_total, CLERK,
                                                  NOW, "")
    invoice.credited = tallies
    return lines, applied, to_balance, totals


def test_a_credit_note_on_an_open_invoice_reduces_what_is_due_until_it_is_paid():
    invoice = _open()  # 100.00 + 19.00 tax
    applied, to_balance, totals = _credit(invoice, "30")
    assert (applied, to_balance, invoice.amount_due) == (D(30), 0, D("89.00"))
    assert (totals.subtotal, totals.tax_total) == (D("25.21"), D("4.79"))  # 30 x 19/119
    assert invoice.state is InvoiceState.OPEN
    entries = invoice.apply_credit(D(89), D("14.21"), CLERK, NOW, "rest")[2]
    assert [e.action for e in entries] == [InvoiceAction.CREDIT, InvoiceAction.PAY]
    assert (invoice.state, invoice.amount_due, invoice.credited_tax) == (
        InvoiceState.PAID, 0, D(19))


def test_a_credit_note_beyond_what_is_due_goes_to_the_customers_balance():
    invoice = _open()
    invoice.apply_payment(D(100), CLERK, NOW, "")
    assert _credit(invoice, "50")[:2] == (D(19), D(31))
    assert (invoice.state, invoice.amount_due, invoice.credited_to_balance) == (
        InvoiceState.PAID, 0, D(31))


def test_a_credit_note_on_a_paid_invoice_goes_wholly_to_the_balance():
    invoice = _open()
    invoice.apply_payment(D(119), CLERK, NOW, "")
    assert _credit(invoice, "20")[:2] == (0, D(20))
    assert (invoice.state, invoice.amount_due, invoice.left_to_credit) == (
        InvoiceState.PAID, 0, D(99))


def test_credit_notes_never_credit_more_than_the_invoice():
    invoice = _open()
    with pytest.raises(FailedPrecondition) as refused:
        _credit(invoice, "119.01")
    assert refused.value.reason == "CREDIT_EXCEEDS_INVOICE"
    assert refused.value.metadata["left_to_credit"] == "119.00"
    assert invoice.amount_credited == 0
    _credit(invoice, "119")
    with pytest.raises(FailedPrecondition) as refused:
        _credit(invoice, "0.01")
    assert refused.value.reason == "CREDIT_EXCEEDS_INVOICE"
    assert (invoice.amount_credited, invoice.credited_tax, invoice.state) == (
        D(119), D(19), InvoiceState.PAID)


@pytest.mark.parametrize("state", [InvoiceState.DRAFT, InvoiceState.VOID])
def test_a_draft_or_void_invoice_takes_no_credit_note(state):
    invoice = _open()
    invoice.state = state
    with pytest.raises(FailedPrecondition) as refused:
        _credit(invoice, "1")
    assert refused.value.reason == "INVOICE_NOT_CREDITABLE"


def test_crediting_a_line_in_parts_credits_exactly_its_amounts_and_its_tax():
    order = _mixed("EUR")
    invoice = _bill(order)
    invoice.finalize("INV-2026-000003", CLERK, NOW)
    parts = _credit_lines(invoice, (1, 5)) + _credit_lines(invoice, (1, 1), (2, 6))
    parts += _credit_lines(invoice, (1, 7))
    assert _amounts([p for p in parts if p.sku == "WIDGET"]) == invoice.lines[0].amounts
    for part in parts:
        _assert_sensible(part, "EUR")
    with pytest.raises(FailedPrecondition) as refused:
        _credit_lines(invoice, (1, 1), (2, 2))
    assert refused.value.reason == "QUANTITY_EXCEEDS_REMAINING"
    assert [v.subject for v in refused.value.violations] == [
        "invoices/" + "i" * 24 + "/lines/1", "invoices/" + "i" * 24 + "/lines/2"]
    _credit_lines(invoice)  # all that is left: a screw and the manuals
    assert invoice.credited_tax == invoice.totals.tax_total == D("6.30")
    assert invoice.left_to_credit == D("4.95")  # the shipping, creditable by amount
    assert _credit(invoice, "4.95")[2].tax_total == 0
    assert (invoice.amount_credited, invoice.state) == (invoice.totals.grand_total,
                                                        InvoiceState.PAID)


@pytest.mark.parametrize(("currency", "price", "tax", "amount", "expected_tax"), [
    ("EUR", "100", "0.19", "59.50", "9.50"), ("EUR", "100", "0.19", "0.01", "0.00"),
    ("EUR", "100", "0", "50", "0.00"), ("JPY", "1000", "0.1", "550", "50"),
    ("JPY", "1000", "0.1", "333", "30")])
def test_an_amount_is_split_into_net_and_tax_in_the_invoices_proportion(
        currency, price, tax, amount, expected_tax):
    totals = amount_totals(_open(currency, price, tax), D(amount))
    assert (totals.tax_total, totals.grand_total) == (D(expected_tax), D(amount))
    assert totals.subtotal == D(amount) - D(expected_tax)


def test_many_small_credits_keep_their_tax_in_proportion_and_end_with_exactly_the_tax():
    invoice = _open(price="1.00", tax="0.07")  # 1.07, of which 0.07 tax
    notes = [_credit(invoice, "0.07")[2] for _ in range(15)] + [_credit(invoice, "0.02")[2]]
    for note in notes:
        assert D(0) <= note.tax_total <= note.grand_total, note
        assert note.subtotal >= 0
    assert sum(n.tax_total for n in notes) == D("0.07")
    assert sum(n.subtotal for n in notes) == D("1.00")


@settings(max_examples=150, deadline=None)
@given(price=st.decimals(min_value=D("0.01"), max_value=10_000, places=2),
       tax=st.sampled_from(["0", "0.07", "0.19", "0.25"]),
       shipping=st.sampled_from(["0", "4.95"]), data=st.data())
def test_crediting_in_full_by_amounts_credits_exactly_the_invoices_tax(price, tax, shipping,
                                                                      data):
    invoice = _open("EUR", str(price), tax, quantity=3, shipping=shipping)
    notes = []
    for share in data.draw(st.lists(st.integers(1, 1000), max_size=12), label="per mille"):
        amount = max(D("0.01"), round_to_minor(invoice.left_to_credit * share / 1000, "EUR"))
        if amount < invoice.left_to_credit:
            notes.append(_credit(invoice, str(amount))[2])
    notes.append(_credit(invoice, str(invoice.left_to_credit))[2])
    for note in notes:
        assert D(0) <= note.tax_total <= note.grand_total, note
    assert sum(n.tax_total for n in notes) == invoice.totals.tax_total == invoice.credited_tax
    assert invoice.state is InvoiceState.PAID and invoice.amount_due == 0


def test_a_line_credit_after_amount_credits_cannot_credit_more_tax_or_net_than_is_left():
    order = _order("EUR", [_line("TAXED", 1, "100", "0.19"), _line("EXEMPT", 1, "100", "0")])
    invoice = _bill(order)  # 219.00, of which 19.00 tax
    invoice.finalize("INV-2026-000004", CLERK, NOW)
    assert _credit(invoice, "100")[2].tax_total == D("8.68")  # 100 x 19/219
    with pytest.raises(FailedPrecondition) as refused:  # 19.00 of tax, 10.32 left
        _credit_lines(invoice, (1, 1))
    assert refused.value.reason == "CREDIT_EXCEEDS_INVOICE"
    assert _credit(invoice, "10")[2].tax_total == D("0.86")  # 110 x 19/219 = 9.54 in all
    with pytest.raises(FailedPrecondition) as refused:  # 100.00 net, 99.54 left
        _credit_lines(invoice, (2, 1))
    assert refused.value.reason == "CREDIT_EXCEEDS_INVOICE"
    assert (invoice.amount_credited, invoice.credited_tax, invoice.credited) == (
        D(110), D("9.54"), [])
    assert _credit(invoice, "109")[2].tax_total == D("9.46")
    assert invoice.credited_tax == D(19) and invoice.state is InvoiceState.PAID


# -- the amounts equation -----------------------------------------------------------------

OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("pay"), st.integers(1, 1200), st.just(0)),  # per mille of the amount due
    st.tuples(st.just("credit"), st.integers(1, 1200), st.just(0)),  # ... of what is left
    st.tuples(st.just("credit lines"), st.integers(1, 3), st.integers(1, 13)),
    st.tuples(st.just("write off"), st.just(0), st.just(0))), max_size=14)


def _state(invoice: Invoice) -> tuple[object, ...]:
    return (invoice.state, invoice.amount_paid, invoice.amount_credited,
            invoice.credited_to_balance, invoice.credited_tax, list(invoice.credited))


@settings(max_examples=150, deadline=None)
@given(currency=st.sampled_from(["EUR", "JPY"]), operations=OPERATIONS)
def test_the_amounts_equation_holds_after_any_payments_and_credits(currency, operations):
    invoice = _bill(_mixed(currency))
    invoice.finalize("INV-2026-000005", CLERK, NOW)
    grand, tax_total = invoice.totals.grand_total, invoice.totals.tax_total
    quantum = D(1).scaleb(-MINOR_UNITS[currency])
    paid = applied = to_balance = credited = tax = D(0)  # kept apart from the invoice's own
    for kind, x, y in operations:
        before = _state(invoice)
        owed = invoice.state in (InvoiceState.OPEN, InvoiceState.UNCOLLECTIBLE)
        try:
            if kind == "pay":
                amount = max(quantum, round_to_minor(invoice.amount_due * x / 1000, currency))
                expected = ("INVOICE_NOT_PAYABLE" if not owed else
                            "PAYMENT_EXCEEDS_AMOUNT_DUE" if amount > invoice.amount_due else "")
                invoice.apply_payment(amount, CLERK, NOW, "")
                paid += amount
            elif kind == "write off":
                expected = "" if invoice.state is InvoiceState.OPEN else "INVALID_STATE_TRANSITION"
                invoice.move(InvoiceAction.WRITE_OFF, CLERK, NOW)
            else:
                if kind == "credit":
                    amount = max(quantum, round_to_minor(invoice.left_to_credit * x / 1000,
                                                         currency))
                    expected = "CREDIT_EXCEEDS_INVOICE" if amount > invoice.left_to_credit else ""
                    now_applied, now_to_balance, totals = _credit(invoice, str(amount))
                else:  # more than is left of the line, or after credits by amount, is refused
                    expected = "?"
                    _, now_applied, now_to_balance, totals = _issue_lines(invoice, (x, y))
                assert D(0) <= totals.tax_total <= totals.grand_total
                assert now_applied >= 0 and now_to_balance >= 0
                applied, to_balance = applied + now_applied, to_balance + now_to_balance
                credited, tax = credited + totals.grand_total, tax + totals.tax_total
        except FailedPrecondition as refused:
            assert expected == "?" or refused.reason == expected
            assert _state(invoice) == before  # a refusal changes nothing
        else:
            assert expected in ("", "?"), expected
        due = invoice.amount_due
        assert due == grand - invoice.amount_paid - invoice.amount_credited + (
            invoice.credited_to_balance)
        assert due == grand - paid - applied  # what is settled, by payments or credits
        assert (invoice.amount_paid, invoice.amount_credited, invoice.credited_to_balance,
                invoice.credited_tax) == (paid, credited, to_balance, tax)
        assert D(0) <= due <= grand and credited <= grand and D(0) <= tax <= tax_total
        assert credited - tax <= grand - tax_total  # never more net than was billed
        assert (invoice.state is InvoiceState.PAID) == (due == 0)
        assert all(a == a.quantize(quantum) for a in (due, paid, credited, to_balance, tax))
        if credited == grand:
            assert tax == tax_total


# -- voiding ------------------------------------------------------------------------------

def _void(invoice: Invoice) -> None:
    """As the service voids: the checks, then the move."""
    invoice.require_voidable()
    invoice.move(InvoiceAction.VOID, CLERK, NOW, "billed twice")


def test_voiding_an_open_invoice_stops_it_being_owed_and_gives_its_order_back():
    order = _mixed("EUR")
    invoice = _bill(order, (1, 3), (3, 3))
    invoice.finalize("INV-2026-000006", CLERK, NOW)
    _void(invoice)
    release_order(order, invoice)
    assert (invoice.state, invoice.amount_due, invoice.void_time) == (InvoiceState.VOID, 0, NOW)
    assert invoice.number == "INV-2026-000006"  # numbers are never reused
    assert order.invoiced == [LineTally()] * 3 and not order.shipping_invoiced
    _assert_parts_add_up(order, [_bill(order)])


@pytest.mark.parametrize("money", ["payment", "credit note", "payment, written off"])
def test_an_invoice_with_payments_or_credit_notes_cannot_be_voided(money):
    invoice = _open()
    if "payment" in money:
        invoice.apply_payment(D("0.01"), CLERK, NOW, "")
    else:
        _credit(invoice, "0.01")
    if "written off" in money:
        invoice.move(InvoiceAction.WRITE_OFF, CLERK, NOW)
    state = invoice.state
    with pytest.raises(FailedPrecondition) as refused:
        _void(invoice)
    assert refused.value.reason == "INVOICE_HAS_PAYMENTS"
    assert invoice.state is state


def test_a_draft_is_deleted_not_voided_and_a_paid_or_void_invoice_stays_as_it_is():
    with pytest.raises(FailedPrecondition) as refused:
        _void(_bill(_mixed("EUR")))
    assert refused.value.reason == "INVOICE_IS_DRAFT"
    paid, free, void = _open(), _open(price="0"), _open()
    paid.apply_payment(D(119), CLERK, NOW, "")
    _void(void)
    for invoice in (paid, free, void):
        state = invoice.state
        with pytest.raises(FailedPrecondition) as refused:
            _void(invoice)
        assert refused.value.reason in ("INVOICE_HAS_PAYMENTS", "INVALID_STATE_TRANSITION")
        assert invoice.state is state


# -- overdue and aging --------------------------------------------------------------------

def test_an_open_invoice_is_overdue_from_the_day_after_its_due_date():
    invoice = _open()  # NET_30
    due = TODAY + timedelta(days=30)
    last_minute = datetime.combine(due, datetime.max.time(), UTC)
    assert (invoice.days_overdue(last_minute), invoice.is_overdue(last_minute)) == (0, False)
    assert invoice.days_overdue(last_minute + timedelta(microseconds=1)) == 1
    assert invoice.days_overdue(last_minute + timedelta(days=45)) == 45
    assert invoice.days_overdue(NOW) == 0  # due in the future


@pytest.mark.parametrize("state", [InvoiceState.DRAFT, InvoiceState.PAID, InvoiceState.VOID,
                                   InvoiceState.UNCOLLECTIBLE])
def test_only_an_open_invoice_is_overdue(state):
    invoice = _open()
    invoice.state = state
    assert invoice.days_overdue(NOW + timedelta(days=90)) == 0


@pytest.mark.parametrize(("late", "bucket"), [
    (-30, "current"), (-1, "current"), (0, "current"), (1, "days_1_30"), (30, "days_1_30"),
    (31, "days_31_60"), (60, "days_31_60"), (61, "days_61_90"), (90, "days_61_90"),
    (91, "days_over_90"), (3650, "days_over_90")])
def test_aging_buckets_by_days_past_due(late, bucket):
    assert BUCKETS[bucket_of(TODAY - timedelta(days=late), TODAY)] == bucket


def test_aging_keeps_currencies_apart_and_its_buckets_add_up():
    def owed(customer: str, currency: str, late: int, amount: str) -> Receivable:
        return Receivable(customer, currency, TODAY - timedelta(days=late), D(amount))

    aging = age([owed("ada", "EUR", 0, "10.00"), owed("ada", "EUR", 31, "0.01"),
                 owed("ada", "JPY", 31, "5000"), owed("bob", "EUR", 91, "99.99"),
                 owed("bob", "EUR", -5, "1.50"), owed("bob", "EUR", 40, "0")], TODAY)
    eur, jpy = aging.totals["EUR"], aging.totals["JPY"]
    assert eur.amounts == [D("11.50"), 0, D("0.01"), 0, D("99.99")]
    assert (eur.total, eur.invoice_count) == (D("111.50"), 4)  # the one owing 0 left out
    assert (jpy.amounts, jpy.total) == ([0, 0, D(5000), 0, 0], D(5000))
    assert set(aging.customers["ada"]) == {"EUR", "JPY"} and set(aging.customers["bob"]) == {
        "EUR"}
    assert aging.customers["bob"]["EUR"].total == D("101.49")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ada", "bob", "cy"]),
                          st.sampled_from(["EUR", "USD", "JPY"]), st.integers(-60, 400),
                          st.integers(0, 10**9)), max_size=30))
def test_aging_buckets_always_add_up_per_currency_and_customer(rows):
    receivables = [Receivable(c, cur, TODAY - timedelta(days=late),
                              D(minor).scaleb(-MINOR_UNITS[cur])) for c, cur, late, minor in rows]
    aging = age(receivables, TODAY)
    for currency, buckets in aging.totals.items():
        mine = [r for r in receivables if r.currency == currency]
        assert buckets.currency == currency
        assert buckets.total == sum((r.amount_due for r in mine), D(0))
        assert buckets.invoice_count == sum(1 for r in mine if r.amount_due)
        assert buckets.total == sum(per[currency].total for per in aging.customers.values()
                                    if currency in per)
    assert set(aging.totals) == {r.currency for r in receivables if r.amount_due}


def test_a_credit_by_amount_after_line_credits_keeps_the_invoices_proportion():
    order = _order("EUR", [_line("TAXED", 4, "10", "0.10"), _line("EXEMPT", 2, "5", "0")])
    invoice = _bill(order)  # 54.00, of which 4.00 tax
    invoice.finalize("INV-2026-000010", CLERK, NOW)
    _credit_lines(invoice, (1, 1))  # 11.00, of which 1.00 tax
    assert _credit(invoice, "3.30")[2].tax_total == D("0.24")  # 3.30 x 4/54, as if alone
    _credit_lines(invoice, (2, 2))
    last = _credit(invoice, "29.70")[2]
    assert (last.tax_total, invoice.credited_tax) == (D("2.76"), D(4))
