"""Who is calling and what they may see: roles, permissions and row-level scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Role(str, Enum):
    SALES_REP = "sales_rep"
    SALES_MANAGER = "sales_manager"
    ADMIN = "admin"


PERMISSIONS = ("sales:read", "sales:create", "sales:update", "sales:delete")


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    permissions: frozenset[str] = field(default_factory=frozenset)
    team_id: str = ""

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def is_privileged(self) -> bool:
        """Managers and admins: what else each role may do is domain/authorization.py's table."""
        return self.role in (Role.SALES_MANAGER, Role.ADMIN)


@dataclass(frozen=True)
class Scope:
    """The records a principal may see: all, a team's, or one owner's.

    A manager without a team sees only their own records: an empty team must not match
    every record that has no team.
    """

    owner_id: str | None = None
    team_id: str | None = None

    @property
    def is_unrestricted(self) -> bool:
        return self.owner_id is None and self.team_id is None


def scope_of(principal: Principal) -> Scope:
    if principal.role is Role.ADMIN:
        return Scope()
    if principal.role is Role.SALES_MANAGER and principal.team_id:
        return Scope(team_id=principal.team_id)
    if principal.role is Role.SALES_REP:
        # A rep's own records in the rep's own team: a record a manager handed to a rep of
        # another team stays in its team's view, not the other team's rep's.
        return Scope(owner_id=principal.subject, team_id=principal.team_id)
    return Scope(owner_id=principal.subject)


def in_scope(scope: Scope, owner_id: str, team_id: str) -> bool:
    if scope.owner_id is not None and owner_id != scope.owner_id:
        return False
    return scope.team_id is None or team_id == scope.team_id
