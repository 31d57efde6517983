"""A customer's sales statistics over the wire: one total per currency ordered in."""

from __future__ import annotations

from erp.sales.v1 import customer_service_pb2 as cpb
from erp.sales.v1 import order_service_pb2 as opb

from .order_fixtures import Shop, line


async def _stats(shop: Shop, customer_id: str) -> cpb.CustomerSalesStats:
    return (await shop.customers.GetCustomer(cpb.GetCustomerRequest(id=customer_id),
                                             metadata=shop.md)).customer.sales_stats


def _totals(stats: cpb.CustomerSalesStats) -> list[tuple[str, str]]:
    return [(m.currency_code, m.amount) for m in stats.total_spent_by_currency]


async def _two_currency_customer(shop: Shop) -> tuple[str, opb.SalesOrder, opb.SalesOrder]:
    customer = await shop.customer()
    dollars = await shop.product(price="10.00", tax_rate="0")
    euros = await shop.product(price="8.00", tax_rate="0", currency="EUR")
    usd_order = await shop.order(customer.id, line(dollars.id, 2))
    eur_order = await shop.order(customer.id, line(euros.id, 3), currency_code="EUR")
    await shop.confirm(usd_order.id)
    await shop.confirm(eur_order.id)
    return customer.id, usd_order, eur_order


async def test_a_customer_with_a_usd_and_a_eur_order_shows_a_total_in_each_currency(
        running, admin):
    shop = Shop(running.channel, admin)
    customer_id, _, _ = await _two_currency_customer(shop)
    stats = await _stats(shop, customer_id)
    assert stats.order_count == 2
    assert _totals(stats) == [("EUR", "24.00"), ("USD", "20.00")]
    assert not stats.HasField("total_spent")  # the deprecated single total has no meaning now


async def test_a_cancellation_subtracts_from_the_total_of_its_own_currency(running, admin):
    shop = Shop(running.channel, admin)
    customer_id, usd_order, _ = await _two_currency_customer(shop)
    await shop.orders.CancelSalesOrder(opb.CancelSalesOrderRequest(
        id=usd_order.id, reason="ordered twice"), metadata=shop.md)
    stats = await _stats(shop, customer_id)
    assert stats.order_count == 1
    assert _totals(stats) == [("EUR", "24.00"), ("USD", "0.00")]


async def test_a_customer_ordering_in_one_currency_also_shows_the_deprecated_single_total(
        running, admin):
    shop = Shop(running.channel, admin)
    customer = await shop.customer()
    product = await shop.product(price="4.50", tax_rate="0")
    await shop.confirm((await shop.order(customer.id, line(product.id, 2))).id)
    stats = await _stats(shop, customer.id)
    assert _totals(stats) == [("USD", "9.00")]
    assert (stats.total_spent.currency_code, stats.total_spent.amount) == ("USD", "9.00")
