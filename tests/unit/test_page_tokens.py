"""Page tokens are opaque and signed: forged, edited or reused tokens are INVALID_ARGUMENT."""

import base64
import json
from datetime import UTC, datetime

import pytest

from sales_grpc.domain.errors import InvalidArgument
from sales_grpc.store.paging import PageTokens

TOKENS = PageTokens("unit-test-secret")


def test_a_token_round_trips_the_last_sort_values():
    moment = datetime(2026, 1, 5, 12, 0, 0, 123000, tzinfo=UTC)
    token = TOKENS.encode("query-1", ["Lee", moment, 7])
    name, when, number = TOKENS.decode(token, "query-1")
    assert (name, number) == ("Lee", 7)
    # BSON reads a naive datetime as UTC, so the keyset query resumes at the same instant.
    assert when.replace(tzinfo=when.tzinfo or UTC) == moment


def test_a_token_is_url_safe_text():
    token = TOKENS.encode("query-1", ["ä/+?", 1])
    assert all(c.isalnum() or c in "-_." for c in token)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "!!!.???", "é.é", "."])
def test_a_forged_token_is_invalid_argument(token):
    with pytest.raises(InvalidArgument) as error:
        TOKENS.decode(token, "query-1")
    assert error.value.violations[0].field == "page_token"


def test_an_edited_token_is_invalid_argument():
    token = TOKENS.encode("query-1", ["Lee"])
    body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["k"] = ["Aaron"]
    edited = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidArgument, match="not a token"):
        TOKENS.decode(f"{edited}.{signature}", "query-1")


def test_a_token_signed_with_another_secret_is_invalid_argument():
    token = PageTokens("another-secret").encode("query-1", ["Lee"])
    with pytest.raises(InvalidArgument):
        TOKENS.decode(token, "query-1")


def test_a_token_reused_with_another_filter_is_invalid_argument():
    token = TOKENS.encode("query-1", ["Lee"])
    with pytest.raises(InvalidArgument, match="different filter"):
        TOKENS.decode(token, "query-2")
