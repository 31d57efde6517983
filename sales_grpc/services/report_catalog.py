"""The built-in reports: their columns and the fields their filters take (the List RPCs')."""

from __future__ import annotations

from ..domain.aging import BUCKETS
from ..domain.errors import InvalidArgument
from ..domain.invoices import PaymentMethod
from ..domain.listing import (
    FilterField,
    currency_converter,
    decimal_converter,
    enum_converter,
    text_converter,
)
from ..domain.reports import Column, Report
from ..domain.reports import ColumnType as T
from . import invoices, order_queries

_ORDER_FILTERS = order_queries.FILTERS
_INVOICE_FILTERS = {k: v for k, v in invoices.FILTERS.items() if k != "overdue"}
_EQ = frozenset({"=", "!="})
_RANGE = frozenset({"=", "<", "<=", ">", ">="})
PAYMENT_FILTERS = {
    "currency": FilterField("currency", _EQ, currency_converter),
    "customer_id": FilterField("customer_id", _EQ, text_converter),
    "owner_id": FilterField("owner_id", _EQ, text_converter),
    "invoice_id": FilterField("invoice_id", _EQ, text_converter),
    "method": FilterField("method", _EQ, enum_converter({m.name: m.value for m in PaymentMethod})),
    "amount": FilterField("amount", _RANGE, decimal_converter),
    "payment_date": FilterField("payment_date", _RANGE, invoices.FILTERS["issue_date"].convert),
}


def _c(spec: str, kind: T = T.STRING, description: str = "") -> Column:
    return Column(spec, kind, description)


_ORDER_HEAD = (_c("order_number"), _c("order_state"), _c("customer_id"), _c("owner_id"),
               _c("team_id"), _c("currency"))
BUILT_IN: dict[str, Report] = {r.id: r for r in (
    Report("sales_orders", "Sales orders", "sales_orders",
           "One row per sales order with its totals.",
           (*_ORDER_HEAD, _c("line_count", T.INTEGER), _c("subtotal", T.DECIMAL),
            _c("discount_total", T.DECIMAL), _c("tax_total", T.DECIMAL),
            _c("shipping", T.DECIMAL), _c("grand_total", T.DECIMAL),
            _c("create_time", T.TIMESTAMP), _c("confirm_time", T.TIMESTAMP), _c("notes")),
           _ORDER_FILTERS, "create_time"),
    Report("order_lines", "Sales order lines", "order_lines",
           "One row per line of every sales order; the filter applies to the orders.",
           (*_ORDER_HEAD, _c("line_number", T.INTEGER), _c("product_id"), _c("sku"),
            _c("product_name"), _c("quantity", T.INTEGER), _c("unit_price", T.DECIMAL),
            _c("discount_rate", T.DECIMAL), _c("tax_rate", T.DECIMAL), _c("gross", T.DECIMAL),
            _c("discount", T.DECIMAL), _c("tax", T.DECIMAL), _c("total", T.DECIMAL),
            _c("create_time", T.TIMESTAMP)),
           _ORDER_FILTERS, "create_time"),
    Report("invoices", "Invoices", "invoices",
           "One row per invoice, drafts included, with what is paid, credited and due.",
           (_c("invoice_number"), _c("invoice_state"), _c("customer_id"), _c("owner_id"),
            _c("team_id"), _c("order_number"), _c("currency"), _c("issue_date", T.DATE),
            _c("due_date", T.DATE), _c("grand_total", T.DECIMAL), _c("amount_paid", T.DECIMAL),
            _c("amount_credited", T.DECIMAL), _c("amount_due", T.DECIMAL),
            _c("create_time", T.TIMESTAMP)),
           _INVOICE_FILTERS, "issue_date"),
    Report("payments", "Payments", "payments", "One row per payment recorded.",
           (_c("payment_id"), _c("invoice_number"), _c("customer_id"), _c("owner_id"),
            _c("team_id"), _c("currency"), _c("amount", T.DECIMAL), _c("method"),
            _c("reference"), _c("payment_date", T.DATE), _c("create_time", T.TIMESTAMP)),
           PAYMENT_FILTERS, "payment_date"),
    Report("receivables_aging", "Receivables aging", "receivables",
           "One row per open or uncollectible invoice with an amount due, aged to the "
           "export's as-of day: its bucket, and its amount due in that bucket's column.",
           (_c("invoice_number"), _c("customer_id"), _c("owner_id"), _c("team_id"),
            _c("currency"), _c("issue_date", T.DATE), _c("due_date", T.DATE),
            _c("days_past_due", T.INTEGER), _c("bucket"), _c("amount_due", T.DECIMAL),
            *(_c(name, T.DECIMAL) for name in BUCKETS)),
           _INVOICE_FILTERS, "due_date"),
)}


def report_named(report_id: str) -> Report:
    found = BUILT_IN.get(report_id)
    if found is None:
        raise InvalidArgument.of(
            "report_id", f"unknown report {report_id!r}; built-in: {', '.join(BUILT_IN)}")
    return found
