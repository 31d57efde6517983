"""Domain errors: what went wrong in the business's terms. api/errors.py maps them to gRPC."""

from __future__ import annotations

from dataclasses import dataclass, field


def shown(value: object, limit: int = 40) -> str:
    """Caller input as an error message may quote it: repr-quoted and cut to `limit`
    characters, so a 100 KB value cannot make a 100 KB status (which clients see as
    RESOURCE_EXHAUSTED)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit] + '…'!r} ({len(text)} characters)"


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


@dataclass(frozen=True)
class PreconditionViolation:
    type: str
    subject: str
    description: str


@dataclass
class DomainError(Exception):
    message: str
    reason: str = "ERROR"
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)


@dataclass
class InvalidArgument(DomainError):
    violations: list[FieldViolation] = field(default_factory=list)
    reason: str = "INVALID_ARGUMENT"

    @classmethod
    def of(cls, field_path: str, description: str) -> InvalidArgument:
        return cls(description, violations=[FieldViolation(field_path, description)])


@dataclass
class NotFound(DomainError):
    reason: str = "NOT_FOUND"


@dataclass
class AlreadyExists(DomainError):
    reason: str = "ALREADY_EXISTS"


@dataclass
class FailedPrecondition(DomainError):
    violations: list[PreconditionViolation] = field(default_factory=list)
    reason: str = "FAILED_PRECONDITION"


@dataclass
class Aborted(DomainError):
    """A concurrent change won: a stale etag or a lost optimistic race."""

    reason: str = "STALE_ETAG"


@dataclass
class Unauthenticated(DomainError):
    reason: str = "UNAUTHENTICATED"


@dataclass
class PermissionDenied(DomainError):
    reason: str = "PERMISSION_DENIED"


@dataclass
class DeadlineExceeded(DomainError):
    """The caller's deadline passed while the work was under way; it was abandoned."""

    reason: str = "DEADLINE_EXCEEDED"


@dataclass
class Unavailable(DomainError):
    reason: str = "UNAVAILABLE"


@dataclass
class ResourceExhausted(DomainError):
    """Too many calls of a kind at once; the caller may retry after `retry_after` seconds."""

    reason: str = "RESOURCE_EXHAUSTED"
    retry_after: float = 0.0


class Violations:
    """Collects field violations so a request reports every bad field at once."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field_path: str, description: str) -> None:
        self.items.append(FieldViolation(field_path, description))

    def raise_if_any(self, message: str = "the request has invalid fields") -> None:
        if self.items:
            summary = "; ".join(f"{v.field}: {v.description}" for v in self.items[:5])
            raise InvalidArgument(f"{message}: {summary}", violations=list(self.items))
