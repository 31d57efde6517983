"""A list's conditions become one plain query document where they can, `$and` only where not."""

from datetime import UTC, datetime

from sales_grpc.store.query import all_of

T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 2, 1, tzinfo=UTC)


def test_clauses_on_different_fields_make_one_plain_document():
    query = all_of([{"owner_id": "rep-1"}, {"state": {"$eq": "DRAFT"}}, {"delete_time": None}])
    assert query == {"owner_id": "rep-1", "state": {"$eq": "DRAFT"}, "delete_time": None}


def test_a_single_clause_is_not_wrapped_in_and():
    assert all_of([{"owner_id": "nobody"}]) == {"owner_id": "nobody"}
    assert all_of([]) == {}


def test_two_bounds_on_one_field_join_into_one_range():
    query = all_of([{"create_time": {"$gt": T1}}, {"create_time": {"$lt": T2}}])
    assert query == {"create_time": {"$gt": T1, "$lt": T2}}


def test_an_equality_and_a_bound_on_one_field_join():
    assert all_of([{"number": "SO-1"}, {"number": {"$gt": "SO-0"}}]) == {
        "number": {"$eq": "SO-1", "$gt": "SO-0"}}


def test_the_same_equality_twice_is_kept_once():
    assert all_of([{"owner_id": "rep-1"}, {"owner_id": "rep-1"}]) == {
        "owner_id": {"$eq": "rep-1"}}


def test_conflicting_conditions_on_one_field_fall_back_to_and():
    clauses = [{"state": {"$ne": "DRAFT"}}, {"state": {"$ne": "CANCELLED"}}]
    assert all_of(clauses) == {"$and": clauses}
    clauses = [{"owner_id": "rep-1"}, {"owner_id": "rep-2"}]
    assert all_of(clauses) == {"$and": clauses}


def test_two_text_matches_fall_back_to_and():
    clauses = [{"$or": [{"notes": "a"}]}, {"$or": [{"notes": "b"}]}]
    assert all_of(clauses) == {"$and": clauses}


def test_an_embedded_document_value_is_an_equality_not_operators():
    query = all_of([{"address": {"city": "Oslo"}}, {"address": {"$ne": None}}])
    assert query == {"address": {"$eq": {"city": "Oslo"}, "$ne": None}}
