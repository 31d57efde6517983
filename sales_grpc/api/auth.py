"""JWT verification: HS256 with SECRET_KEY, or RS256/ES256 keys from an Auth service's JWKS."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import jwt

from ..config import Settings
from ..domain.access import PERMISSIONS, Principal, Role
from ..domain.errors import Unauthenticated

ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.SALES_REP: ("sales:read", "sales:create", "sales:update"),
    Role.SALES_MANAGER: PERMISSIONS,
    Role.ADMIN: PERMISSIONS,
}


class VerifiedTokens:
    """Tokens whose signature and claims were checked, so a client that reuses its token (as
    clients do) skips the signature check. Bounded, least recently used first out, and a
    token's `exp` is checked again on every hit."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def get(self, token: str) -> Principal | None:
        item = self._items.get(token)
        if item is None:
            return None
        if item[1] <= time.time():
            del self._items[token]
            return None
        self._items.move_to_end(token)
        return item[0]

    def put(self, token: str, principal: Principal, expires: float) -> None:
        self._items[token] = (principal, expires)
        if len(self._items) > self._size:
            self._items.popitem(last=False)


class Authenticator:
    """Turns a bearer token into a Principal; algorithms come from configuration only."""

    def __init__(self, settings: Settings, remember: int = 10_000) -> None:
        self._settings = settings
        self._algorithms = list(settings.allowed_algorithms)
        self._jwks = jwt.PyJWKClient(settings.jwks_url) if settings.jwks_url else None
        self._verified = VerifiedTokens(remember)

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthenticated("missing `authorization: Bearer <token>` metadata",
                                  reason="TOKEN_MISSING")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("authorization metadata must be `Bearer <token>`",
                                  reason="TOKEN_MALFORMED")
        token = token.strip()
        if (known := self._verified.get(token)) is not None:
            return known
        key, algorithms = await self._key_for(token)
        try:
            claims = jwt.decode(
                token, key, algorithms=algorithms,
                issuer=self._settings.jwt_issuer or None,
                audience=self._settings.jwt_audience or None,
                options={"require": ["sub", "exp"],
                         "verify_aud": bool(self._settings.jwt_audience)},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired", reason="TOKEN_EXPIRED") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"the token is invalid: {exc}", reason="TOKEN_INVALID") from None
        principal = principal_from_claims(claims)
        self._verified.put(token, principal, float(claims["exp"]))
        return principal

    async def _key_for(self, token: str) -> tuple[Any, list[str]]:
        """The verification key and the algorithms it may verify. A JWKS key verifies only
        its own algorithm, so a token cannot pick, say, ES256 against an RSA key's id."""
        if self._jwks is None:
            return self._settings.secret_key, self._algorithms
        jwks = self._jwks
        try:  # PyJWKClient fetches over blocking HTTP and caches; keep it off the event loop
            signing = await asyncio.to_thread(jwks.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientError as exc:
            raise Unauthenticated(f"no signing key for the token: {exc}",
                                  reason="TOKEN_INVALID") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"the token is invalid: {exc}", reason="TOKEN_INVALID") from None
        algorithm = signing.algorithm_name
        if algorithm not in self._algorithms:
            raise Unauthenticated(f"the token's key is for {algorithm}, which is not allowed",
                                  reason="TOKEN_INVALID")
        return signing.key, [algorithm]


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        role = Role(claims.get("role", ""))
    except ValueError:
        raise Unauthenticated("the token's role must be sales_rep, sales_manager or admin",
                              reason="TOKEN_INVALID") from None
    permissions = claims.get("permissions", [])
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise Unauthenticated("the token's permissions must be a list of strings",
                              reason="TOKEN_INVALID")
    subject = str(claims["sub"])
    if not subject.strip():  # it would own, and see, every record that has no owner
        raise Unauthenticated("the token's subject must not be empty", reason="TOKEN_INVALID")
    return Principal(subject=subject, role=role, permissions=frozenset(permissions),
                     team_id=str(claims.get("team_id") or ""))


def mint_token(settings: Settings, subject: str, role: Role, team_id: str = "",
               permissions: Iterable[str] | None = None, ttl_seconds: int = 8 * 3600) -> str:
    """A locally signed HS256 token, for development and tests (`sales-grpc token`)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject, "role": role.value, "team_id": team_id,
        "permissions": list(ROLE_PERMISSIONS[role] if permissions is None else permissions),
        "iat": now, "exp": now + ttl_seconds,
    }
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.secret_key, algorithm="HS256")
