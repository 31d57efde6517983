"""What each report source reads: its collection, the clauses every query of it has, and the
rows of one document (or, for the per-customer aging, of one customer's documents)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from ..domain.aging import BUCKETS, Receivable, age, bucket_of
from ..domain.invoices import OWING
from ..domain.quotes import QuoteState
from . import codec
from .codec import day_from

Row = list[object]
Doc = dict[str, Any]
U = codec.undec
_ZERO = Decimal(0)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else U(value)


_TOTALS = ("subtotal", "discount_total", "tax_total", "shipping", "grand_total")
_LINE = ("unit_price", "discount_rate", "tax_rate", "gross", "discount", "tax", "total")


def _head(d: Doc) -> Row:
    return [d.get("number", ""), d.get("state", ""), d.get("customer_id", ""),
            d.get("owner_id", ""), d.get("team_id", ""), d.get("currency", "")]


def _line_cells(number: int, x: Doc) -> Row:
    return [number, x["product_id"], x["sku"], x["product_name"], x["quantity"],
            *(U(x[k]) for k in _LINE)]


def _totals(d: Doc) -> Row:
    t = d.get("totals", {})
    return [_dec(t.get(k)) for k in _TOTALS]


def orders(d: Doc, as_of: date) -> Iterator[Row]:
    yield [*_head(d), len(d.get("lines", [])), *_totals(d), d.get("create_time"),
           d.get("confirm_time"), d.get("notes", "")]


def order_lines(d: Doc, as_of: date) -> Iterator[Row]:
    head = _head(d)
    for number, x in enumerate(d.get("lines", []), start=1):
        yield [*head, *_line_cells(number, x), d.get("create_time")]


def quotes(d: Doc, as_of: date) -> Iterator[Row]:
    head = _head(d)
    valid_until = day_from(d.get("valid_until"))
    if head[1] == QuoteState.SENT.value and valid_until is not None and valid_until < as_of:
        head[1] = QuoteState.EXPIRED.value  # as the Quote RPCs read it on the as-of day
    yield [*head, d.get("revision", 1), len(d.get("lines", [])), *_totals(d), valid_until,
           d.get("create_time"), d.get("notes", "")]


def _invoice_head(d: Doc) -> Row:
    return [d.get("number", ""), d.get("state", ""), d.get("customer_id", ""),
            d.get("owner_id", ""), d.get("team_id", ""), d.get("order_number", ""),
            d.get("currency", ""), day_from(d.get("issue_date")), day_from(d.get("due_date"))]


def invoices(d: Doc, as_of: date) -> Iterator[Row]:
    yield [*_invoice_head(d), _dec(d.get("totals", {}).get("grand_total")),
           _dec(d.get("amount_paid", 0)), _dec(d.get("amount_credited", 0)),
           _dec(d.get("amount_due", 0)), d.get("create_time")]


def invoice_lines(d: Doc, as_of: date) -> Iterator[Row]:
    head = _invoice_head(d)
    for number, x in enumerate(d.get("lines", []), start=1):
        yield [*head, *_line_cells(number, x), d.get("create_time")]


def payments(d: Doc, as_of: date) -> Iterator[Row]:
    yield [str(d["_id"]), d.get("invoice_number", ""), d.get("customer_id", ""),
           d.get("owner_id", ""), d.get("team_id", ""), d.get("currency", ""), U(d["amount"]),
           d.get("method", ""), d.get("reference", ""), day_from(d.get("payment_date")),
           d.get("create_time")]


def credit_notes(d: Doc, as_of: date) -> Iterator[Row]:
    yield [d.get("number", ""), d.get("invoice_number", ""), d.get("customer_id", ""),
           d.get("owner_id", ""), d.get("team_id", ""), d.get("currency", ""),
           len(d.get("lines", [])), *_totals(d), U(d.get("amount_applied", 0)),
           U(d.get("amount_to_balance", 0)), d.get("reason", ""), day_from(d.get("issue_date")),
           d.get("create_time")]


def customers(d: Doc, as_of: date) -> Iterator[Row]:
    """One row per currency the customer has figures in (one with no currency if none)."""
    stats = d.get("stats") or {}
    amounts = {k: stats.get(k) or {} for k in ("spent", "outstanding", "credit_balance")}
    currencies = sorted(set[str]().union(*amounts.values())) or [""]
    head = [d.get("customer_code", ""), d.get("first_name", ""), d.get("last_name", ""),
            d.get("company_name", ""), d.get("customer_type", ""), d.get("status", ""),
            d.get("payment_terms", ""), d.get("owner_id", ""), d.get("team_id", "")]
    for currency in currencies:
        yield [*head, currency, stats.get("order_count", 0),
               *(U(amounts[k].get(currency, _ZERO)) for k in amounts),
               stats.get("last_order_time"), d.get("create_time")]


Sales = dict[str, tuple[int, Decimal]]  # product id -> units sold, net sales


def products(d: Doc, as_of: date, sales: Sales | None = None) -> Iterator[Row]:
    price, cost, stock = d.get("unit_price") or {}, d.get("cost") or {}, d.get("stock") or {}
    available = stock.get("available", 0)
    units, net = (sales or {}).get(str(d["_id"]), (0, _ZERO))
    yield [d.get("sku", ""), d.get("name", ""), d.get("category", ""),
           price.get("currency", ""), _dec(price.get("amount")), _dec(cost.get("amount")),
           _dec(d.get("tax_rate")), d.get("unit_of_measure", ""), stock.get("on_hand", 0),
           stock.get("reserved", 0), available, d.get("reorder_level", 0),
           available <= d.get("reorder_level", 0), d.get("active", True), units, net,
           d.get("create_time")]


def add_sales(sales: Sales, order: Doc) -> None:
    """An order's lines counted into the units and net sales (after discount, before tax)."""
    for x in order.get("lines", ()):
        units, net = sales.get(x["product_id"], (0, _ZERO))
        sales[x["product_id"]] = (units + x["quantity"], net + U(x["gross"]) - U(x["discount"]))


def aging(d: Doc, as_of: date) -> Iterator[Row]:
    due = U(d.get("amount_due", 0))
    due_date = day_from(d.get("due_date"))
    if due == 0 or due_date is None:
        return
    bucket = bucket_of(due_date, as_of)
    yield [d.get("number", ""), d.get("customer_id", ""), d.get("owner_id", ""),
           d.get("team_id", ""), d.get("currency", ""), day_from(d.get("issue_date")), due_date,
           max((as_of - due_date).days, 0), BUCKETS[bucket], due,
           *(due if i == bucket else _ZERO for i in range(len(BUCKETS)))]


def customer_aging(docs: list[Doc], as_of: date) -> Iterator[Row]:
    """One customer's owed invoices aged by domain/aging.py: a row per currency."""
    owed = [Receivable(d["customer_id"], d["currency"], due_date, U(d.get("amount_due", 0)))
            for d in docs if (due_date := day_from(d.get("due_date"))) is not None]
    for customer_id, per_currency in age(owed, as_of).customers.items():
        for currency in sorted(per_currency):
            b = per_currency[currency]
            yield [customer_id, currency, b.invoice_count, b.total, *b.amounts]


def revenue(d: Doc, as_of: date) -> Iterator[Row]:
    """A revenue rollup (analytics' totals per UTC day or month, basis, currency, owner)."""
    day = d["start"].date()
    yield [d.get("basis", ""), day, f"{day:%Y-%m}", f"{day.year}-Q{(day.month + 2) // 3}",
           day.year, d.get("currency", ""), d.get("owner_id", ""), d.get("team_id", ""),
           U(d.get("amount", 0)), d.get("count", 0), U(d.get("gross", 0)),
           U(d.get("discount", 0)), d.get("cancelled", 0)]


@dataclass(frozen=True)
class Source:
    collection: str
    rows: Callable[[Doc, date], Iterator[Row]] | None = None
    fixed: list[dict[str, Any]] = field(default_factory=list)
    text_paths: tuple[str, ...] = ("number",)
    scoped: bool = True  # the catalog is everyone's: products carry no owner
    dated: bool = True  # False: the date range bounds the sales counted, not the records
    with_sales: bool = False  # rows carry each product's sales in the caller's scope
    timed: bool = False  # the date field holds instants, though not named *_time
    # Set for sources whose rows are of a group of documents (sorted by this field first).
    group_by: str = ""
    group_rows: Callable[[list[Doc], date], Iterator[Row]] | None = None


_OWING = [{"state": {"$in": sorted(s.value for s in OWING)}}]
_LIVE = [{"delete_time": None}]
_ALL = [{"dimension": {"$in": ["", None]}}]  # the rollups' totals, not per customer or product
_INVOICE_TEXT = ("number", "notes", "order_number")
SOURCES: dict[str, Source] = {
    "sales_orders": Source("sales_orders", orders, text_paths=("number", "notes")),
    "order_lines": Source("sales_orders", order_lines, text_paths=("number", "notes")),
    "quotes": Source("quotes", quotes, text_paths=("number", "notes")),
    "invoices": Source("invoices", invoices, text_paths=_INVOICE_TEXT),
    "invoice_lines": Source("invoices", invoice_lines, text_paths=_INVOICE_TEXT),
    "payments": Source("payments", payments),
    "credit_notes": Source("credit_notes", credit_notes, text_paths=("number", "reason")),
    "customers": Source("customers", customers, _LIVE, (
        "first_name", "last_name", "full_name", "company_name", "email", "customer_code")),
    "products": Source("products", products, _LIVE, ("name", "sku", "description"),
                       scoped=False, dated=False, with_sales=True),
    "revenue": Source("analytics_rollups", revenue, [{"level": "day"}, *_ALL],
                      timed=True),
    "revenue_months": Source("analytics_rollups", revenue, [{"level": "month"}, *_ALL],
                             timed=True),
    "receivables": Source("invoices", aging, _OWING, _INVOICE_TEXT),
    "customer_receivables": Source("invoices", None, _OWING, _INVOICE_TEXT,
                                   group_by="customer_id", group_rows=customer_aging),
}
LINE_SOURCES = frozenset({"order_lines", "invoice_lines"})
# Orders that count as sales: confirmed and not cancelled (as the customers' statistics).
SOLD = [{"state": {"$in": ["confirmed", "processing", "shipped", "delivered"]}}]


def day_bounds(date_field: str, start: str, end: str, timed: bool = False
               ) -> dict[str, Any]:
    """The range of calendar days on `date_field`: times for `*_time` (or `timed`) fields,
    else ISO text."""
    bounds: dict[str, Any] = {}
    timed = timed or date_field.endswith("_time")
    if start:
        bounds["$gte"] = (datetime.combine(date.fromisoformat(start), time(), UTC) if timed
                          else start)
    if end:
        bounds["$lte"] = (datetime.combine(date.fromisoformat(end), time.max, UTC) if timed
                          else end)
    return bounds
