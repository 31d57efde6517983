"""Credit notes: numbered reductions of what an invoice bills, by line quantities or by a
tax-inclusive amount. Issued in one step (there are no draft credit notes), with the next
gapless number of their series."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .documents.lines import DocumentLine, totals_of
from .invoices import Invoice
from .money import round_to_minor
from .pricing import Totals
from .records import Audit
from .tallies import LineTally, Selection, select, take


@dataclass
class CreditNote:
    id: str
    number: str
    invoice_id: str
    invoice_number: str
    customer_id: str
    owner_id: str
    team_id: str
    currency: str
    lines: list[DocumentLine]
    source_lines: list[int]
    totals: Totals
    reason: str
    issue_date: date
    audit: Audit
    amount_applied: Decimal = Decimal(0)
    amount_to_balance: Decimal = Decimal(0)
    # Not a versioned record: a credit note never changes once issued.
    discount_rate: Decimal = field(default=Decimal(0))


def credited_lines(invoice: Invoice, wanted: list[Selection], path: str
                   ) -> tuple[list[DocumentLine], list[int], list[LineTally]]:
    """The invoice lines and quantities to credit, priced as the invoice priced them (the
    last units of a line get what is left of its amounts), with the invoice's tallies after.
    FAILED_PRECONDITION for more than is left to credit of a line."""
    parts = select(invoice.lines, invoice.credited, wanted, path, "credited",
                   f"invoices/{invoice.id}")
    return take(invoice.lines, invoice.credited, parts, invoice.discount_rate,
                invoice.currency)


def amount_totals(invoice: Invoice, amount: Decimal) -> Totals:
    """A tax-inclusive `amount` split into net and tax in the invoice's proportion of tax to
    grand total, rounded on all that was credited by amount so far rather than on each
    credit, so small credits do not each round their tax away and leave it all to the last
    one. The tax stays within the tax left and the net within the net left: the credit that
    takes all that is left takes exactly the tax that is left, so crediting an invoice in
    full, in any steps, credits exactly its tax, and no credit note's tax exceeds its
    amount."""
    grand, tax_total = invoice.totals.grand_total, invoice.totals.tax_total
    tax_left = tax_total - invoice.credited_tax
    net_left = invoice.left_to_credit - tax_left
    by_lines = sum((t.gross - t.discount + t.tax for t in invoice.credited), Decimal(0))
    tax_by_lines = sum((t.tax for t in invoice.credited), Decimal(0))
    share = Decimal(0)
    if grand:
        share = (round_to_minor((invoice.amount_credited - by_lines + amount) * tax_total
                                / grand, invoice.currency)
                 - (invoice.credited_tax - tax_by_lines))
    tax = min(max(share, amount - net_left, Decimal(0)), tax_left, amount)
    return Totals(subtotal=amount - tax, discount_total=Decimal(0), tax_total=tax,
                  shipping=Decimal(0))


def lines_totals(lines: list[DocumentLine]) -> Totals:
    return totals_of(lines, Decimal(0))
