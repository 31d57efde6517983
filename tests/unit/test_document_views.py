"""What an order's PDF shows, built from the domain: the priced amounts, the customer's block,
the seller from settings, a title that says what state the order is in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sales_grpc.config import Settings
from sales_grpc.domain.customers import Customer, CustomerType, PaymentTerms
from sales_grpc.domain.documents.lines import DocumentLine
from sales_grpc.domain.orders import OrderState, SalesOrder
from sales_grpc.domain.pricing import LineAmounts, Totals
from sales_grpc.domain.records import Address, Audit
from sales_grpc.services.document_views import (
    customer_block,
    order_view,
    seller_block,
    terms_text,
)

CREATED = datetime(2026, 3, 14, 23, 30, tzinfo=UTC)
EDITED = CREATED + timedelta(days=2)
SELLER = seller_block(Settings(company_name="Ñandú Ltd.", company_tax_id="GB1"))


def customer(**fields: object) -> Customer:
    values: dict[str, object] = dict(
        id="c" * 24, customer_code="CUST-000042", first_name="Zoë", last_name="Ørsted",
        customer_type=CustomerType.BUSINESS, email="zoe@example.com", owner_id="rep-1",
        team_id="team-a", audit=Audit.new("rep-1", CREATED), company_name="Müller-Łukasz GmbH",
        billing_address=Address(("Hauptstraße 5", "Hinterhaus"), "Berlin", "BE", "10115", "DE"),
        payment_terms=PaymentTerms.NET_45, tax_id="DE123")
    values.update(fields)
    return Customer(**values)  # type: ignore[arg-type]


def order(state: OrderState = OrderState.CONFIRMED) -> SalesOrder:
    line = DocumentLine("p" * 24, "TOOL-1", "Wrench", 3, Decimal("19.99"), False,
                        Decimal("0.1"), Decimal("0.07"),
                        LineAmounts(Decimal("59.97"), Decimal("6.00"), Decimal("3.78")),
                        Decimal("19.99"))
    placed = SalesOrder(
        id="o" * 24, number="SO-2026-000007", customer_id="c" * 24, currency="EUR",
        lines=[line], discount_rate=Decimal(0), shipping=Decimal("4.50"),
        totals=Totals(Decimal("59.97"), Decimal("6.00"), Decimal("3.78"), Decimal("4.50")),
        owner_id="rep-1", team_id="team-a", audit=Audit(CREATED, "rep-1", EDITED, "rep-1"),
        state=state, notes="Gate code 1234", entered={OrderState.DRAFT: CREATED})
    if state is OrderState.CONFIRMED:
        placed.entered[OrderState.CONFIRMED] = EDITED
    return placed


def test_an_order_view_carries_the_priced_amounts_to_the_cent():
    view = order_view(order(), customer(), SELLER)
    (line,) = view.lines
    assert (line.sku, line.description, line.quantity, line.unit_price) == \
        ("TOOL-1", "Wrench", 3, Decimal("19.99"))
    assert (line.discount, line.tax_rate, line.total) == \
        (Decimal("6.00"), Decimal("0.07"), Decimal("57.75"))
    assert view.totals.grand_total == Decimal("62.25") == \
        sum(x.total for x in view.lines) + view.totals.shipping
    assert view.currency == "EUR"


def test_an_order_view_dates_the_pdf_by_the_orders_version_not_by_the_clock():
    view = order_view(order(), customer(), SELLER)
    assert view.version_time == EDITED
    assert view.issue_date == CREATED.date()
    assert ("Confirmed", EDITED.date()) in view.details
    assert view.details[0] == ("Customer no.", "CUST-000042")


@pytest.mark.parametrize(("state", "title"), [
    (OrderState.CONFIRMED, "Order confirmation"), (OrderState.SHIPPED, "Order confirmation"),
    (OrderState.DRAFT, "Draft order"), (OrderState.CANCELLED, "Cancelled order")])
def test_the_title_says_whether_the_order_is_confirmed(state, title):
    assert order_view(order(state), customer(), SELLER).title == title


def test_a_business_customer_is_addressed_by_company_with_an_attention_line():
    block = customer_block(customer())
    assert block.name == "Müller-Łukasz GmbH"
    assert block.lines == ("Attn: Zoë Ørsted", "Hauptstraße 5", "Hinterhaus",
                           "Berlin, BE 10115", "DE")
    assert block.tax_id == "DE123"


def test_a_person_without_a_company_or_address_is_addressed_by_name():
    block = customer_block(customer(company_name="", billing_address=None,
                                    customer_type=CustomerType.INDIVIDUAL))
    assert (block.name, block.lines) == ("Zoë Ørsted", ())


def test_the_seller_comes_from_settings_with_the_address_split_into_lines():
    seller = seller_block(Settings(company_name="Acme", company_address="1 Road\\nBristol\n GB ",
                                   company_tax_id="GB9", company_logo_path=""))
    assert (seller.name, seller.lines, seller.tax_id) == ("Acme", ("1 Road", "Bristol", "GB"),
                                                           "GB9")


def test_terms_follow_the_customers_payment_terms():
    assert terms_text(PaymentTerms.NET_45) == "Payment: net 45 days from the invoice date."
    assert terms_text(PaymentTerms.PREPAID) == "Payment: in advance, before delivery."
    assert order_view(order(), customer(), SELLER).terms == terms_text(PaymentTerms.NET_45)


def test_pdf_settings_that_cannot_work_stop_the_start(tmp_path):
    with pytest.raises(ValueError, match="PDF_WORKERS=0"):
        Settings.from_env({"PDF_WORKERS": "0"})
    with pytest.raises(ValueError, match="COMPANY_LOGO_PATH"):
        Settings.from_env({"COMPANY_LOGO_PATH": str(tmp_path / "missing.png")})
    assert Settings.from_env({"PDF_WORKERS": "3"}).pdf_workers == 3
