"""Saved report templates: create, read, change, delete and list them, and resolve a report
id of a request to the report it names (a built-in one or a visible saved template)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from ..domain.access import Principal
from ..domain.errors import (
    Aborted,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
    Violations,
)
from ..domain.listing import Condition, parse_filter
from ..domain.report_shapes import IDENTITY, Shape, TemplateSpec, shape_of
from ..domain.report_templates import SavedTemplate, check_text
from ..domain.reports import Report
from ..domain.validation import OBJECT_ID, object_id, update_mask
from ..domain.validation import request_id as check_request_id
from .clock import now
from .ids import new_id
from .ports import IdempotencyKeys, Replayed, Session, idempotency_key
from .report_catalog import BUILT_IN, CUSTOM_SOURCES

PREFIX = "report_template"
MASKABLE = frozenset({"display_name", "description", "shared_with_team", "source",
                      "column_names", "filter", "group_by", "aggregates", "order_by"})
_SPEC_FIELDS = MASKABLE - {"display_name", "description", "shared_with_team"}


class TemplateRecords(Protocol):
    async def get(self, template_id: str) -> SavedTemplate | None: ...
    async def add(self, template: SavedTemplate, session: Session | None) -> None: ...
    async def save(self, template: SavedTemplate, expected_version: int) -> bool: ...
    async def delete(self, template_id: str, expected_version: int) -> bool: ...
    async def visible(self, subject: str, team_id: str) -> list[SavedTemplate]: ...


@dataclass(frozen=True)
class TemplateInput:
    display_name: str
    description: str
    spec: TemplateSpec
    shared_with_team: bool = False


@dataclass(frozen=True)
class Resolved:
    report: Report
    base: Report
    shape: Shape
    conditions: list[Condition]


def compile_spec(spec: TemplateSpec, id: str = "", display_name: str = "",
                 description: str = "", prefix: str = PREFIX) -> Resolved:
    """The custom report `spec` makes; every unknown source, column or bad filter is
    INVALID_ARGUMENT naming its field under `prefix`."""
    if spec.source not in CUSTOM_SOURCES:
        raise InvalidArgument.of(f"{prefix}.source", f"unknown source {spec.source!r}; one "
                                 f"of {', '.join(CUSTOM_SOURCES)}")
    base = BUILT_IN[spec.source]
    try:
        conditions = parse_filter(spec.filter, base.filters)
    except InvalidArgument as bad:
        raise InvalidArgument.of(f"{prefix}.filter", bad.violations[0].description) from None
    columns, shape = shape_of(spec, base, dict(base.sortable), prefix)
    report = Report(id, display_name, base.source, description, columns, base.filters,
                    base.date_field)
    return Resolved(report, base, shape, conditions)


def _missing(template_id: str) -> NotFound:
    return NotFound(f"report template {template_id} not found",
                    reason="REPORT_TEMPLATE_NOT_FOUND")


class TemplateService:
    def __init__(self, records: TemplateRecords, idempotency: IdempotencyKeys) -> None:
        self._records = records
        self._idempotency = idempotency

    async def create(self, principal: Principal, given: TemplateInput, request_id: str = ""
                     ) -> SavedTemplate:
        v = Violations()
        check_request_id(v, request_id)
        v.raise_if_any()
        key = idempotency_key("report_template", principal.subject, request_id)
        if key and (earlier := await self._idempotency.find(key)):
            return await self.get(principal, earlier)
        self._check(principal, given)
        moment = now()
        template = SavedTemplate(new_id(), principal.subject, principal.team_id,
                                 given.display_name.strip(), given.description, given.spec,
                                 given.shared_with_team, moment, moment)
        outcome = await self._idempotency.run_once_single_write(
            key, template.id, lambda session: self._records.add(template, session))
        if isinstance(outcome, Replayed):
            return await self.get(principal, outcome.result_id)
        return template

    def _check(self, principal: Principal, given: TemplateInput) -> None:
        v = Violations()
        check_text(v, PREFIX, given.display_name, given.description)
        if given.shared_with_team and not principal.team_id:
            v.add(f"{PREFIX}.shared_with_team", "you are in no team to share it with")
        v.raise_if_any("the report template is invalid")
        compile_spec(given.spec)

    async def describe(self, principal: Principal, template_id: str
                       ) -> Report | SavedTemplate:
        """A built-in report by name, or a saved template as `get` finds it."""
        return BUILT_IN.get(template_id) or await self.get(principal, template_id)

    async def get(self, principal: Principal, template_id: str) -> SavedTemplate:
        object_id("id", template_id)
        found = await self._records.get(template_id)
        if found is None or not found.visible_to(principal):
            raise _missing(template_id)  # another's unshared template: as if it did not exist
        return found

    async def update(self, principal: Principal, template_id: str, mask: Sequence[str],
                     given: TemplateInput, etag: str) -> SavedTemplate:
        mask = update_mask(list(mask), MASKABLE, kind="report template")
        current = await self._own(principal, template_id)
        current.check_etag(etag)
        spec = replace(current.spec, **{p: getattr(given.spec, p) for p in mask
                                        if p in _SPEC_FIELDS})
        merged = TemplateInput(
            given.display_name if "display_name" in mask else current.display_name,
            given.description if "description" in mask else current.description, spec,
            given.shared_with_team if "shared_with_team" in mask else current.shared_with_team)
        self._check(principal, merged)
        changed = replace(current, display_name=merged.display_name.strip(),
                          description=merged.description, spec=spec,
                          shared_with_team=merged.shared_with_team, update_time=now(),
                          version=current.version + 1)
        if not await self._records.save(changed, current.version):
            raise Aborted("the report template changed meanwhile; re-read and retry")
        return changed

    async def delete(self, principal: Principal, template_id: str, etag: str) -> None:
        current = await self._own(principal, template_id)
        current.check_etag(etag)
        if not await self._records.delete(template_id, current.version):
            raise Aborted("the report template changed meanwhile; re-read and retry")

    async def _own(self, principal: Principal, template_id: str) -> SavedTemplate:
        if template_id in BUILT_IN:
            raise FailedPrecondition(
                f"{template_id} is a built-in report and cannot be changed; save a template "
                "of your own instead", violations=[PreconditionViolation(
                    "BUILT_IN_TEMPLATE", "id", "built-in reports are read-only")],
                reason="BUILT_IN_TEMPLATE")
        current = await self.get(principal, template_id)
        current.require_owner(principal)
        return current

    async def saved(self, principal: Principal) -> list[SavedTemplate]:
        return await self._records.visible(principal.subject, principal.team_id)

    async def resolve(self, principal: Principal, report_id: str) -> Resolved:
        """A built-in report, or a saved template the caller may see; INVALID_ARGUMENT for
        any other id, whether it exists or not."""
        if report_id in BUILT_IN:
            report = BUILT_IN[report_id]
            return Resolved(report, report, IDENTITY, [])
        found = await self._records.get(report_id) if OBJECT_ID.fullmatch(report_id) else None
        if found is None or not found.visible_to(principal):
            raise InvalidArgument.of("report_id", f"unknown report {report_id!r}; built-in: "
                                     f"{', '.join(BUILT_IN)}, or a saved template's id")
        # A shared template runs on the caller's rows (their scope), never its owner's.
        return compile_spec(found.spec, found.id, found.display_name, found.description,
                            prefix="report_id")
