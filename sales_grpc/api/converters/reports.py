"""ReportService messages to and from the report use cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from erp.sales.v1 import report_service_pb2 as pb

from ...domain.reports import Column, ColumnType, DateRange, ExportFormat, Report
from ...services.report_exports import (
    ExportChunk,
    ExportHeader,
    ExportPart,
    ExportRequest,
    ExportTrailer,
)
from ...services.report_plans import ReportRequest
from ...services.report_runs import ReportResult
from .common import timestamp

_FORMATS = {pb.EXPORT_FORMAT_CSV: ExportFormat.CSV, pb.EXPORT_FORMAT_JSONL: ExportFormat.JSONL,
            pb.EXPORT_FORMAT_XLSX: ExportFormat.XLSX, pb.EXPORT_FORMAT_PDF: ExportFormat.PDF}
_FORMATS_OUT = {v: k for k, v in _FORMATS.items()}
_TYPES = {ColumnType.STRING: pb.COLUMN_TYPE_STRING, ColumnType.INTEGER: pb.COLUMN_TYPE_INTEGER,
          ColumnType.DECIMAL: pb.COLUMN_TYPE_DECIMAL, ColumnType.DATE: pb.COLUMN_TYPE_DATE,
          ColumnType.TIMESTAMP: pb.COLUMN_TYPE_TIMESTAMP,
          ColumnType.BOOLEAN: pb.COLUMN_TYPE_BOOLEAN}


def column_out(column: Column) -> pb.ReportColumn:
    return pb.ReportColumn(name=column.name, type=_TYPES[column.type],
                           description=column.description)


def template_out(report: Report) -> pb.ReportTemplate:
    return pb.ReportTemplate(
        id=report.id, display_name=report.display_name, source=report.source,
        columns=[column_out(c) for c in report.columns], filter_fields=sorted(report.filters),
        date_field=report.date_field, description=report.description, built_in=True)


def export_request_in(request: pb.ExportReportRequest) -> ExportRequest:
    return ExportRequest(
        report_id=request.report_id, format=_FORMATS.get(request.format),
        filter=request.filter, dates=DateRange(request.start_date, request.end_date),
        as_of=request.as_of_date, byte_order_mark=request.byte_order_mark,
        resume_token=request.resume_token)


def export_part_out(part: ExportPart) -> pb.ExportReportResponse:
    if isinstance(part, ExportChunk):
        return pb.ExportReportResponse(chunk=pb.ExportChunk(
            data=part.data, rows_done=part.rows_done, bytes_done=part.bytes_done,
            resume_token=part.resume_token))
    if isinstance(part, ExportHeader):
        return pb.ExportReportResponse(header=pb.ExportHeader(
            report_id=part.report.id, columns=[column_out(c) for c in part.report.columns],
            format=_FORMATS_OUT[part.format], content_type=part.content_type,
            file_name=part.file_name, estimated_row_count=part.estimated_rows,
            start_offset=part.start_offset))
    assert isinstance(part, ExportTrailer)
    return pb.ExportReportResponse(trailer=pb.ExportTrailer(
        row_count=part.row_count, size_bytes=part.size_bytes, sha256=part.sha256))


def run_request_in(request: pb.RunReportRequest) -> ReportRequest:
    return ReportRequest(request.report_id, request.filter,
                         DateRange(request.start_date, request.end_date), request.as_of_date)


def _value(value: object) -> pb.ReportValue:
    if value is None:
        return pb.ReportValue()
    if isinstance(value, bool):
        return pb.ReportValue(boolean_value=value)
    if isinstance(value, int):
        return pb.ReportValue(integer_value=value)
    if isinstance(value, Decimal):
        return pb.ReportValue(decimal_value=format(value, "f"))
    if isinstance(value, datetime):
        return pb.ReportValue(timestamp_value=timestamp(value))
    if isinstance(value, date):
        return pb.ReportValue(date_value=value.isoformat())
    return pb.ReportValue(string_value=str(value))


def _row(values: Sequence[object]) -> pb.ReportRow:
    return pb.ReportRow(values=[_value(v) for v in values])


def run_result_out(result: ReportResult) -> pb.RunReportResponse:
    return pb.RunReportResponse(
        report_id=result.report.id, columns=[column_out(c) for c in result.report.columns],
        rows=[_row(r) for r in result.rows], as_of_date=result.as_of.isoformat())
