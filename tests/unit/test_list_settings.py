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
