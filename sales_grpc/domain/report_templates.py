"""Saved report templates: a custom report that belongs to its owner and may be shared with
the owner's team. Who sees, runs and changes one is decided here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .access import Principal
from .errors import PermissionDenied, Violations
from .records import Versioned
from .report_shapes import TemplateSpec

MAX_NAME = 200
MAX_DESCRIPTION = 2000


@dataclass
class SavedTemplate(Versioned):
    id: str
    owner_id: str
    team_id: str  # the owner's team when saved: the team it is shared with
    display_name: str
    description: str
    spec: TemplateSpec
    shared_with_team: bool
    create_time: datetime
    update_time: datetime

    def visible_to(self, principal: Principal) -> bool:
        """The owner's, and the owner's team's when shared; never another team's."""
        if principal.subject == self.owner_id:
            return True
        return self.shared_with_team and bool(self.team_id) and \
            principal.team_id == self.team_id

    def require_owner(self, principal: Principal) -> None:
        if principal.subject != self.owner_id:
            raise PermissionDenied(
                "only the template's owner may change or delete it; copy it to make your own",
                reason="NOT_TEMPLATE_OWNER")


def check_text(v: Violations, prefix: str, display_name: str, description: str) -> None:
    if not display_name.strip():
        v.add(f"{prefix}.display_name", "is required")
    elif len(display_name) > MAX_NAME:
        v.add(f"{prefix}.display_name", f"is longer than {MAX_NAME} characters")
    if len(description) > MAX_DESCRIPTION:
        v.add(f"{prefix}.description", f"is longer than {MAX_DESCRIPTION} characters")
