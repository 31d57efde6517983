"""The lines and totals every sales document shares (document.proto), to domain values and
back: orders use them now, quotes and invoices will."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from erp.sales.v1 import document_pb2, money_pb2

from ...domain.documents.lines import DocumentLine, rate_text
from ...domain.errors import Violations
from ...domain.money import Money
from ...domain.pricing import Totals
from ...services.document_lines import LineInput
from .common import money_in, money_out


def lines_in(v: Violations, prefix: str, lines: Iterable[document_pb2.DocumentLine]
             ) -> list[LineInput]:
    """The requested lines; a bad unit price becomes a violation on `<prefix>[i]`."""
    requested = []
    for i, line in enumerate(lines):
        price = (money_in(v, f"{prefix}[{i}].unit_price", line.unit_price)
                 if line.HasField("unit_price") else None)
        requested.append(LineInput(line.product_id, line.quantity, price, line.discount_rate))
    return requested


def _money(amount: Decimal, currency: str) -> money_pb2.Money | None:
    return money_out(Money(currency, amount))


def line_out(x: DocumentLine, currency: str, document_discount: Decimal,
             source_line_number: int = 0) -> document_pb2.DocumentLine:
    c = currency
    return document_pb2.DocumentLine(
        product_id=x.product_id, sku=x.sku, product_name=x.product_name,
        quantity=x.quantity, unit_price=_money(x.unit_price, c),
        discount_rate=str(x.discount_rate), tax_rate=str(x.tax_rate),
        gross_amount=_money(x.amounts.gross, c), discount_amount=_money(x.amounts.discount, c),
        tax_amount=_money(x.amounts.tax, c), total_amount=_money(x.amounts.total, c),
        list_price=_money(x.list_price, c),
        effective_discount_rate=rate_text(x.effective_discount(document_discount)),
        source_line_number=source_line_number)


def totals_out(t: Totals, currency: str) -> document_pb2.DocumentTotals:
    c = currency
    return document_pb2.DocumentTotals(
        subtotal=_money(t.subtotal, c), discount_total=_money(t.discount_total, c),
        tax_total=_money(t.tax_total, c), shipping=_money(t.shipping, c),
        grand_total=_money(t.grand_total, c))
