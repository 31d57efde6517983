"""What every sales document draft shares: the caller's input, the customer and catalog it is
checked against, and the pricing edits (lines, discount, shipping, notes) held to the same
limits. Orders and quotes build their drafts here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..config import Settings
from ..domain import validation as check
from ..domain.access import Principal
from ..domain.customers import Customer, check_orderable
from ..domain.documents.document import SalesDocument
from ..domain.documents.lines import check_discounts
from ..domain.errors import Violations
from ..domain.money import Money, MoneyError, check_currency
from ..domain.orders import assignment
from ..domain.pricing import check_within_cap
from ..domain.products import Product
from .customers import CustomerService
from .document_lines import LineInput, build_lines, load_catalog, parse_rate
from .ports import ProductRecords

PRICING_FIELDS = frozenset({"lines", "discount_rate", "shipping_charge", "notes"})


@dataclass(frozen=True)
class DraftInput:
    """What a caller may set on a sales document draft."""

    customer_id: str = ""
    currency: str = ""
    lines: list[LineInput] | None = None
    discount_rate: str = ""
    shipping: Money | None = None
    notes: str = ""
    owner_id: str = ""
    team_id: str = ""


@dataclass(frozen=True)
class DraftStart:
    """A new draft's checked customer, catalog, currency, owner and team."""

    customer: Customer
    catalog: dict[str, Product]
    currency: str
    owner_id: str
    team_id: str


class Drafts:
    def __init__(self, products: ProductRecords, customers: CustomerService,
                 settings: Settings) -> None:
        self._products = products
        self._customers = customers
        self._settings = settings

    async def start(self, principal: Principal, data: DraftInput, prefix: str, kind: str
                    ) -> DraftStart:
        """The customer (visible, orderable), the catalog the lines name, and who owns it."""
        v = Violations()
        if not data.customer_id:
            v.add(f"{prefix}.customer_id", "is required")
        currency = data.currency or self._settings.default_currency
        try:
            check_currency(currency)
        except MoneyError as exc:
            v.add(f"{prefix}.currency_code", str(exc))
        v.raise_if_any()
        # The customer and the catalog are independent reads: one wait instead of two.
        customer, catalog = await asyncio.gather(
            self._customers.get(principal, data.customer_id),
            load_catalog(self._products, data.lines or []))
        check_orderable(customer, customer.id, f"no new {kind}s for {customer.customer_code}")
        owner_id, team_id = assignment(principal, customer.team_id, data.owner_id,
                                       data.team_id, prefix)
        return DraftStart(customer, catalog, currency, owner_id, team_id)

    async def catalog(self, data: DraftInput, fields: set[str]) -> dict[str, Product]:
        return await load_catalog(self._products, data.lines or []) if "lines" in fields \
            else {}

    def apply(self, principal: Principal, doc: SalesDocument[Any], data: DraftInput,
              fields: set[str], catalog: dict[str, Product], prefix: str) -> None:
        """Applies the pricing fields named in `fields` and reprices; nothing changes unless
        every field is valid and every line within the caller's discount limit."""
        v = Violations()
        discount_rate, shipping, lines = doc.discount_rate, doc.shipping, doc.lines
        if "discount_rate" in fields:
            discount_rate = parse_rate(v, f"{prefix}.discount_rate", data.discount_rate)
        if "shipping_charge" in fields:
            shipping = self._shipping(v, data.shipping or Money.zero(doc.currency),
                                      doc.currency, f"{prefix}.shipping_charge", shipping)
        if "notes" in fields:
            check.text(v, f"{prefix}.notes", data.notes, required=False, max_len=2000)
        if "lines" in fields:
            lines = build_lines(v, data.lines or [], doc.currency, catalog,
                                self._settings.default_tax_rate, f"{prefix}.lines")
        v.raise_if_any()
        doc.discount_rate, doc.shipping, doc.lines = discount_rate, shipping, lines
        if "notes" in fields:
            doc.notes = data.notes
        if fields & {"lines", "discount_rate"}:  # only the caller's own pricing moves
            check_discounts(principal, doc.lines, doc.discount_rate,
                            self._settings.default_discount_limit, prefix)
        doc.reprice()
        check_within_cap([line.amounts for line in doc.lines], doc.totals, prefix)

    @staticmethod
    def _shipping(v: Violations, shipping: Money, currency: str, path: str,
                  current: Decimal) -> Decimal:
        if shipping.currency != currency:
            v.add(f"{path}.currency_code", f"must be the document's currency {currency}")
        elif shipping.is_negative():
            v.add(f"{path}.amount", "must not be negative")
        elif not shipping.fits_minor_unit():
            v.add(f"{path}.amount", shipping.minor_unit_error())
        else:
            return shipping.rounded().amount
        return current
