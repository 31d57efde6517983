"""Who may make which business move: one table for every service.

The contract's `required_permission` is the first gate (may this caller call the RPC at all);
this table is the second: what a permitted caller may change. A move is allowed to the roles
its grant names, or to anyone whose token carries the grant's dedicated permission (which an
Auth service can hand to, say, a catalog clerk who is not a manager). Quotes and invoices use
the same moves as orders, so a rule written here protects every sales document.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .access import PERMISSIONS, Principal, Role
from .errors import PermissionDenied

# Permissions beyond the four CRUD ones; the contract declares them on the RPCs they unlock
# (the `elevated_permission` method option) and the README lists them.
CATALOG_PERMISSION = "sales:catalog"
STOCK_PERMISSION = "sales:stock"
BILLING_PERMISSION = "sales:billing"
# Every permission a token may carry.
GRANTABLE = (*PERMISSIONS, CATALOG_PERMISSION, STOCK_PERMISSION, BILLING_PERMISSION)

_PRIVILEGED = frozenset({Role.SALES_MANAGER, Role.ADMIN})
_ADMIN = frozenset({Role.ADMIN})


class Move(str, Enum):
    SET_CREDIT_LIMIT = "set_credit_limit"
    SET_PAYMENT_TERMS = "set_payment_terms"
    SUSPEND_CUSTOMER = "suspend_customer"
    LIFT_SUSPENSION = "lift_suspension"
    ASSIGN_OWNER = "assign_owner"
    ASSIGN_TEAM = "assign_team"
    DISCOUNT_ABOVE_LIMIT = "discount_above_limit"
    OVERRIDE_CREDIT_LIMIT = "override_credit_limit"
    EDIT_CATALOG = "edit_catalog"
    ADJUST_STOCK = "adjust_stock"
    # Finance moves on invoices: money received, written off or given back.
    RECORD_PAYMENT = "record_payment"
    VOID_INVOICE = "void_invoice"
    WRITE_OFF_INVOICE = "write_off_invoice"
    ISSUE_CREDIT_NOTE = "issue_credit_note"
    MANAGE_EXCHANGE_RATES = "manage_exchange_rates"
    # Commission plans: who is paid what. Read and changed by managers (their team's plans)
    # and admins; anyone may run the commission report in their own scope.
    MANAGE_COMMISSION_PLANS = "manage_commission_plans"


@dataclass(frozen=True)
class Grant:
    roles: frozenset[Role]
    reason: str  # ErrorInfo.reason when refused
    refusal: str  # completes "<who> may ..." in the PERMISSION_DENIED message
    permission: str = ""  # a dedicated permission that allows the move to any role


RULES: dict[Move, Grant] = {
    Move.SET_CREDIT_LIMIT: Grant(_PRIVILEGED, "CREDIT_TERMS_NOT_ALLOWED",
                                 "set a customer's credit limit (a credit decision)"),
    Move.SET_PAYMENT_TERMS: Grant(_PRIVILEGED, "CREDIT_TERMS_NOT_ALLOWED",
                                  "set a customer's payment terms (a credit decision)"),
    Move.SUSPEND_CUSTOMER: Grant(_PRIVILEGED, "SUSPENSION_NOT_ALLOWED",
                                 "suspend a customer"),
    Move.LIFT_SUSPENSION: Grant(_PRIVILEGED, "SUSPENSION_NOT_ALLOWED",
                                "lift a customer's suspension"),
    Move.ASSIGN_OWNER: Grant(_PRIVILEGED, "ASSIGNMENT_NOT_ALLOWED",
                             "give a record to another owner"),
    Move.ASSIGN_TEAM: Grant(_ADMIN, "ASSIGNMENT_NOT_ALLOWED",
                            "put a record in another team than their own"),
    Move.DISCOUNT_ABOVE_LIMIT: Grant(_PRIVILEGED, "DISCOUNT_ABOVE_LIMIT",
                                     "give a discount above the limit"),
    Move.OVERRIDE_CREDIT_LIMIT: Grant(_PRIVILEGED, "OVERRIDE_NOT_ALLOWED",
                                      "override a credit limit"),
    Move.EDIT_CATALOG: Grant(_PRIVILEGED, "CATALOG_CHANGE_NOT_ALLOWED",
                             "create, change or delete products", CATALOG_PERMISSION),
    Move.ADJUST_STOCK: Grant(_PRIVILEGED, "STOCK_CHANGE_NOT_ALLOWED",
                             "adjust stock", STOCK_PERMISSION),
    Move.RECORD_PAYMENT: Grant(_PRIVILEGED, "BILLING_NOT_ALLOWED", "record payments",
                               BILLING_PERMISSION),
    Move.VOID_INVOICE: Grant(_PRIVILEGED, "BILLING_NOT_ALLOWED", "void invoices",
                             BILLING_PERMISSION),
    Move.WRITE_OFF_INVOICE: Grant(_PRIVILEGED, "BILLING_NOT_ALLOWED",
                                  "mark invoices uncollectible", BILLING_PERMISSION),
    Move.ISSUE_CREDIT_NOTE: Grant(_PRIVILEGED, "BILLING_NOT_ALLOWED", "issue credit notes",
                                  BILLING_PERMISSION),
    Move.MANAGE_EXCHANGE_RATES: Grant(_ADMIN, "EXCHANGE_RATES_NOT_ALLOWED",
                                      "set or delete exchange rates"),
    Move.MANAGE_COMMISSION_PLANS: Grant(_PRIVILEGED, "COMMISSION_PLAN_NOT_ALLOWED",
                                        "read, create, change or delete commission plans"),
}


def allows(principal: Principal, move: Move) -> bool:
    grant = RULES[move]
    return principal.role in grant.roles or bool(grant.permission) and principal.can(
        grant.permission)


def authorize(principal: Principal, move: Move, *, detail: str = "",
              metadata: dict[str, str] | None = None) -> None:
    """Raises PERMISSION_DENIED naming who may make the move; `detail` says what was tried."""
    if allows(principal, move):
        return
    grant = RULES[move]
    who = " or ".join(_ROLE_NAMES[role] for role in sorted(grant.roles, key=_ROLE_ORDER.index))
    if grant.permission:
        who += f" (or a token with {grant.permission})"
    message = f"only a {who} may {grant.refusal}"
    raise PermissionDenied(f"{detail}: {message}" if detail else message, reason=grant.reason,
                           metadata={"move": move.value, **(metadata or {})})


def check_assignment(principal: Principal, owner_id: str, team_id: str) -> None:
    """Reps keep records for themselves; managers assign within their team; admins anywhere."""
    if owner_id != principal.subject:
        authorize(principal, Move.ASSIGN_OWNER, metadata={"owner_id": owner_id[:100]})
    if team_id != principal.team_id:
        authorize(principal, Move.ASSIGN_TEAM, metadata={"team_id": team_id[:100]})


_ROLE_ORDER = [Role.SALES_REP, Role.SALES_MANAGER, Role.ADMIN]
_ROLE_NAMES = {Role.SALES_REP: "sales rep", Role.SALES_MANAGER: "sales manager",
               Role.ADMIN: "admin"}
