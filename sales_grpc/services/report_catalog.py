"""The built-in reports: their columns and the fields their filters take (the List RPCs')."""

from __future__ import annotations

from ..domain.aging import BUCKETS
from ..domain.commission_facts import DocumentKind
from ..domain.commission_report import LINE_COLUMNS
from ..domain.errors import InvalidArgument
from ..domain.invoices import PaymentMethod
from ..domain.listing import (
    FilterField,
    currency_converter,
    decimal_converter,
    enum_converter,
    text_converter,
    time_converter,
)
from ..domain.reports import Column, Report
from ..domain.reports import ColumnType as T
from ..domain.rollups import Basis
from . import customers, invoices, order_queries, products, quotes

_EQ = frozenset({"=", "!="})
_CURRENCY = {"currency": FilterField("currency", _EQ, currency_converter)}
_ORDER_FILTERS = {**order_queries.FILTERS, **_CURRENCY}
_INVOICE_FILTERS = {**{k: v for k, v in invoices.FILTERS.items() if k != "overdue"},
                    **_CURRENCY}
_RANGE = frozenset({"=", "<", "<=", ">", ">="})
_DAY = invoices.FILTERS["issue_date"].convert
_COMMON = {
    "currency": FilterField("currency", _EQ, currency_converter),
    "customer_id": FilterField("customer_id", _EQ, text_converter),
    "owner_id": FilterField("owner_id", _EQ, text_converter),
    "team_id": FilterField("team_id", _EQ, text_converter),
    "invoice_id": FilterField("invoice_id", _EQ, text_converter),
    "create_time": FilterField("create_time", _RANGE - {"="}, time_converter),
}
PAYMENT_FILTERS = {
    **_COMMON,
    "method": FilterField("method", _EQ, enum_converter({m.name: m.value for m in PaymentMethod})),
    "amount": FilterField("amount", _RANGE, decimal_converter),
    "payment_date": FilterField("payment_date", _RANGE, _DAY),
}
CREDIT_NOTE_FILTERS = {
    **_COMMON,
    "issue_date": FilterField("issue_date", _RANGE, _DAY),
    "grand_total": FilterField("totals.grand_total", _RANGE, decimal_converter),
    "text": FilterField("text", frozenset({":"}), text_converter),
}
REVENUE_FILTERS = {
    "basis": FilterField("basis", _EQ, enum_converter({b.name: b.value for b in Basis})),
    **{k: _COMMON[k] for k in ("currency", "owner_id", "team_id")},
}
PLAN_FILTER = "plan_id"
COMMISSION_FILTERS = {
    PLAN_FILTER: FilterField(PLAN_FILTER, frozenset({"="}), text_converter),
    **{k: FilterField(k, _EQ, text_converter) for k in ("owner_id", "team_id", "rule_id")},
    "currency": FilterField("currency", _EQ, currency_converter),
    "kind": FilterField("kind", _EQ, enum_converter({k.name: k.value for k in DocumentKind})),
}
_CUSTOMER_FILTERS = {**customers.FILTERS,
                     "create_time": FilterField("create_time", _RANGE - {"="}, time_converter)}
_PRODUCT_FILTERS = {**products.FILTERS,
                    "create_time": FilterField("create_time", _RANGE - {"="}, time_converter)}


_PARTY_SORT = {"customer_id": "customer_id", "owner_id": "owner_id", "team_id": "team_id",
               "currency": "currency", "create_time": "create_time"}
_ORDER_SORT = {**_PARTY_SORT, "order_number": "number", "order_state": "state",
               "grand_total": "totals.grand_total"}
_QUOTE_SORT = {**_PARTY_SORT, "quote_number": "number", "quote_state": "state",
               "valid_until": "valid_until", "grand_total": "totals.grand_total"}
_INVOICE_SORT = {**_PARTY_SORT, "invoice_number": "number", "invoice_state": "state",
                 "issue_date": "issue_date", "due_date": "due_date", "amount_due": "amount_due",
                 "grand_total": "totals.grand_total"}
_PAYMENT_SORT = {**_PARTY_SORT, "invoice_number": "invoice_number", "amount": "amount",
                 "payment_date": "payment_date", "method": "method"}
_NOTE_SORT = {**_PARTY_SORT, "credit_note_number": "number", "issue_date": "issue_date",
              "grand_total": "totals.grand_total"}
_CUSTOMER_SORT = {"customer_code": "code_key", "last_name": "last_name",
                  "company_name": "company_name", "status": "status", "owner_id": "owner_id",
                  "team_id": "team_id", "create_time": "create_time",
                  "order_count": "stats.order_count"}
_REVENUE_SORT = {"basis": "basis", "day": "start", "currency": "currency",
                 "owner_id": "owner_id", "team_id": "team_id", "amount": "amount",
                 "count": "count"}
_PRODUCT_SORT = {"sku": "sku", "name": "name", "category": "category",
                 "unit_price": "unit_price.amount", "on_hand": "stock.on_hand",
                 "available": "stock.available", "create_time": "create_time"}


def _c(spec: str, kind: T = T.STRING, description: str = "") -> Column:
    return Column(spec, kind, description)


_PARTIES = (_c("customer_id"), _c("owner_id"), _c("team_id"))
_HEAD = (_c("order_number"), _c("order_state"), *_PARTIES, _c("currency"))
_TOTALS = (_c("subtotal", T.DECIMAL), _c("discount_total", T.DECIMAL),
           _c("tax_total", T.DECIMAL), _c("shipping", T.DECIMAL), _c("grand_total", T.DECIMAL))
_LINE = (_c("line_number", T.INTEGER), _c("product_id"), _c("sku"), _c("product_name"),
         _c("quantity", T.INTEGER), _c("unit_price", T.DECIMAL), _c("discount_rate", T.DECIMAL),
         _c("tax_rate", T.DECIMAL), _c("gross", T.DECIMAL), _c("discount", T.DECIMAL),
         _c("tax", T.DECIMAL), _c("total", T.DECIMAL))
_CREATED = _c("create_time", T.TIMESTAMP)
_INVOICE_HEAD = (_c("invoice_number"), _c("invoice_state"), *_PARTIES, _c("order_number"),
                 _c("currency"), _c("issue_date", T.DATE), _c("due_date", T.DATE))
_BUCKETS = tuple(_c(name, T.DECIMAL) for name in BUCKETS)
_COMMISSION_COLUMNS = {
    "owner_id": _c("owner_id", T.STRING, "The rep paid the commission."),
    "team_id": _c("team_id", T.STRING, "The document's team."),
    "currency": _c("currency", T.STRING, "The currency of the base and commission."),
    "rule_id": _c("rule_id", T.STRING, "The plan's rule applied."),
    "rule": _c("rule", T.STRING, "The rule in words, for example `team team-a: 5% flat`."),
    "kind": _c("kind", T.STRING, "invoice, credit_note or payment."),
    "document_id": _c("document_id"),
    "number": _c("number", T.STRING, "The document's number (empty for a payment)."),
    "invoice_id": _c("invoice_id"),
    "invoice_number": _c("invoice_number"),
    "day": _c("day", T.DATE, "The day the document counts on."),
    "base": _c("base", T.DECIMAL, "What it adds to the rule's base (negative for a "
               "clawback)."),
    "commission": _c("commission", T.DECIMAL, "What it adds to the rep's commission: the "
                     "lines of a rule add up to the rule's commission, rounded once."),
}
BUILT_IN: dict[str, Report] = {r.id: r for r in (
    Report("sales_orders", "Sales orders", "sales_orders",
           "One row per sales order with its totals.",
           (*_HEAD, _c("line_count", T.INTEGER), *_TOTALS, _CREATED,
            _c("confirm_time", T.TIMESTAMP), _c("notes")),
           _ORDER_FILTERS, "create_time", _ORDER_SORT),
    Report("order_lines", "Sales order lines", "order_lines",
           "One row per line of every sales order; the filter applies to the orders.",
           (*_HEAD, *_LINE, _CREATED), _ORDER_FILTERS, "create_time", _ORDER_SORT),
    Report("quotes", "Quotes", "quotes",
           "One row per quote revision with its totals; a sent quote past its valid-until "
           "day reads EXPIRED, as the Quote RPCs show it on the as-of day.",
           (_c("quote_number"), _c("quote_state"), *_PARTIES, _c("currency"),
            _c("revision", T.INTEGER), _c("line_count", T.INTEGER), *_TOTALS,
            _c("valid_until", T.DATE), _CREATED, _c("notes")),
           {**quotes.FILTERS, **_CURRENCY}, "create_time", _QUOTE_SORT),
    Report("invoices", "Invoices", "invoices",
           "One row per invoice, drafts included, with what is paid, credited and due.",
           (*_INVOICE_HEAD, _c("grand_total", T.DECIMAL), _c("amount_paid", T.DECIMAL),
            _c("amount_credited", T.DECIMAL), _c("amount_due", T.DECIMAL), _CREATED),
           _INVOICE_FILTERS, "issue_date", _INVOICE_SORT),
    Report("invoice_lines", "Invoice lines", "invoice_lines",
           "One row per line of every invoice; the filter applies to the invoices.",
           (*_INVOICE_HEAD, *_LINE, _CREATED), _INVOICE_FILTERS, "issue_date",
           _INVOICE_SORT),
    Report("payments", "Payments", "payments", "One row per payment recorded.",
           (_c("payment_id"), _c("invoice_number"), *_PARTIES, _c("currency"),
            _c("amount", T.DECIMAL), _c("method"), _c("reference"),
            _c("payment_date", T.DATE), _CREATED),
           PAYMENT_FILTERS, "payment_date", _PAYMENT_SORT),
    Report("credit_notes", "Credit notes", "credit_notes",
           "One row per credit note: its totals, what it took off its invoice and what went "
           "to the customer's credit balance.",
           (_c("credit_note_number"), _c("invoice_number"), *_PARTIES, _c("currency"),
            _c("line_count", T.INTEGER), *_TOTALS, _c("amount_applied", T.DECIMAL),
            _c("amount_to_balance", T.DECIMAL), _c("reason"), _c("issue_date", T.DATE),
            _CREATED),
           CREDIT_NOTE_FILTERS, "issue_date", _NOTE_SORT),
    Report("customers", "Customers", "customers",
           "One row per customer (archived ones left out) and currency of their sales "
           "statistics: what they spent on counted orders, owe on open invoices and hold as "
           "credit; one row without a currency for a customer with no figures yet. "
           "order_count is the customer's, in all currencies, on each of their rows.",
           (_c("customer_code"), _c("first_name"), _c("last_name"), _c("company_name"),
            _c("customer_type"), _c("status"), _c("payment_terms"), _c("owner_id"),
            _c("team_id"), _c("currency"), _c("order_count", T.INTEGER),
            _c("total_spent", T.DECIMAL), _c("outstanding", T.DECIMAL),
            _c("credit_balance", T.DECIMAL), _c("last_order_time", T.TIMESTAMP), _CREATED),
           _CUSTOMER_FILTERS, "create_time", _CUSTOMER_SORT),
    Report("products", "Products", "products",
           "One row per product of the catalog (archived ones left out) with its stock: on "
           "hand, reserved by confirmed orders, available, and whether available is at or "
           "below the reorder level; and its sales: units and net sales (after discounts, "
           "before tax, in its currency) on the confirmed, not cancelled orders the caller "
           "sees, confirmed within the date range if one is given (the range bounds the "
           "sales, not the products). The catalog is the same for every caller.",
           (_c("sku"), _c("name"), _c("category"), _c("currency"), _c("unit_price", T.DECIMAL),
            _c("cost", T.DECIMAL), _c("tax_rate", T.DECIMAL), _c("unit_of_measure"),
            _c("on_hand", T.INTEGER), _c("reserved", T.INTEGER), _c("available", T.INTEGER),
            _c("reorder_level", T.INTEGER), _c("needs_reorder", T.BOOLEAN),
            _c("active", T.BOOLEAN), _c("units_sold", T.INTEGER),
            _c("net_sales", T.DECIMAL), _CREATED),
           _PRODUCT_FILTERS, "confirm_time", _PRODUCT_SORT),
    *(Report(f"revenue_{period}", f"Revenue by {unit}", source,
             f"The analytics rollups' totals per UTC {unit}, basis, currency, owner and team: "
             "what GetRevenue adds up for the same basis in UTC. `amount` is the basis's "
             "figure (BOOKINGS: confirmed orders' grand totals, less those cancelled; "
             "BILLINGS: invoices issued, less credit notes and voids; COLLECTIONS: payments; "
             "the QUOTES_* bases: quote totals at each outcome), `count` its documents; `gross`"
             ", `discount` and `cancelled` are kept for bookings only. Filter by `basis`; a "
             f"date range selects each {unit} by its first day.",
             (_c("basis"), _c("day", T.DATE, f"The first day of the {unit} (UTC)."),
              _c("month"), _c("quarter"), _c("year", T.INTEGER), _c("currency"),
              _c("owner_id"), _c("team_id"), _c("amount", T.DECIMAL), _c("count", T.INTEGER),
              _c("gross", T.DECIMAL), _c("discount", T.DECIMAL), _c("cancelled", T.INTEGER)),
             REVENUE_FILTERS, "start", _REVENUE_SORT)
      for period, source, unit in (("daily", "revenue", "day"),
                                   ("monthly", "revenue_months", "month"))),
    Report("receivables_aging", "Receivables aging", "receivables",
           "One row per open or uncollectible invoice with an amount due, aged to the "
           "export's as-of day: its bucket, and its amount due in that bucket's column.",
           (_c("invoice_number"), *_PARTIES, _c("currency"), _c("issue_date", T.DATE),
            _c("due_date", T.DATE), _c("days_past_due", T.INTEGER), _c("bucket"),
            _c("amount_due", T.DECIMAL), *_BUCKETS),
           _INVOICE_FILTERS, "due_date"),
    Report("customer_aging", "Receivables aging per customer", "customer_receivables",
           "One row per customer and currency they owe in: the open and uncollectible "
           "invoices' amounts due, aged to the as-of day in buckets that add up to the "
           "amount due. Currencies are never added together.",
           (_c("customer_id"), _c("currency"), _c("invoice_count", T.INTEGER),
            _c("amount_due", T.DECIMAL), *_BUCKETS),
           _INVOICE_FILTERS, "due_date"),
    Report("commissions", "Commissions", "commissions",
           "A commission plan's report (GetCommissionReport) as rows: one per document line, "
           "what each invoice, credit note or payment added to a rep's base and commission "
           "under the rule applied, rep by rep, in the caller's scope (a rep their own, a "
           "manager their team's). The filter must name the plan, `plan_id = \"ID\"`, and "
           "the run both days, start_date and end_date (at most 731 days, within the plan's "
           "own). For the same plan and days the `commission` column adds up, per currency, "
           "to GetCommissionReport's totals; revenue no rule applies to is not listed (its "
           "unmatched_base).",
           tuple(_COMMISSION_COLUMNS[name] for name in LINE_COLUMNS), COMMISSION_FILTERS,
           "day"),
)}


# The sources a custom report may read: each the built-in report of the same name.
CUSTOM_SOURCES = ("sales_orders", "order_lines", "quotes", "invoices", "invoice_lines",
                  "payments", "credit_notes", "customers", "products", "revenue_daily")


def report_named(report_id: str) -> Report:
    found = BUILT_IN.get(report_id)
    if found is None:
        raise InvalidArgument.of(
            "report_id", f"unknown report {report_id!r}; built-in: {', '.join(BUILT_IN)}")
    return found
