"""Tokens a caller hands back (page tokens, export resume tokens): a payload in MongoDB's
extended JSON (so ObjectIds, dates and decimals of sort keys survive) and an HMAC of it under a
key of its own per purpose, both base64url. A forged, edited or truncated token is
INVALID_ARGUMENT on the field that carried it."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from bson import json_util

from .domain.errors import InvalidArgument


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SignedTokens:
    def __init__(self, secret: str, purpose: str) -> None:
        self._key = hashlib.sha256(f"{purpose}:".encode() + secret.encode()).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, data: dict[str, Any]) -> str:
        payload = json_util.dumps(data).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(self, token: str, field: str, refused: str) -> dict[str, Any]:
        """The token's data, or INVALID_ARGUMENT on `field` saying `refused`."""
        bad = InvalidArgument.of(field, refused)
        try:
            body, signature = token.split(".")
            payload = _unb64(body)
            valid = hmac.compare_digest(self._sign(payload), _unb64(signature))
        except (ValueError, TypeError):
            raise bad from None
        if not valid:
            raise bad
        data: dict[str, Any] = json_util.loads(payload)
        return data
