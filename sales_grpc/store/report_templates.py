"""The report_templates collection: saved custom reports, one document each."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from ..domain.report_shapes import Aggregate, AggregateSpec, TemplateSpec
from ..domain.report_templates import SavedTemplate
from ..services.ports import Session
from .mongo import Mongo
from .sessions import driver_session

MAX_LISTED = 500  # saved templates a caller sees at most (their own and their team's)


def to_doc(t: SavedTemplate) -> dict[str, Any]:
    s = t.spec
    return {"_id": ObjectId(t.id), "owner_id": t.owner_id, "team_id": t.team_id,
            "display_name": t.display_name, "description": t.description,
            "shared_with_team": t.shared_with_team, "source": s.source,
            "column_names": list(s.column_names), "filter": s.filter,
            "group_by": list(s.group_by),
            "aggregates": [{"function": a.function.value if a.function else "",
                            "column": a.column} for a in s.aggregates],
            "order_by": s.order_by, "version": t.version, "create_time": t.create_time,
            "update_time": t.update_time}


def from_doc(d: dict[str, Any]) -> SavedTemplate:
    spec = TemplateSpec(d["source"], tuple(d.get("column_names", ())), d.get("filter", ""),
                        tuple(d.get("group_by", ())),
                        tuple(AggregateSpec(Aggregate(a["function"]), a.get("column", ""))
                              for a in d.get("aggregates", ())), d.get("order_by", ""))
    return SavedTemplate(str(d["_id"]), d["owner_id"], d.get("team_id", ""), d["display_name"],
                         d.get("description", ""), spec, d.get("shared_with_team", False),
                         d["create_time"], d["update_time"], version=d["version"])


class TemplateRepository:
    def __init__(self, mongo: Mongo) -> None:
        self._docs = mongo.db.report_templates

    async def get(self, template_id: str) -> SavedTemplate | None:
        doc = await self._docs.find_one({"_id": ObjectId(template_id)})
        return None if doc is None else from_doc(doc)

    async def add(self, template: SavedTemplate, session: Session | None) -> None:
        await self._docs.insert_one(to_doc(template), session=driver_session(session))

    async def save(self, template: SavedTemplate, expected_version: int) -> bool:
        """Replaces the template if it is still at `expected_version`."""
        done = await self._docs.replace_one(
            {"_id": ObjectId(template.id), "version": expected_version}, to_doc(template))
        return done.modified_count == 1

    async def delete(self, template_id: str, expected_version: int) -> bool:
        done = await self._docs.delete_one({"_id": ObjectId(template_id),
                                            "version": expected_version})
        return done.deleted_count == 1

    async def visible(self, subject: str, team_id: str) -> list[SavedTemplate]:
        """The subject's templates and those shared with their team, oldest first."""
        mine: list[dict[str, Any]] = [{"owner_id": subject}]
        if team_id:
            mine.append({"team_id": team_id, "shared_with_team": True})
        cursor = self._docs.find({"$or": mine}, sort=[("_id", 1)], limit=MAX_LISTED)
        return [from_doc(d) async for d in cursor]
