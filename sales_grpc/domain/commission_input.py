"""A commission plan as a caller writes it (text for amounts, rates, dates and the basis),
checked whole: every bad field is reported at once with its path, such as
`commission_plan.rules[1].tiers[0].rate`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from . import validation as check
from .commissions import CommissionBasis, CommissionPlan, CommissionRule, Tier
from .errors import Violations, shown
from .money import MoneyError, check_currency, parse_decimal, round_to_minor

PREFIX = "commission_plan"
MAX_RULES = 200
MAX_TIERS = 20
RATE_PLACES = 6


@dataclass(frozen=True)
class TierInput:
    from_amount: str = ""  # included; the first tier's must be 0
    to_amount: str = ""  # excluded; empty on the last tier: no upper bound
    rate: str = ""


@dataclass(frozen=True)
class RuleInput:
    id: str = ""  # empty: "rule-N" by position
    owner_id: str = ""
    team_id: str = ""
    category: str = ""
    currency: str = ""
    start_date: str = ""
    end_date: str = ""
    rate: str = ""
    tiers: tuple[TierInput, ...] = ()


@dataclass(frozen=True)
class PlanInput:
    name: str = ""
    description: str = ""
    basis: str = ""
    start_date: str = ""
    end_date: str = ""
    rules: tuple[RuleInput, ...] = ()


@dataclass(frozen=True)
class PlanTerms:
    """A checked plan's terms."""

    name: str
    description: str
    basis: CommissionBasis
    start_date: date
    end_date: date | None
    rules: tuple[CommissionRule, ...]


def parse_plan(data: PlanInput, prefix: str = PREFIX) -> PlanTerms:
    """The plan's terms, or INVALID_ARGUMENT naming every bad field."""
    v = Violations()
    check.text(v, f"{prefix}.name", data.name, required=True, max_len=200)
    check.text(v, f"{prefix}.description", data.description, required=False, max_len=2000)
    basis = None
    if data.basis in CommissionBasis.__members__:
        basis = CommissionBasis(data.basis)
    else:
        v.add(f"{prefix}.basis", f"{shown(data.basis)} is not a basis: BILLINGS or COLLECTIONS")
    start = check.iso_date(v, f"{prefix}.start_date", data.start_date, required=True)
    end = check.iso_date(v, f"{prefix}.end_date", data.end_date)
    _ordered(v, f"{prefix}.end_date", start, end)
    if not data.rules:
        v.add(f"{prefix}.rules", "at least one rule is required")
    if len(data.rules) > MAX_RULES:
        v.add(f"{prefix}.rules", f"at most {MAX_RULES} rules are allowed")
    rules = tuple(_rule(v, f"{prefix}.rules[{i}]", i, r)
                  for i, r in enumerate(data.rules[:MAX_RULES]))
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.id in seen:
            v.add(f"{prefix}.rules[{i}].id", f"{shown(rule.id)} is used by an earlier rule")
        seen.add(rule.id)
    v.raise_if_any("the commission plan has invalid fields")
    assert basis is not None and start is not None
    return PlanTerms(data.name.strip(), data.description.strip(), basis, start, end, rules)


def plan_input(plan: CommissionPlan) -> PlanInput:
    """The plan as a caller would write it: what an update's mask merges into."""
    return PlanInput(plan.name, plan.description, plan.basis.value, _text(plan.start_date),
                     _text(plan.end_date), tuple(RuleInput(
                         r.id, r.owner_id, r.team_id, r.category, r.currency,
                         _text(r.start_date), _text(r.end_date), _text(r.rate),
                         tuple(TierInput(_text(t.start), _text(t.end), _text(t.rate))
                               for t in r.tiers)) for r in plan.rules))


def _text(value: date | Decimal | None) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else f"{value:f}"


def _rule(v: Violations, path: str, index: int, r: RuleInput) -> CommissionRule:
    check.text(v, f"{path}.id", r.id, required=False, max_len=100)
    if bool(r.owner_id) == bool(r.team_id):
        v.add(f"{path}.owner_id", "give either a rep (owner_id) or a team (team_id), not both"
              if r.owner_id else "give the rep (owner_id) or the team (team_id) it applies to")
    for name in ("owner_id", "team_id", "category"):
        check.text(v, f"{path}.{name}", getattr(r, name), required=False, max_len=100)
    currency = r.currency
    if currency:
        try:
            check_currency(currency)
        except MoneyError as exc:
            v.add(f"{path}.currency", str(exc))
            currency = ""
    start = check.iso_date(v, f"{path}.start_date", r.start_date)
    end = check.iso_date(v, f"{path}.end_date", r.end_date)
    _ordered(v, f"{path}.end_date", start, end)
    rate: Decimal | None = None
    if bool(r.rate) == bool(r.tiers):
        v.add(f"{path}.rate", "give a flat rate or tiers, not both" if r.rate
              else "give a flat rate or tiers")
    elif r.rate:
        rate = _rate(v, f"{path}.rate", r.rate)
    elif not r.currency:
        v.add(f"{path}.currency", "is required with tiers: their amounts are in it")
    tiers = _tiers(v, f"{path}.tiers", r.tiers, currency) if r.tiers else ()
    return CommissionRule(r.id.strip() or f"rule-{index + 1}", r.owner_id, r.team_id,
                          r.category, r.currency, start, end, rate, tiers)


def _tiers(v: Violations, path: str, inputs: tuple[TierInput, ...], currency: str
           ) -> tuple[Tier, ...]:
    """Contiguous, ascending and non-overlapping from 0; only the last may be open."""
    if len(inputs) > MAX_TIERS:
        v.add(path, f"at most {MAX_TIERS} tiers are allowed")
        return ()
    tiers: list[Tier] = []
    for i, t in enumerate(inputs):
        at = f"{path}[{i}]"
        start = _amount(v, f"{at}.from_amount", t.from_amount or "0", currency)
        end = _amount(v, f"{at}.to_amount", t.to_amount, currency) if t.to_amount else None
        rate = _rate(v, f"{at}.rate", t.rate)
        expected = tiers[-1].end if tiers else Decimal(0)
        if start is not None and expected is not None and start != expected:
            v.add(f"{at}.from_amount", f"must be {expected}, where the tier before ends"
                  if tiers else "the first tier must start at 0")
        if start is not None and end is not None and end <= start:
            v.add(f"{at}.to_amount", f"must be above from_amount {start}")
        if not t.to_amount and i < len(inputs) - 1:
            v.add(f"{at}.to_amount", "only the last tier may be open-ended")
        tiers.append(Tier(start if start is not None else Decimal(0), end, rate))
    return tuple(tiers)


def _rate(v: Violations, path: str, text: str) -> Decimal:
    """A fraction from 0 to 1 with at most 6 places: 0.05 is 5%."""
    if not text:
        v.add(path, "is required")
        return Decimal(0)
    try:
        rate = parse_decimal(text, max_places=RATE_PLACES)
    except MoneyError as exc:
        v.add(path, str(exc))
        return Decimal(0)
    if not Decimal(0) <= rate <= Decimal(1):
        v.add(path, "must be a fraction from 0 to 1, such as 0.05 for 5%")
    return rate


def _amount(v: Violations, path: str, text: str, currency: str) -> Decimal | None:
    try:
        amount = parse_decimal(text)
    except MoneyError as exc:
        v.add(path, str(exc))
        return None
    if amount < 0:
        v.add(path, "must not be negative")
    elif currency and amount != round_to_minor(amount, currency):
        v.add(path, f"{currency} amounts have at most the currency's minor unit of places")
    return amount


def _ordered(v: Violations, path: str, start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        v.add(path, f"must not be before the start date {start.isoformat()}")
