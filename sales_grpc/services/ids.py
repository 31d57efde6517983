"""New record ids: 24 hexadecimal digits, time-ordered (MongoDB ObjectId's format, which
any store can keep as a string)."""

from __future__ import annotations

from bson import ObjectId


def new_id() -> str:
    return str(ObjectId())
