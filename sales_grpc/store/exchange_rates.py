"""The exchange-rate table: one document per (reporting currency, currency, effective day);
`_id` sorts by all three, so it is also the list's keyset."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from pymongo import DESCENDING

from ..domain.exchange import ExchangeRate, RateBook
from . import codec
from .mongo import Mongo


def _id(reporting: str, currency: str, day: date) -> str:
    return f"{reporting}:{currency}:{day.isoformat()}"


def _rate(d: dict[str, Any]) -> ExchangeRate:
    return ExchangeRate(d["currency"], d["reporting"], date.fromisoformat(d["day"]),
                        codec.undec(d["rate"]), d.get("actor", ""))


class ExchangeRates:
    def __init__(self, mongo: Mongo) -> None:
        self._docs = mongo.db.exchange_rates

    async def put(self, r: ExchangeRate) -> None:
        await self._docs.replace_one(
            {"_id": _id(r.reporting, r.currency, r.day)},
            {"reporting": r.reporting, "currency": r.currency, "day": r.day.isoformat(),
             "rate": codec.dec(r.rate), "actor": r.actor}, upsert=True)

    async def delete(self, reporting: str, currency: str, day: date) -> bool:
        result = await self._docs.delete_one({"_id": _id(reporting, currency, day)})
        return result.deleted_count == 1

    async def page(self, reporting: str, currency: str, size: int, after: str
                   ) -> tuple[list[ExchangeRate], str]:
        """Up to `size` rates after the `_id` `after`, and the last one's `_id` if more
        follow."""
        clauses: dict[str, Any] = {"_id": {"$gt": after}}
        if reporting:
            clauses["reporting"] = reporting
        if currency:
            clauses["currency"] = currency
        docs = await self._docs.find(clauses, sort=[("_id", 1)], limit=size + 1).to_list()
        more = len(docs) > size
        return [_rate(d) for d in docs[:size]], docs[size - 1]["_id"] if more else ""

    async def book(self, reporting: str, currencies: list[str], first: date, last: date
                   ) -> RateBook:
        """The rates into `reporting` in effect on any day of first..last: the last one set
        on or before `first`, and those set after it up to `last`; per currency."""
        async def pair_rates(currency: str) -> list[dict[str, Any]]:
            pair = {"reporting": reporting, "currency": currency}
            before, after = await asyncio.gather(
                self._docs.find_one({**pair, "day": {"$lte": first.isoformat()}},
                                    sort=[("day", DESCENDING)]),
                self._docs.find({**pair, "day": {"$gt": first.isoformat(),
                                                 "$lte": last.isoformat()}}).to_list())
            return [before, *after] if before is not None else after

        # Every pair's two reads at once: a dashboard converts three times, each over all
        # its currencies, and read in turn they added up to a dozen round trips.
        book = RateBook(reporting)
        for docs in await asyncio.gather(*(pair_rates(c) for c in currencies if c != reporting)):
            for d in docs:
                book.add(_rate(d))
        return book
