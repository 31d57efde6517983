"""GetCustomer is served from Redis, and every committed change shows on the next read."""

from __future__ import annotations

from google.protobuf import field_mask_pb2

from erp.sales.v1 import customer_service_pb2 as cpb

from .order_fixtures import Shop, line


async def _get(shop: Shop, customer_id: str) -> cpb.Customer:
    return (await shop.customers.GetCustomer(cpb.GetCustomerRequest(id=customer_id),
                                             metadata=shop.md)).customer


async def test_a_cached_customer_is_served_from_redis(running, admin):
    shop = Shop(running.channel, admin)
    customer = await shop.customer()
    await _get(shop, customer.id)
    key = f"{running.settings.database_name}:customer:{customer.id}"
    assert await running.app.redis.exists(key)
    assert (await _get(shop, customer.id)).customer_code == customer.customer_code


async def test_an_update_shows_on_the_next_read_of_a_cached_customer(running, admin):
    shop = Shop(running.channel, admin)
    customer = await shop.customer()
    await _get(shop, customer.id)  # now cached
    await shop.customers.UpdateCustomer(cpb.UpdateCustomerRequest(
        customer=cpb.Customer(id=customer.id, notes="prefers email"),
        update_mask=field_mask_pb2.FieldMask(paths=["notes"])), metadata=shop.md)
    assert (await _get(shop, customer.id)).notes == "prefers email"


async def test_order_statistics_show_on_the_next_read_after_the_commit(running, admin):
    shop = Shop(running.channel, admin)
    customer = await shop.customer()
    product = await shop.product(price="7.00", tax_rate="0")
    assert (await _get(shop, customer.id)).sales_stats.order_count == 0  # now cached
    order = await shop.order(customer.id, line(product.id, 3))
    await shop.confirm(order.id)
    stats = (await _get(shop, customer.id)).sales_stats
    assert (stats.order_count, stats.total_spent.amount) == (1, "21.00")
