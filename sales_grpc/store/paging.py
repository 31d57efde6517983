"""Keyset pagination with opaque, signed page tokens.

A token carries the sort-key values of the last row returned and a fingerprint of the query;
it is HMAC-signed, so a forged or edited token, or one reused with another filter or order,
is INVALID_ARGUMENT. Keyset (not skip/offset) keeps deep pages as cheap as the first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from bson import json_util
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

from ..domain.errors import InvalidArgument
from ..domain.listing import SortKey


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokens:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"page-token:" + secret.encode()).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, fingerprint: str, last_values: list[Any]) -> str:
        payload = json_util.dumps({"f": fingerprint, "k": last_values}).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, token: str, fingerprint: str) -> list[Any]:
        bad = InvalidArgument.of("page_token", "is not a token this query returned")
        try:
            body, signature = token.split(".")
            payload = _unb64(body)
            valid = hmac.compare_digest(self._sign(payload), _unb64(signature))
        except (ValueError, TypeError):
            raise bad from None
        if not valid:
            raise bad
        data = json_util.loads(payload)
        if data.get("f") != fingerprint:
            raise InvalidArgument.of("page_token", "belongs to a different filter or order_by")
        return list(data["k"])


def _get(doc: dict[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _after(keys: list[SortKey], values: list[Any]) -> dict[str, Any]:
    branches = []
    for i, key in enumerate(keys):
        branch = {k.path: v for k, v in zip(keys[:i], values[:i], strict=False)}
        branch[key.path] = {"$lt" if key.descending else "$gt": values[i]}
        branches.append(branch)
    return {"$or": branches}


async def fetch_page(
    collection: AsyncCollection[dict[str, Any]], query: dict[str, Any], order: list[SortKey],
    size: int, token: str, tokens: PageTokens, session: AsyncClientSession | None = None,
) -> tuple[list[dict[str, Any]], str]:
    keys = list(order)
    if not keys or keys[-1].path != "_id":  # _id makes every sort total, so keysets are exact
        keys.append(SortKey("_id", keys[-1].descending if keys else False))
    fingerprint = hashlib.sha256(
        json_util.dumps([collection.name, query, [(k.path, k.descending) for k in keys]],
                        sort_keys=True).encode()).hexdigest()[:24]
    if token:
        query = {"$and": [query, _after(keys, tokens.decode(token, fingerprint))]}
    sort = [(k.path, -1 if k.descending else 1) for k in keys]
    docs = await collection.find(query, sort=sort, limit=size + 1, session=session).to_list()
    if len(docs) <= size:
        return docs, ""
    docs = docs[:size]
    return docs, tokens.encode(fingerprint, [_get(docs[-1], k.path) for k in keys])
