"""Saved report templates to and from ReportTemplate messages."""

from __future__ import annotations

from erp.sales.v1 import report_service_pb2 as pb

from ...domain.errors import InvalidArgument
from ...domain.report_shapes import Aggregate, AggregateSpec, TemplateSpec
from ...domain.report_templates import SavedTemplate
from ...services.report_templates import TemplateInput, compile_spec
from .common import timestamp
from .reports import column_out

_FUNCTIONS = {pb.AGGREGATE_FUNCTION_COUNT: Aggregate.COUNT,
              pb.AGGREGATE_FUNCTION_SUM: Aggregate.SUM, pb.AGGREGATE_FUNCTION_AVG: Aggregate.AVG,
              pb.AGGREGATE_FUNCTION_MIN: Aggregate.MIN, pb.AGGREGATE_FUNCTION_MAX: Aggregate.MAX}
_FUNCTIONS_OUT = {v: k for k, v in _FUNCTIONS.items()}


def template_in(message: pb.ReportTemplate) -> TemplateInput:
    spec = TemplateSpec(
        message.source, tuple(message.column_names), message.filter, tuple(message.group_by),
        tuple(AggregateSpec(_FUNCTIONS.get(a.function), a.column) for a in message.aggregates),
        message.order_by)
    return TemplateInput(message.display_name, message.description, spec,
                         message.shared_with_team)


def saved_out(t: SavedTemplate) -> pb.ReportTemplate:
    s = t.spec
    message = pb.ReportTemplate()
    try:
        compiled = compile_spec(s, t.id, t.display_name, t.description)
        message.columns.extend(column_out(c) for c in compiled.report.columns)
        message.filter_fields.extend(sorted(compiled.base.filters))
        message.date_field = compiled.base.date_field
    except InvalidArgument:
        pass  # saved by an older version, no longer valid: listed without its columns
    message.MergeFrom(pb.ReportTemplate(
        id=t.id, display_name=t.display_name, source=s.source, description=t.description,
        column_names=list(s.column_names), filter=s.filter, group_by=list(s.group_by),
        aggregates=[pb.ReportAggregate(function=_FUNCTIONS_OUT[a.function], column=a.column)
                    for a in s.aggregates if a.function is not None],
        order_by=s.order_by, shared_with_team=t.shared_with_team, owner_id=t.owner_id,
        etag=t.etag, create_time=timestamp(t.create_time),
        update_time=timestamp(t.update_time)))
    return message
