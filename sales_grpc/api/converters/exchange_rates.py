"""Exchange-rate messages to domain values and back."""

from __future__ import annotations

from erp.sales.v1 import analytics_service_pb2 as pb

from ...domain.access import Principal
from ...domain.exchange import Converted, ExchangeRate
from ...domain.money import Money
from .common import money_out


def rate_in(m: pb.SetExchangeRateRequest, principal: Principal) -> ExchangeRate:
    r = m.exchange_rate
    return ExchangeRate.parse(r.currency_code, r.reporting_currency, r.effective_date, r.rate,
                              principal.subject)


def rate_out(r: ExchangeRate) -> pb.ExchangeRate:
    return pb.ExchangeRate(currency_code=r.currency, reporting_currency=r.reporting,
                           effective_date=r.day.isoformat(), rate=str(r.rate),
                           update_actor=r.actor)


def each_converted(converted: list[Converted] | None, n: int) -> list[Converted | None]:
    """Per figure, its conversion, or None for each of the `n` without a reporting currency."""
    return [*converted] if converted is not None else [None] * n


def converted_out(c: Converted | None) -> pb.ConvertedAmount | None:
    """Amounts converted into a reporting currency; None (unset) without one."""
    if c is None:
        return None
    return pb.ConvertedAmount(amount=money_out(Money(c.currency, c.amount)),
                              unconverted_currencies=list(c.unconverted))
