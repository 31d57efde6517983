"""Demo history: months of sales activity played through the use cases with a moved clock.

Every step (a quote sent, an order confirmed, a payment) is a use-case call run at its own
back-dated moment (services.clock.moved_to), in time order, so documents, their history,
events, numbers and stock read as if the business had run for those months. Deterministic
for a seed and the month it is run in; steps that would fall after now are left undone, so
the latest documents are still open.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from . import seed
from .bootstrap import App
from .domain.customers import CustomerType, PaymentTerms
from .domain.invoices import PaymentMethod
from .domain.money import Money
from .domain.products import MovementReason
from .domain.tallies import Selection
from .services.clock import moved_to, now
from .services.document_lines import LineInput
from .services.orders import OrderInput
from .services.quotes import QuoteInput
from .services.receivables import PaymentInput

SEEDER = seed.SEEDER
TEAMS = {"rep-1": "team-a", "rep-2": "team-a", "rep-3": "team-b", "rep-4": "team-b",
         "rep-5": "team-c", "rep-6": "team-c"}
FIRST = ("Ana", "Ben", "Chloé", "Dev", "Emeka", "Fatima", "Goran", "Hana", "Ivan", "Jun",
         "Kofi", "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq")
LAST = ("Alvarez", "Brooks", "Chen", "Dubois", "Eze", "Fischer", "Gupta", "Haddad", "Ito",
        "Jensen", "Kowalski", "Lopez", "Mensah", "Novak", "Okafor", "Petrov", "Rossi", "Silva")
TRADES = ("Builders", "Renovations", "Roofing", "Carpentry", "Facilities", "Interiors",
          "Property Care", "Decorators", "Hardware", "Contractors")
TERMS = {PaymentTerms.NET_15: 15, PaymentTerms.NET_30: 30, PaymentTerms.NET_45: 45,
         PaymentTerms.NET_60: 60}
DAY = timedelta(days=1)


@dataclass
class HistoryReport:
    months: int
    customers: int = 0
    quotes: int = 0
    orders: int = 0
    cancelled: int = 0
    invoices: int = 0
    payments: int = 0
    credit_notes: int = 0


@dataclass(order=True)
class _Step:
    moment: datetime
    seq: int
    run: Callable[[], Awaitable[object]] = field(compare=False)


def month_start(moment: datetime, back: int = 0) -> datetime:
    index = moment.year * 12 + moment.month - 1 - back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def demand(month: datetime, index: int, rng: random.Random) -> float:
    """How busy a month is: 3% growth a month, a yearly season peaking in June (a building
    trade), and noise."""
    season = 1 + 0.3 * math.cos(2 * math.pi * (month.month - 6) / 12)
    return (1 + 0.03 * index) * season * max(0.5, rng.gauss(1, 0.1))


class _History:
    def __init__(self, app: App, months: int, rng: random.Random, end: datetime) -> None:
        self.app, self.rng, self.end = app, rng, end
        self.start = month_start(end, months)
        self.report = HistoryReport(months)
        self._queue: list[_Step] = []
        self._seq = itertools.count()
        self.customers: list[tuple[str, str, PaymentTerms]] = []  # id, owner, terms
        self.products: list[tuple[str, Decimal]] = []  # id, unit price

    def at(self, moment: datetime, run: Callable[[], Awaitable[object]]) -> None:
        if moment <= self.end:  # later steps have not happened yet
            heapq.heappush(self._queue, _Step(moment, next(self._seq), run))

    async def play(self) -> None:
        while self._queue:
            step = heapq.heappop(self._queue)
            with moved_to(step.moment):
                await step.run()

    def moment_in(self, day: datetime, first_hour: int = 8, last_hour: int = 17) -> datetime:
        return day.replace(hour=self.rng.randint(first_hour, last_hour - 1),
                           minute=self.rng.randrange(60), second=self.rng.randrange(60))

    # -- the plan ------------------------------------------------------------------------

    def plan(self, months: int) -> None:
        self.at(self.start, self.open_books)
        for n in range(12):
            self.at(self.start + timedelta(hours=1, minutes=n), self.new_customer)
        for index in range(months + 1):
            month = month_start(self.end, months - index)
            days = (month_start(month, -1) - month).days
            level = demand(month, index, self.rng)
            for _ in range(self.rng.choice((0, 1, 1, 2))):  # a new customer now and then
                self.at(self.moment_in(month + self.rng.randrange(days) * DAY), self.new_customer)
            self.at(month + timedelta(minutes=30), self.restock(3 * level))
            self.at(month + timedelta(minutes=5), self.expire_quotes)
            for _ in range(round(9 * level)):
                self.at(self.moment_in(month + self.rng.randrange(days) * DAY), self.quote)
            for _ in range(round(11 * level)):
                self.at(self.moment_in(month + self.rng.randrange(days) * DAY),
                        self.direct_order)

    async def open_books(self) -> None:
        await seed.load(self.app)  # the demo catalog and customers, dated the start
        products, _ = await self.app.products.list_page(size=100)
        self.products = [(p.id, p.unit_price.amount) for p in products
                         if p.unit_price.currency == "USD"]
        await self.restock(6)()

    def restock(self, months: float) -> Callable[[], Awaitable[None]]:
        """Receives about `months` of each product's sales (some $600 a month of each)."""
        async def run() -> None:
            for product_id, price in self.products:
                units = max(5, round(Decimal(600 * months) / price))
                await self.app.products.adjust_stock(
                    SEEDER, product_id, units, MovementReason.RECEIPT, "monthly delivery")
        return run

    async def new_customer(self) -> None:
        rng, n = self.rng, len(self.customers) + 1
        first, last = rng.choice(FIRST), rng.choice(LAST)
        owner = rng.choice(sorted(TEAMS))
        terms = rng.choice(sorted(TERMS))
        customer = await self.app.customers.create(SEEDER, dict(
            first_name=first, last_name=last, company_name=f"{last} {rng.choice(TRADES)}",
            customer_type=CustomerType.BUSINESS, payment_terms=terms,
            email=f"buyer.{n}@{last.lower()}-demo.example",
            credit_limit=Money("USD", Decimal("1000000.00")), owner_id=owner,
            team_id=TEAMS[owner]), request_id=f"history-customer-{n}")
        self.customers.append((customer.id, owner, terms))
        self.report.customers += 1

    def lines(self, discount: bool = False) -> list[LineInput]:
        # Lines of some $80 to $250 each, whatever the unit price: order values vary by their
        # number of lines more than by the product, so the months show the season.
        chosen = self.rng.sample(self.products, self.rng.choice((1, 1, 2, 2, 3)))
        return [LineInput(product_id, max(1, round(self.rng.uniform(80, 250) / float(price))),
                          discount_rate=self.rng.choice(("", "", "0.05", "0.10"))
                          if discount else "") for product_id, price in chosen]

    async def expire_quotes(self) -> None:
        await self.app.quote_lifecycle.expire_due()

    # -- quotes --------------------------------------------------------------------------

    async def quote(self) -> None:
        customer_id, owner, terms = self.rng.choice(self.customers)
        valid_until = (now() + 30 * DAY).date().isoformat()
        quote = await self.app.quotes.create(SEEDER, QuoteInput(
            customer_id=customer_id, currency="USD", lines=self.lines(discount=True),
            owner_id=owner, team_id=TEAMS[owner], valid_until=valid_until))
        self.report.quotes += 1
        later, fate = now(), self.rng.random()
        if fate < 0.06:
            self.at(later + timedelta(hours=3), lambda: self.app.quote_lifecycle.cancel(
                SEEDER, quote.id, "", "no longer needed"))
            return
        self.at(later + timedelta(hours=2), lambda: self.send(quote.id))
        decided = later + self.rng.randint(1, 20) * DAY
        if fate < 0.62:
            self.at(decided, lambda: self.accept(quote.id, terms))
        elif fate < 0.85:
            self.at(decided, lambda: self.app.quote_lifecycle.reject(
                SEEDER, quote.id, "", self.rng.choice(("price", "went elsewhere", "timing"))))
        # the rest expire unanswered

    async def send(self, quote_id: str) -> None:
        await self.app.quote_lifecycle.send(SEEDER, quote_id, "")
        # Sent in the past: fail its mail at once, before a running server's worker tries it.
        await self.app.mail.jobs.abandon("quote", [quote_id], "demo history: not mailed")

    async def accept(self, quote_id: str, terms: PaymentTerms) -> None:
        _, order = await self.app.quote_lifecycle.accept(SEEDER, quote_id, "", confirm=True)
        self.confirmed(order.id, terms)

    # -- orders and invoices -------------------------------------------------------------

    async def direct_order(self) -> None:
        customer_id, owner, terms = self.rng.choice(self.customers)
        order = await self.app.orders.create(SEEDER, OrderInput(
            customer_id=customer_id, currency="USD", lines=self.lines(), owner_id=owner,
            team_id=TEAMS[owner]))
        await self.app.order_lifecycle.confirm(SEEDER, order.id, "")
        self.confirmed(order.id, terms)

    def confirmed(self, order_id: str, terms: PaymentTerms) -> None:
        self.report.orders += 1
        rng, t, life = self.rng, now(), self.app.order_lifecycle
        if rng.random() < 0.06:
            self.report.cancelled += 1
            self.at(t + rng.randint(1, 3) * DAY, lambda: life.cancel(
                SEEDER, order_id, "", rng.choice(("customer changed plans", "duplicate"))))
            return
        steps = [t + DAY, t + rng.randint(2, 4) * DAY, t + rng.randint(5, 8) * DAY]
        self.at(steps[0], lambda: life.start_processing(SEEDER, order_id, ""))
        self.at(steps[1], lambda: life.ship(SEEDER, order_id, ""))
        self.at(steps[2], lambda: life.deliver(SEEDER, order_id, ""))
        self.at(steps[2] + timedelta(hours=2), lambda: self.bill(order_id, terms))

    async def bill(self, order_id: str, terms: PaymentTerms) -> None:
        draft = await self.app.invoices.create_from_order(SEEDER, order_id, [])
        invoice = await self.app.invoice_lifecycle.finalize(SEEDER, draft.id, "")
        self.report.invoices += 1
        rng, issued, days = self.rng, now(), TERMS[terms]
        on_time = issued + rng.randint(3, days - 1) * DAY
        late = issued + (days + rng.randint(3, 40)) * DAY
        fate = rng.random()
        if fate < 0.05:
            self.at(issued + rng.randint(2, 10) * DAY, lambda: self.credit(invoice.id))
            self.at(on_time + 10 * DAY, lambda: self.pay(invoice.id, None))
        elif fate < 0.15:  # part now, the rest late
            self.at(on_time, lambda: self.pay(invoice.id, Decimal("0.5")))
            self.at(late + 10 * DAY, lambda: self.pay(invoice.id, None))
        else:
            self.at(late if fate < 0.33 else on_time, lambda: self.pay(invoice.id, None))

    async def credit(self, invoice_id: str) -> None:
        invoice = await self.app.invoices.get(SEEDER, invoice_id)
        if invoice.lines[0].quantity > 1:  # one unit back, else a tenth off
            wanted, amount = [Selection(1, 1)], None
        else:
            wanted = []
            amount = Money("USD", (invoice.amount_due / 10).quantize(Decimal("0.01")))
        await self.app.receivables.create_credit_note(
            SEEDER, invoice_id, wanted, amount, "damaged in transit")
        self.report.credit_notes += 1

    async def pay(self, invoice_id: str, share: Decimal | None) -> None:
        invoice = await self.app.invoices.get(SEEDER, invoice_id)
        due = invoice.amount_due
        amount = due if share is None else (due * share).quantize(Decimal("0.01"))
        if amount <= 0:
            return
        await self.app.receivables.record_payment(SEEDER, invoice_id, PaymentInput(
            Money("USD", amount), self.rng.choice((PaymentMethod.BANK_TRANSFER,
                                                   PaymentMethod.CARD, PaymentMethod.CHECK)),
            payment_date=now().date().isoformat()))
        self.report.payments += 1


async def has_orders(app: App) -> bool:
    orders, _ = await app.orders.list_page(SEEDER, size=1)
    return bool(orders)


async def load_history_if_new(app: App, months: int) -> HistoryReport | None:
    """The history of load_history, into a database without sales orders only: run twice,
    or on a database in use, it loads nothing and returns None."""
    if await has_orders(app):
        return None
    return await load_history(app, months)


async def load_history(app: App, months: int, seed_value: int = 7,
                       end: datetime | None = None) -> HistoryReport:
    """Plays `months` whole months before `end`'s (default: now) and that month up to `end`
    into a database without sales orders (see has_orders), starting with the demo catalog
    and customers of seed.load, then rebuilds the revenue rollups from them."""
    history = _History(app, months, random.Random(seed_value), end or now())
    history.plan(months)
    await history.play()
    # The rollups from the documents in one pass, the history's events marked counted: the
    # projectors, applying them a batch at a time, took ten minutes and more for two years on
    # SecantusDB, and the dashboard showed empty months until they were through.
    await app.analytics.maintenance.rebuild()
    return history.report
