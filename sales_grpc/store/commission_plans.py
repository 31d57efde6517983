"""The commission_plans collection: one document per plan, rules embedded, amounts and rates
as Decimal128, days as ISO strings; every change is a version-checked write."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from ..domain.commissions import CommissionBasis, CommissionPlan, CommissionRule, Tier
from ..domain.listing import SortKey
from . import codec
from .mongo import Mongo
from .paging import PageTokens, fetch_page

D = codec.dec
U = codec.undec
_ORDER = [SortKey("create_time", False)]


def _rule_doc(r: CommissionRule) -> dict[str, Any]:
    return {"id": r.id, "owner_id": r.owner_id, "team_id": r.team_id, "category": r.category,
            "currency": r.currency, "start_date": codec.day_doc(r.start_date),
            "end_date": codec.day_doc(r.end_date), "rate": None if r.rate is None else D(r.rate),
            "tiers": [{"from": D(t.start), "to": None if t.end is None else D(t.end),
                       "rate": D(t.rate)} for t in r.tiers]}


def _rule_from(d: dict[str, Any]) -> CommissionRule:
    return CommissionRule(
        d["id"], d["owner_id"], d["team_id"], d["category"], d["currency"],
        codec.day_from(d.get("start_date")), codec.day_from(d.get("end_date")),
        None if d.get("rate") is None else U(d["rate"]),
        tuple(Tier(U(t["from"]), None if t.get("to") is None else U(t["to"]), U(t["rate"]))
              for t in d.get("tiers", [])))


def to_doc(p: CommissionPlan) -> dict[str, Any]:
    return {"_id": ObjectId(p.id), "name": p.name, "description": p.description,
            "owner_id": p.owner_id, "team_id": p.team_id, "basis": p.basis.value,
            "start_date": p.start_date.isoformat(), "end_date": codec.day_doc(p.end_date),
            "rules": [_rule_doc(r) for r in p.rules], **codec.audit_fields(p.audit),
            "version": p.version}


def from_doc(d: Any) -> CommissionPlan:
    start = codec.day_from(d["start_date"])
    assert start is not None, "a plan always has a start date"
    return CommissionPlan(
        id=str(d["_id"]), name=d["name"], description=d.get("description", ""),
        owner_id=d["owner_id"], team_id=d.get("team_id", ""),
        basis=CommissionBasis(d["basis"]), start_date=start,
        end_date=codec.day_from(d.get("end_date")),
        rules=tuple(_rule_from(r) for r in d["rules"]), audit=codec.audit_from(d),
        version=d["version"])


class CommissionPlanRepository:
    def __init__(self, mongo: Mongo, tokens: PageTokens) -> None:
        self._docs = mongo.db.commission_plans
        self._tokens = tokens

    async def get(self, plan_id: str) -> CommissionPlan | None:
        doc = await self._docs.find_one({"_id": ObjectId(plan_id)})
        return None if doc is None else from_doc(doc)

    async def add(self, plan: CommissionPlan) -> None:
        """One document: atomic by itself."""
        await self._docs.insert_one(to_doc(plan))

    async def save(self, plan: CommissionPlan, expected_version: int) -> bool:
        """Writes the plan if it is still at `expected_version`."""
        doc = to_doc(plan)
        del doc["_id"]
        result = await self._docs.replace_one(
            {"_id": ObjectId(plan.id), "version": expected_version}, doc)
        return result.matched_count == 1

    async def delete(self, plan_id: str, expected_version: int) -> bool:
        result = await self._docs.delete_one(
            {"_id": ObjectId(plan_id), "version": expected_version})
        return result.deleted_count == 1

    async def list_page(self, team_ids: list[str] | None, size: int, token: str
                        ) -> tuple[list[CommissionPlan], str]:
        """Plans oldest first; of the given teams ("" is company-wide), or all for None."""
        query: dict[str, Any] = {} if team_ids is None else {"team_id": {"$in": team_ids}}
        docs, next_token = await fetch_page(self._docs, query, _ORDER, size, token,
                                            self._tokens)
        return [from_doc(d) for d in docs], next_token
