"""Pieces every record shares: audit stamps, etags, postal addresses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .errors import Aborted


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
        if etag and etag != self.etag:
            raise Aborted(
                f"etag {etag} is stale; the record is now at {self.etag}: re-read and retry",
                metadata={"current_etag": self.etag},
            )
