"""Signed resume tokens of report exports, bound to the caller and the exact export.

A token carries where the cut fell (the bytes before it) and the SHA-256 of those bytes: a
resumed export writes the file again from its first row, sending nothing before the cut, and
proves on the way that the rows before the cut still give the same bytes. HMAC-signed: a
forged or edited token, or one of another caller or export, is INVALID_ARGUMENT.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bson import json_util

from ..domain.errors import InvalidArgument
from ..signed_tokens import SignedTokens


@dataclass(frozen=True)
class Cut:
    """Where a stream stopped: after `offset` bytes, whose SHA-256 is `prefix_sha256`."""

    offset: int
    prefix_sha256: str
    as_of: str  # the aging's day, kept so that a resume the next day writes the same rows


def binding(*parts: object) -> str:
    """A fingerprint of everything a resumed export must repeat: caller, report, format..."""
    return hashlib.sha256(json_util.dumps([str(p) for p in parts]).encode()).hexdigest()[:32]


class ResumeTokens:
    def __init__(self, secret: str) -> None:
        self._tokens = SignedTokens(secret, "export-resume-token")

    def encode(self, bound_to: str, cut: Cut) -> str:
        return self._tokens.encode({"b": bound_to, "o": cut.offset, "h": cut.prefix_sha256,
                                    "a": cut.as_of})

    def decode(self, token: str, bound_to: str) -> Cut:
        data = self._tokens.decode(token, "resume_token", "is not a token this export returned")
        if data.get("b") != bound_to:
            raise InvalidArgument.of(
                "resume_token", "belongs to another caller, report, format, filter or range")
        return Cut(int(data["o"]), str(data["h"]), str(data["a"]))
