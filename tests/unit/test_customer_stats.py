"""A customer's sales statistics keep one total per currency."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sales_grpc.domain.customers import SalesStats, by_currency
from sales_grpc.domain.money import Money

MAY = datetime(2026, 5, 1, tzinfo=UTC)
JUNE = datetime(2026, 6, 1, tzinfo=UTC)


def money(currency: str, amount: str) -> Money:
    return Money(currency, Decimal(amount))


def test_orders_in_two_currencies_keep_one_total_each_sorted_by_currency():
    stats = SalesStats().recorded(1, money("USD", "10.00"), MAY)
    stats = stats.recorded(1, money("EUR", "7.50"), MAY).recorded(1, money("USD", "2.25"), MAY)
    assert stats.order_count == 3
    assert stats.total_spent == (money("EUR", "7.50"), money("USD", "12.25"))


def test_a_cancellation_subtracts_from_its_own_currency_only():
    stats = SalesStats(2, (money("EUR", "7.50"), money("USD", "10.00")), JUNE)
    stats = stats.recorded(-1, money("EUR", "-7.50"), None)
    assert stats.order_count == 1
    assert stats.total_spent == (money("EUR", "0.00"), money("USD", "10.00"))


def test_the_last_order_time_only_moves_forward():
    stats = SalesStats(1, (money("USD", "1"),), JUNE)
    assert stats.recorded(1, money("USD", "1"), MAY).last_order_time == JUNE
    assert stats.recorded(1, money("USD", "1"), None).last_order_time == JUNE
    assert SalesStats().recorded(1, money("USD", "1"), MAY).last_order_time == MAY


def test_amounts_in_one_currency_are_summed_exactly_and_never_mixed_with_others():
    assert by_currency([money("JPY", "1500"), money("USD", "0.10"), money("USD", "0.20"),
                        money("JPY", "1")]) == (money("JPY", "1501"), money("USD", "0.30"))
    assert by_currency([]) == ()
