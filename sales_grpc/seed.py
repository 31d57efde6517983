"""Demo data loaded through the use cases: customers, a small catalog, and its stock receipts.

Every write carries a fixed request_id, so loading twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .bootstrap import App
from .domain.access import PERMISSIONS, Principal, Role
from .domain.customers import CustomerType, PaymentTerms
from .domain.money import Money
from .domain.products import MovementReason
from .domain.records import Address

SEEDER = Principal(subject="seed", role=Role.ADMIN, permissions=frozenset(PERMISSIONS))


def _usd(amount: str) -> Money:
    return Money("USD", Decimal(amount))


def _address(line: str, city: str, area: str, postal: str, region: str = "US") -> Address:
    return Address((line,), city, area, postal, region)


CUSTOMERS: list[dict[str, Any]] = [
    dict(first_name="Grace", last_name="Hopper", company_name="Harbor Freight Lines",
         customer_type=CustomerType.BUSINESS, email="grace@harborfreight.example",
         phone="+1 206 555 0101", payment_terms=PaymentTerms.NET_30,
         credit_limit=_usd("25000.00"), tax_id="US-91-1234567",
         billing_address=_address("100 Pier Ave", "Seattle", "WA", "98101"),
         owner_id="rep-1", team_id="team-a"),
    dict(first_name="Alan", last_name="Kay", company_name="Northwind Builders",
         customer_type=CustomerType.BUSINESS, email="alan@northwind.example",
         phone="+1 503 555 0142", payment_terms=PaymentTerms.NET_45,
         credit_limit=_usd("50000.00"),
         billing_address=_address("2200 River Rd", "Portland", "OR", "97201"),
         shipping_address=_address("9 Depot St", "Portland", "OR", "97217"),
         owner_id="rep-1", team_id="team-a"),
    dict(first_name="Ada", last_name="Lovelace", customer_type=CustomerType.INDIVIDUAL,
         email="ada@lovelace.example", phone="+44 20 7946 0958",
         payment_terms=PaymentTerms.PREPAID, credit_limit=Money("GBP", Decimal("0")),
         billing_address=_address("12 St James's Sq", "London", "", "SW1Y 4JH", "GB"),
         owner_id="rep-2", team_id="team-a"),
    dict(first_name="Edsger", last_name="Dijkstra", company_name="City of Austin Facilities",
         customer_type=CustomerType.GOVERNMENT, email="procurement@austin.example",
         payment_terms=PaymentTerms.NET_60, credit_limit=_usd("100000.00"),
         billing_address=_address("301 W 2nd St", "Austin", "TX", "78701"),
         owner_id="rep-3", team_id="team-b"),
    dict(first_name="Barbara", last_name="Liskov", company_name="Liskov Hardware",
         customer_type=CustomerType.BUSINESS, email="orders@liskovhw.example",
         phone="+1 617 555 0199", payment_terms=PaymentTerms.NET_15,
         credit_limit=_usd("5000.00"),
         billing_address=_address("77 Mass Ave", "Cambridge", "MA", "02139"),
         owner_id="rep-3", team_id="team-b"),
]


def _product(sku: str, name: str, category: str, price: str, cost: str, stock: int,
             reorder: int, unit: str = "each", tax_rate: str | None = None) -> dict[str, Any]:
    return dict(sku=sku, name=name, category=category, unit_price=_usd(price),
                cost=_usd(cost), unit_of_measure=unit, reorder_level=reorder,
                tax_rate=None if tax_rate is None else Decimal(tax_rate), receipt=stock)


# Some products receive less than their reorder level, so ListLowStockProducts has answers.
PRODUCTS: list[dict[str, Any]] = [
    _product("TOOL-HAM-16", "Claw hammer 16 oz", "Tools", "24.90", "11.20", 120, 20),
    _product("TOOL-DRL-18V", "Cordless drill 18V", "Tools", "149.00", "82.50", 15, 20),
    _product("TOOL-SAW-HND", "Hand saw 22 in", "Tools", "32.50", "14.00", 60, 10),
    _product("TOOL-LVL-24", "Spirit level 24 in", "Tools", "19.99", "7.80", 4, 8),
    _product("FAST-SCR-4X40", "Wood screws 4x40 (box of 200)", "Fasteners", "8.49", "3.10",
             500, 100, unit="box"),
    _product("FAST-NAIL-65", "Framing nails 65 mm", "Fasteners", "6.25", "2.40", 80, 50,
             unit="kg"),
    _product("FAST-ANC-M8", "Wall anchors M8 (pack of 50)", "Fasteners", "12.00", "4.75", 40,
             60, unit="pack"),
    _product("PAINT-WHT-5L", "Interior paint white 5 L", "Paint", "45.00", "21.00", 70, 15,
             unit="can"),
    _product("PAINT-PRM-1L", "Primer 1 L", "Paint", "14.50", "6.10", 9, 12, unit="can"),
    _product("PAINT-BRS-SET", "Brush set (5 pieces)", "Paint", "17.95", "6.90", 35, 10),
    _product("SAFE-GLV-L", "Work gloves, size L", "Safety", "9.90", "3.30", 200, 40,
             unit="pair"),
    _product("SAFE-GOG-CLR", "Safety goggles, clear", "Safety", "11.50", "4.20", 0, 25,
             tax_rate="0"),
]


@dataclass(frozen=True)
class SeedReport:
    customers: int
    products: int
    receipts: int


async def is_empty(app: App) -> bool:
    customers, _ = await app.customers.list_page(SEEDER, size=1, show_deleted=True)
    products, _ = await app.products.list_page(size=1, show_deleted=True)
    return not customers and not products


async def load(app: App) -> SeedReport:
    """Creates the demo records that do not exist yet; safe to run any number of times."""
    for n, values in enumerate(CUSTOMERS, start=1):
        await app.customers.create(SEEDER, values, request_id=f"seed-customer-{n}")
    receipts = 0
    for entry in PRODUCTS:
        values = {k: v for k, v in entry.items() if k != "receipt"}
        product = await app.products.create(SEEDER, values,
                                            request_id=f"seed-product-{values['sku']}")
        if entry["receipt"]:
            await app.products.adjust_stock(
                SEEDER, product.id, entry["receipt"], MovementReason.RECEIPT,
                "opening stock (demo data)", request_id=f"seed-receipt-{values['sku']}")
            receipts += 1
    return SeedReport(len(CUSTOMERS), len(PRODUCTS), receipts)
