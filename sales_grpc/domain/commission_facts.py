"""The revenue a commission is paid on, per document and category, from invoices, credit notes
and payments.

A sale's base is its lines' net amount: gross less every discount (the line's and its share of
the document's), before tax; shipping earns no commission.

BILLINGS: an invoice adds its lines on its issue date (a void invoice adds nothing). A credit
note takes back (claws back) on its own issue date: by lines, what it credits of each line;
by amount, its net (before tax) spread over the invoice's lines and shipping in proportion
to their net, so that crediting an invoice in full takes back exactly its lines.

COLLECTIONS: what has been collected of an invoice is its payments (a credit balance spent
too: that money was collected once, and clawed back when it went to the balance) less the
parts of its credit notes that went to the customer's balance (credit that reduced what was
still due was never collected, so it takes nothing back). Each line earns the collected
share of its net: collected * line net / grand total, so tax and shipping earn nothing and
an invoice paid in full earns exactly its lines' net.

Shares are rounded to the minor unit on the running total of the invoice's credits (or
collections) rather than on each one, so three payments of a third add up to the line
exactly, as the last credit of a series takes exactly what is left.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from .access import Scope, in_scope
from .commissions import CommissionBasis
from .money import round_to_minor


class DocumentKind(str, Enum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"


@dataclass(frozen=True)
class BilledInvoice:
    id: str
    number: str
    currency: str
    owner_id: str
    team_id: str
    issue_date: date
    categories: tuple[str, ...]  # per line, its product's category ("" if none)
    nets: tuple[Decimal, ...]  # per line, gross less discount, before tax
    shipping: Decimal
    grand_total: Decimal
    void: bool = False


@dataclass(frozen=True)
class Receipt:
    """A payment or a credit note of an invoice. Ordered by day, then when it was made."""

    kind: DocumentKind
    id: str
    number: str
    invoice_id: str
    owner_id: str
    team_id: str
    day: date
    moment: datetime
    amount: Decimal  # a payment's amount; a credit note's grand total
    net: Decimal = Decimal(0)  # a credit note's, before tax
    to_balance: Decimal = Decimal(0)  # a credit note's part that went to the balance
    # A credit note by lines: (invoice line index, net credited); empty when by amount.
    lines: tuple[tuple[int, Decimal], ...] = ()


@dataclass
class Facts:
    """Every invoice a report's documents name, and each one's receipts up to its last day."""

    invoices: dict[str, BilledInvoice] = field(default_factory=dict)
    receipts: dict[str, list[Receipt]] = field(default_factory=dict)


@dataclass(frozen=True)
class BaseLine:
    """One document's base in one category, attributed to the document's rep."""

    kind: DocumentKind
    document_id: str
    number: str
    invoice_id: str
    invoice_number: str
    owner_id: str
    team_id: str
    currency: str
    day: date
    category: str
    base: Decimal


def base_lines(basis: CommissionBasis, facts: Facts, first: date, last: date, scope: Scope
               ) -> list[BaseLine]:
    """The nonzero bases of documents dated first..last (both included) in `scope`."""
    lines = _billings(facts) if basis is CommissionBasis.BILLINGS else _collections(facts)
    return [x for x in lines if first <= x.day <= last and x.base
            and in_scope(scope, x.owner_id, x.team_id)]


def _ordered(receipts: Iterable[Receipt]) -> list[Receipt]:
    return sorted(receipts, key=lambda r: (r.day, r.moment, r.id))


def _billings(facts: Facts) -> Iterator[BaseLine]:
    for invoice in facts.invoices.values():
        if invoice.void:
            continue
        yield from _lines(invoice, DocumentKind.INVOICE, invoice.id, invoice.number,
                          invoice.owner_id, invoice.team_id, invoice.issue_date,
                          enumerate(invoice.nets))
        by_amount = Decimal(0)  # net credited by amount so far
        whole = sum(invoice.nets, Decimal(0)) + invoice.shipping
        for r in _ordered(facts.receipts.get(invoice.id, [])):
            if r.kind is not DocumentKind.CREDIT_NOTE:
                continue
            if r.lines:
                parts: Iterable[tuple[int, Decimal]] = [(i, -net) for i, net in r.lines]
            else:
                parts = _shares(invoice, by_amount, by_amount + r.net, whole, -1)
                by_amount += r.net
            yield from _lines(invoice, r.kind, r.id, r.number, r.owner_id, r.team_id, r.day,
                              parts)


def _collections(facts: Facts) -> Iterator[BaseLine]:
    for invoice in facts.invoices.values():
        collected = Decimal(0)
        for r in _ordered(facts.receipts.get(invoice.id, [])):
            change = r.amount if r.kind is DocumentKind.PAYMENT else -r.to_balance
            if not change:
                continue
            parts = _shares(invoice, collected, collected + change, invoice.grand_total)
            collected += change
            yield from _lines(invoice, r.kind, r.id, r.number, r.owner_id, r.team_id, r.day,
                              parts)


def _shares(invoice: BilledInvoice, before: Decimal, after: Decimal, whole: Decimal,
            sign: int = 1) -> list[tuple[int, Decimal]]:
    """Per line, what going from `before` to `after` of `whole` adds to its share of the
    line's net, each share rounded on the running total."""
    if not whole:
        return []
    c = invoice.currency
    return [(i, sign * (round_to_minor(after * net / whole, c)
                        - round_to_minor(before * net / whole, c)))
            for i, net in enumerate(invoice.nets)]


def _lines(invoice: BilledInvoice, kind: DocumentKind, document_id: str, number: str,
           owner_id: str, team_id: str, day: date, parts: Iterable[tuple[int, Decimal]]
           ) -> Iterator[BaseLine]:
    """One base line per category of the parts."""
    per_category: dict[str, Decimal] = {}
    for i, amount in parts:
        category = invoice.categories[i]
        per_category[category] = per_category.get(category, Decimal(0)) + amount
    for category, base in sorted(per_category.items()):
        yield BaseLine(kind, document_id, number, invoice.id, invoice.number, owner_id,
                       team_id, invoice.currency, day, category, base)
