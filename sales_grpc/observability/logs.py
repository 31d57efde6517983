"""The two log formats, one record per line either way (LOG_FORMAT, configured in cli.py).

`text`, for people: `time LEVEL logger [request_id] message`, with ` trace=<id>` after the
request id while tracing is on and a span is in progress.

`json`, for log shippers: one object per line with `time` (UTC, ISO 8601, milliseconds),
`level`, `logger`, `message`, and when known `request_id`, `trace_id`, `subject` (the
caller); the access-log line of each call (api/interceptors.py) adds `method`, `status` and
`duration_ms`; a record with an exception adds `exception`, its traceback as one string.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from ..api import context
from . import tracing

# The attribute of a LogRecord (logging's `extra`) that carries a call's access-log fields.
RPC_FIELDS = "rpc"


class TextLines(logging.Formatter):
    """One line per record, tracebacks included, so log shippers never split a record."""

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = context.request_id.get()
        trace_id = tracing.current_trace_id()
        record.trace = f" trace={trace_id}" if trace_id else ""
        return super().format(record).replace("\n", "\\n")


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s%(trace)s] %(message)s"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = context.request_id.get()
        if request_id != "-":
            entry["request_id"] = request_id
        trace_id = tracing.current_trace_id()
        if trace_id:
            entry["trace_id"] = trace_id
        principal = context.principal.get()
        if principal is not None:
            entry["subject"] = principal.subject
        rpc = getattr(record, RPC_FIELDS, None)
        if isinstance(rpc, dict):
            entry.update(rpc)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(log_format: str) -> logging.Formatter:
    return JsonLines() if log_format == "json" else TextLines(TEXT_FORMAT)
