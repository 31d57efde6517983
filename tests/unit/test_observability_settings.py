"""LOG_FORMAT and METRICS_PORT as Settings.from_env reads them, and the JSON log format."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from sales_grpc.api import context
from sales_grpc.config import Settings
from sales_grpc.domain.access import Principal, Role
from sales_grpc.observability.logs import TEXT_FORMAT, JsonLines, TextLines


def test_log_format_is_text_unless_json_is_asked_for() -> None:
    assert Settings.from_env({}).log_format == "text"
    assert Settings.from_env({"LOG_FORMAT": " JSON "}).log_format == "json"
    with pytest.raises(ValueError, match="LOG_FORMAT='xml' must be one of text, json"):
        Settings.from_env({"LOG_FORMAT": "xml"})


def test_metrics_port_is_off_unless_set() -> None:
    assert Settings.from_env({}).metrics_port is None
    assert Settings.from_env({"METRICS_PORT": ""}).metrics_port is None
    assert Settings.from_env({"METRICS_PORT": "9464"}).metrics_port == 9464
    with pytest.raises(ValueError, match="METRICS_PORT='x' is not a valid int"):
        Settings.from_env({"METRICS_PORT": "x"})
    with pytest.raises(ValueError, match="from 0 to 65535"):
        Settings.from_env({"METRICS_PORT": "70000"})
    with pytest.raises(ValueError, match="must differ from SERVICE_PORT"):
        Settings.from_env({"METRICS_PORT": "50051"})


def _record(message: str, *args: object, **fields: object) -> logging.LogRecord:
    record = logging.LogRecord("sales_grpc.calls", logging.INFO, __file__, 1, message, args,
                               None)
    for name, value in fields.items():
        setattr(record, name, value)
    return record


def test_a_json_line_is_one_object_with_the_call_fields() -> None:
    rid = context.request_id.set("req-1")
    who = context.principal.set(Principal("rep-7", Role.SALES_REP, team_id="team-a"))
    try:
        line = JsonLines().format(_record("rpc %s", "x", rpc={
            "method": "/erp.sales.v1.CustomerService/GetCustomer", "status": "OK",
            "duration_ms": 1.5}))
    finally:
        context.principal.reset(who)
        context.request_id.reset(rid)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "rpc x" and entry["level"] == "INFO"
    assert entry["logger"] == "sales_grpc.calls" and entry["time"].endswith("Z")
    assert entry["request_id"] == "req-1" and entry["subject"] == "rep-7"
    assert entry["method"].endswith("/GetCustomer") and entry["status"] == "OK"
    assert entry["duration_ms"] == 1.5
    assert "trace_id" not in entry  # tracing is off


def test_a_traceback_stays_on_its_line_in_both_formats() -> None:
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonLines().format(record))
    assert "RuntimeError: boom" in entry["exception"] and "request_id" not in entry
    text = TextLines(TEXT_FORMAT).format(record)
    assert "\n" not in text and "[-] failed" in text and "RuntimeError" in text
