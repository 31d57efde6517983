"""Keyset pagination with opaque, signed page tokens.

A token carries the sort-key values of the last row returned and a fingerprint of the query;
it is HMAC-signed, so a forged or edited token, or one reused with another filter or order,
is INVALID_ARGUMENT. Keyset (not skip/offset) keeps deep pages as cheap as the first.

A page also ends early, with a token, once its records reach a byte budget, so that a page of
500 orders of 200 lines (9 MB) cannot exceed what a default gRPC client accepts (4 MB).
"""

from __future__ import annotations

import hashlib
from typing import Any

import bson
from bson import json_util
from bson.raw_bson import RawBSONDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

from ..domain.errors import InvalidArgument
from ..domain.listing import SortKey
from ..signed_tokens import SignedTokens
from .query import all_of

# The BSON bytes of the records one page may carry. A reply is smaller than the BSON it comes
# from (field tags instead of names, money as short strings instead of 16-byte Decimal128: an
# order of 200 lines is 61 KB of BSON and 26 KB of protobuf), so 2 MiB of BSON stays well under
# the 4 MB a gRPC client accepts by default, with room for a record type that encodes larger.
PAGE_BYTES = 2 * 1024 * 1024


class PageTokens:
    """Signs and checks page tokens; also carries the byte budget of a page (`page_bytes`),
    since every list goes through `fetch_page` with it."""

    def __init__(self, secret: str, page_bytes: int = PAGE_BYTES) -> None:
        self._tokens = SignedTokens(secret, "page-token")
        self.page_bytes = page_bytes

    def encode(self, fingerprint: str, last_values: list[Any]) -> str:
        return self._tokens.encode({"f": fingerprint, "k": last_values})

    def decode(self, token: str, fingerprint: str) -> list[Any]:
        data = self._tokens.decode(token, "page_token", "is not a token this query returned")
        if data.get("f") != fingerprint:
            raise InvalidArgument.of("page_token", "belongs to a different filter or order_by")
        return list(data["k"])


def _get(doc: dict[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _after(keys: list[SortKey], values: list[Any]) -> list[dict[str, Any]]:
    """The rows after the keyset `values`, as disjoint plain conditions in sort order: first
    the rows tied with it on every key but the last, then those tied on one key fewer, ...

    A `$or` of these would be one query, but SecantusDB's planner uses no index under a
    top-level operator and decodes every document of the collection; each of these rides the
    (scope, sort key, _id) index, and the tied ones are usually none (measured in bench/README)."""
    branches = []
    for i in reversed(range(len(keys))):
        branch = {k.path: v for k, v in zip(keys[:i], values[:i], strict=True)}
        branch[keys[i].path] = {"$lt" if keys[i].descending else "$gt": values[i]}
        branches.append(branch)
    return branches


async def fetch_page(
    collection: AsyncCollection[dict[str, Any]], query: dict[str, Any], order: list[SortKey],
    size: int, token: str, tokens: PageTokens, session: AsyncClientSession | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """Up to `size` documents matching `query` in `order` after `token`'s row, fewer if their
    BSON would pass `tokens.page_bytes` (always at least one), and the next page's token."""
    keys = list(order)
    if not keys or keys[-1].path != "_id":  # _id makes every sort total, so keysets are exact
        keys.append(SortKey("_id", keys[-1].descending if keys else False))
    fingerprint = hashlib.sha256(
        json_util.dumps([collection.name, query, [(k.path, k.descending) for k in keys]],
                        sort_keys=True).encode()).hexdigest()[:24]
    queries = [query]
    if token:
        queries = [all_of([query, branch])
                   for branch in _after(keys, tokens.decode(token, fingerprint))]
    sort = [(k.path, -1 if k.descending else 1) for k in keys]
    # Raw documents: their size is known without encoding them again, and the ones past the
    # budget are never decoded.
    options = collection.codec_options
    raw = collection.with_options(codec_options=options.with_options(
        document_class=RawBSONDocument))
    docs: list[dict[str, Any]] = []
    used = 0
    for part in queries:
        async with raw.find(part, sort=sort, limit=size + 1 - len(docs),
                            session=session) as cursor:
            async for row in cursor:
                length = len(row.raw)
                if len(docs) == size or (docs and used + length > tokens.page_bytes):
                    return docs, tokens.encode(fingerprint, [_get(docs[-1], k.path) for k in keys])
                docs.append(bson.decode(row.raw, codec_options=options))
                used += length
    return docs, ""
