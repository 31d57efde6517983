"""Pieces every record shares: audit stamps, etags, postal addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from .errors import Aborted, InvalidArgument, shown

_ETAG = re.compile(r"v[1-9][0-9]*")


@dataclass(frozen=True)
class Address:
    address_lines: tuple[str, ...] = ()
    locality: str = ""
    administrative_area: str = ""
    postal_code: str = ""
    region_code: str = ""


@dataclass(frozen=True)
class Audit:
    create_time: datetime
    create_actor: str
    update_time: datetime
    update_actor: str

    def touched(self, actor: str, now: datetime) -> Audit:
        return Audit(self.create_time, self.create_actor, now, actor)

    @classmethod
    def new(cls, actor: str, now: datetime) -> Audit:
        return cls(now, actor, now, actor)


@dataclass
class Versioned:
    """Optimistic concurrency: every write bumps `version`; the etag is derived from it."""

    version: int = field(default=1, kw_only=True)

    @property
    def etag(self) -> str:
        return f"v{self.version}"

    def check_etag(self, etag: str) -> None:
        """An empty etag skips the check; one not of the form this service returns is a
        client bug (INVALID_ARGUMENT), which retrying after a re-read would not fix."""
        if not etag:
            return
        if not _ETAG.fullmatch(etag):
            raise InvalidArgument.of(
                "etag", f"{shown(etag)} is not an etag this service returns (v1, v2, ...)")
        if etag != self.etag:
            raise Aborted(
                f"etag {shown(etag)} is stale; the record is now at {self.etag}: re-read and retry",
                metadata={"current_etag": self.etag},
            )
