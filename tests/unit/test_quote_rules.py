"""Quote rules without I/O: the lifecycle with validity, reading as expired, and the documents
an accepted or revised quote becomes."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from sales_grpc.documents.formatting import money
from sales_grpc.documents.pdf import render_pdf
from sales_grpc.domain.access import Principal, Role
from sales_grpc.domain.customers import Customer, CustomerType
from sales_grpc.domain.documents.lines import DocumentLine, reprice, totals_of
from sales_grpc.domain.documents.view import PartyBlock
from sales_grpc.domain.errors import FailedPrecondition
from sales_grpc.domain.orders import OrderState
from sales_grpc.domain.pricing import LineAmounts
from sales_grpc.domain.quotes import Quote, QuoteAction, QuoteState, order_from, revision_of
from sales_grpc.domain.records import Audit
from sales_grpc.services.document_views import quote_view

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
REP = Principal("rep-1", Role.SALES_REP, team_id="team-a")


def _quote(state: QuoteState = QuoteState.SENT, valid_until: date = date(2026, 11, 30)
           ) -> Quote:
    lines = reprice([DocumentLine("p" * 24, "SKU", "Thing", 3, Decimal("19.99"), False,
                                  Decimal("0.1"), Decimal("0.07"),
                                  LineAmounts(Decimal(0), Decimal(0), Decimal(0)),
                                  Decimal("19.99"))], Decimal("0.05"), "USD")
    return Quote(id="q" * 24, number="QT-2026-000001", customer_id="c" * 24, currency="USD",
                 lines=lines, discount_rate=Decimal("0.05"), shipping=Decimal("4.95"),
                 totals=totals_of(lines, Decimal("4.95")), owner_id="rep-1", team_id="team-a",
                 audit=Audit.new("rep-1", NOW), state=state, entered={QuoteState.DRAFT: NOW},
                 valid_until=valid_until)


def test_a_sent_quote_can_be_accepted_through_its_last_day_and_not_after():
    last_day = _quote(valid_until=NOW.date())
    assert last_day.move(QuoteAction.ACCEPT, REP, NOW).to_state is QuoteState.ACCEPTED
    late = _quote(valid_until=NOW.date() - timedelta(days=1))
    for action in (QuoteAction.ACCEPT, QuoteAction.REJECT, QuoteAction.CANCEL,
                   QuoteAction.SUPERSEDE):
        with pytest.raises(FailedPrecondition) as refused:
            late.move(action, REP, NOW)
        assert refused.value.metadata["current_state"] == "EXPIRED"
    assert late.state is QuoteState.SENT
    assert late.move(QuoteAction.EXPIRE, REP, NOW).to_state is QuoteState.EXPIRED


def test_a_quote_past_its_day_reads_expired_without_changing_the_stored_one():
    late = _quote(valid_until=date(2026, 11, 26))
    read = late.as_read(NOW)
    assert read.state is QuoteState.EXPIRED and late.state is QuoteState.SENT
    assert read.close_time == datetime(2026, 11, 27, tzinfo=UTC)  # the end of its last day
    assert _quote(QuoteState.DRAFT, date(2026, 11, 26)).as_read(NOW).state is QuoteState.DRAFT


def test_an_accepted_quote_becomes_an_order_with_its_amounts_unchanged():
    quote = _quote()
    order = order_from(quote, "o" * 24, "SO-2026-000009", "rep-1", NOW)
    assert order.lines == quote.lines and order.totals == quote.totals
    assert (order.state, order.quote_id, order.owner_id, order.team_id) == (
        OrderState.DRAFT, quote.id, "rep-1", "team-a")


def test_a_revision_keeps_the_number_and_counts_on():
    revised = revision_of(_quote(), "r" * 24, "rep-1", NOW)
    assert (revised.number, revised.revision, revised.state, revised.previous_revision_id) == (
        "QT-2026-000001", 2, QuoteState.DRAFT, "q" * 24)


def test_a_200_line_quote_prints_its_validity_and_numbers_every_page():
    quote = _quote()
    quote.lines = quote.lines * 200
    quote.totals = totals_of(quote.lines, quote.shipping)
    customer = Customer(id="c" * 24, customer_code="CUST-000007", first_name="Zoë",
                        last_name="Ørsted", customer_type=CustomerType.INDIVIDUAL,
                        email="zoe@example.com", owner_id="rep-1", team_id="team-a",
                        audit=Audit.new("rep-1", NOW))
    pages = PdfReader(io.BytesIO(render_pdf(quote_view(
        quote, customer, PartyBlock("Ñandú Supplies"))))).pages
    first, last = pages[0].extract_text(), pages[-1].extract_text()
    assert "Quote" in first and "QT-2026-000001" in first and "2026-11-30" in first
    assert "Zoë Ørsted" in first and "Ñandú Supplies" in first
    assert len(pages) > 2 and f"Page 2 of {len(pages)}" in pages[1].extract_text()
    assert money(quote.totals.grand_total, "USD") in last  # e.g. "USD 11,341.10"
