"""The verified-token memory: a reused token skips the signature check but never outlives
its `exp`, and the memory stays bounded."""

from __future__ import annotations

import asyncio

import pytest

from sales_grpc.api import auth
from sales_grpc.api.auth import Authenticator, VerifiedTokens, mint_token
from sales_grpc.config import Settings
from sales_grpc.domain.access import Principal, Role
from sales_grpc.domain.errors import Unauthenticated

SETTINGS = Settings(secret_key="unit-secret-0123456789-0123456789-0123")


async def test_a_remembered_token_is_refused_once_it_expires():
    authenticator = Authenticator(SETTINGS)
    token = mint_token(SETTINGS, "rep-9", Role.SALES_REP, "t", ttl_seconds=1)
    first = await authenticator.authenticate(f"Bearer {token}")
    assert first.subject == "rep-9"
    await asyncio.sleep(1.05 - (auth.time.time() % 1) + 1)  # past the whole second of `exp`
    with pytest.raises(Unauthenticated) as err:
        await authenticator.authenticate(f"Bearer {token}")
    assert err.value.reason == "TOKEN_EXPIRED"


async def test_a_forged_token_is_not_accepted_because_a_similar_one_was_remembered():
    authenticator = Authenticator(SETTINGS)
    token = mint_token(SETTINGS, "rep-9", Role.SALES_REP, "t")
    await authenticator.authenticate(f"Bearer {token}")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(Unauthenticated):
        await authenticator.authenticate(f"Bearer {forged}")


def test_the_memory_drops_the_least_recently_used_token_when_full():
    memory = VerifiedTokens(size=2)
    who = Principal("x", Role.ADMIN)
    far = auth.time.time() + 3600
    memory.put("a", who, far)
    memory.put("b", who, far)
    assert memory.get("a") is who  # a is now the most recently used
    memory.put("c", who, far)
    assert memory.get("b") is None and memory.get("a") is who and memory.get("c") is who
