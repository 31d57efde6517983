"""The List limits come from the environment, and nonsense stops the server at start."""

import pytest

from sales_grpc.config import Settings


def test_list_limits_are_read_from_the_environment():
    settings = Settings.from_env({"LIST_CONCURRENCY_LIMIT": "3", "LIST_WAIT_SECONDS": "0",
                                  "LIST_PAGE_BYTES": "65536"})
    assert (settings.list_concurrency_limit, settings.list_wait_seconds,
            settings.list_page_bytes) == (3, 0.0, 65536)


@pytest.mark.parametrize(("name", "value"), [
    ("LIST_CONCURRENCY_LIMIT", "0"), ("LIST_CONCURRENCY_LIMIT", "-2"), ("LIST_PAGE_BYTES", "0"),
    ("LIST_WAIT_SECONDS", "-1"), ("LIST_WAIT_SECONDS", "nan")])
def test_a_list_limit_that_cannot_work_stops_the_server_naming_the_variable(name, value):
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize(("name", "value"), [
    ("PDF_WORKERS", "0"), ("MAIL_MAX_ATTEMPTS", "0"), ("WORKERS", "0"),
    ("MAX_CALLS_IN_PROGRESS", "0"), ("MAX_CONCURRENT_STREAMS", "0"),
    ("MAX_RECEIVE_MESSAGE_BYTES", "1023"), ("MAX_SEND_MESSAGE_BYTES", "10"),
    ("ANALYTICS_POLL_SECONDS", "0"), ("SMTP_TIMEOUT_SECONDS", "-1"),
    ("MAIL_RETRY_SECONDS", "0"), ("MAIL_POLL_SECONDS", "nan"), ("MAIL_LEASE_SECONDS", "0"),
    ("DEFAULT_CALL_DEADLINE_SECONDS", "0"), ("MAX_CONNECTION_IDLE_SECONDS", "-5"),
    ("MAX_CONNECTION_AGE_SECONDS", "0"), ("MAX_CONNECTION_AGE_GRACE_SECONDS", "0")])
def test_every_numeric_setting_out_of_its_range_stops_the_server_naming_it(name, value):
    with pytest.raises(ValueError, match=f"^{name}="):
        Settings.from_env({name: value})
