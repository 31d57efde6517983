"""Keyset pages against a real SecantusDB: ties, filters on the sort key and the byte budget."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from typing import Any

import bson
import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from sales_grpc.domain.listing import SortKey
from sales_grpc.store.paging import PageTokens, fetch_page
from sales_grpc.store.query import all_of

TOKENS = PageTokens("paging-test-secret")
# Few distinct values, so that pages end inside runs of ties on every key.
ROWS = [{"_id": ObjectId(), "group": g, "rank": r, "label": f"L{(g * 7 + r) % 3}"}
        for g, r in itertools.product(range(3), range(4)) for _ in range(2)]


@pytest.fixture
async def rows(embedded) -> AsyncIterator[AsyncCollection[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(embedded.mongodb_url,
                                                                tz_aware=True)
    collection = client[f"paging_{uuid.uuid4().hex[:8]}"]["rows"]
    await collection.insert_many([dict(row) for row in ROWS])
    yield collection
    await client.drop_database(collection.database.name)
    await client.close()


async def _all_pages(collection, query, order, size, tokens=TOKENS) -> list[list[Any]]:
    pages, token = [], ""
    for _ in range(len(ROWS) + 2):
        docs, token = await fetch_page(collection, query, order, size, token, tokens)
        pages.append([d["_id"] for d in docs])
        if not token:
            return pages
    raise AssertionError("paging did not end")


def _expected(query_test, order: list[SortKey]) -> list[Any]:
    chosen = [r for r in ROWS if query_test(r)]
    keys = [*order, SortKey("_id", order[-1].descending)]
    for key in reversed(keys):  # stable sorts, least significant key first
        chosen.sort(key=lambda r, p=key.path: r[p], reverse=key.descending)
    return [r["_id"] for r in chosen]


@pytest.mark.parametrize("order", [
    [SortKey("rank", False)],
    [SortKey("rank", True)],
    [SortKey("group", False), SortKey("rank", True)],
    [SortKey("label", True), SortKey("group", False)],
], ids=["rank", "rank desc", "group, rank desc", "label desc, group"])
@pytest.mark.parametrize("size", [1, 2, 3, 5])
async def test_following_tokens_visits_every_row_once_in_order_through_ties(rows, order, size):
    pages = await _all_pages(rows, {}, order, size)
    assert all(len(page) == size for page in pages[:-1])
    assert [i for page in pages for i in page] == _expected(lambda r: True, order)


async def test_a_filter_on_the_sort_key_itself_pages_within_its_range(rows):
    query = all_of([{"rank": {"$gt": 0}}, {"rank": {"$lt": 3}}, {"group": {"$ne": 1}}])
    pages = await _all_pages(rows, query, [SortKey("rank", True)], 2)
    expected = _expected(lambda r: 0 < r["rank"] < 3 and r["group"] != 1,
                         [SortKey("rank", True)])
    assert [i for page in pages for i in page] == expected


async def test_a_page_ends_early_with_a_token_once_its_bytes_reach_the_budget(rows):
    one_row = len(bson.encode(ROWS[0]))
    small = PageTokens("paging-test-secret", page_bytes=3 * one_row + one_row // 2)
    pages = await _all_pages(rows, {}, [SortKey("rank", False)], 500, small)
    assert [len(page) for page in pages] == [3] * (len(ROWS) // 3) + (
        [len(ROWS) % 3] if len(ROWS) % 3 else [])
    assert [i for page in pages for i in page] == _expected(lambda r: True,
                                                           [SortKey("rank", False)])


async def test_a_record_larger_than_the_budget_still_comes_alone_on_its_page(rows):
    tiny = PageTokens("paging-test-secret", page_bytes=1)
    docs, token = await fetch_page(rows, {}, [SortKey("rank", False)], 500, "", tiny)
    assert len(docs) == 1 and token
