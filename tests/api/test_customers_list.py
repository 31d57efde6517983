"""ListCustomers and SearchCustomers: pages, filters, order and literal text matching."""

from __future__ import annotations

from grpc import StatusCode

from erp.sales.v1 import customer_service_pb2 as pb
from sales_grpc.domain.access import Role

from .helpers import create_customer, customers, fails, unique


def _own_rep(running):
    return running.token(unique("rep"), Role.SALES_REP, unique("team"))


async def test_seven_customers_page_as_three_three_one_without_gaps_or_repeats(running):
    metadata = _own_rep(running)
    created = [(await create_customer(running, metadata, last_name=f"P{i}")).id for i in range(7)]
    stub = customers(running)
    pages, token = [], ""
    while True:
        reply = await stub.ListCustomers(pb.ListCustomersRequest(page_size=3, page_token=token),
                                         metadata=metadata)
        pages.append([c.id for c in reply.customers])
        token = reply.next_page_token
        if not token:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for page in pages for i in page] == created


async def test_paging_in_a_descending_order_visits_every_customer_once(running):
    metadata = _own_rep(running)
    for name in ["Baker", "Adams", "Clark", "Adams", "Baker"]:
        await create_customer(running, metadata, last_name=name)
    stub = customers(running)
    seen, token = [], ""
    for _ in range(10):
        reply = await stub.ListCustomers(pb.ListCustomersRequest(
            page_size=2, page_token=token, order_by="last_name desc"), metadata=metadata)
        seen.extend(c.last_name for c in reply.customers)
        token = reply.next_page_token
        if not token:
            break
    assert seen == ["Clark", "Baker", "Baker", "Adams", "Adams"]


async def test_a_forged_page_token_is_invalid_argument(running, rep):
    failure = await fails(customers(running).ListCustomers(
        pb.ListCustomersRequest(page_token="forged.token"), metadata=rep),
        StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"page_token"}


async def test_a_page_token_reused_with_another_filter_is_invalid_argument(running):
    metadata = _own_rep(running)
    for _ in range(2):
        await create_customer(running, metadata)
    stub = customers(running)
    first = await stub.ListCustomers(pb.ListCustomersRequest(page_size=1), metadata=metadata)
    assert first.next_page_token
    await fails(stub.ListCustomers(pb.ListCustomersRequest(
        page_size=1, page_token=first.next_page_token, filter="status = ACTIVE"),
        metadata=metadata), StatusCode.INVALID_ARGUMENT)


async def test_a_page_token_of_another_caller_is_invalid_argument(running):
    owner = _own_rep(running)
    for _ in range(2):
        await create_customer(running, owner)
    stub = customers(running)
    first = await stub.ListCustomers(pb.ListCustomersRequest(page_size=1), metadata=owner)
    await fails(stub.ListCustomers(pb.ListCustomersRequest(
        page_size=1, page_token=first.next_page_token), metadata=_own_rep(running)),
        StatusCode.INVALID_ARGUMENT)


async def test_a_negative_page_size_is_invalid_argument(running, rep):
    failure = await fails(customers(running).ListCustomers(
        pb.ListCustomersRequest(page_size=-1), metadata=rep), StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"page_size"}


async def test_a_bad_filter_or_order_by_is_invalid_argument(running, rep):
    stub = customers(running)
    for request, path in ((pb.ListCustomersRequest(filter="colour = RED"), "filter"),
                          (pb.ListCustomersRequest(filter="status ~ ACTIVE"), "filter"),
                          (pb.ListCustomersRequest(filter="status = ACTIVE status = INACTIVE"),
                           "filter"),
                          (pb.ListCustomersRequest(order_by="email"), "order_by")):
        failure = await fails(stub.ListCustomers(request, metadata=rep),
                              StatusCode.INVALID_ARGUMENT)
        assert set(failure.fields) == {path}


async def test_filters_on_status_and_customer_type_select_matching_customers(running):
    metadata = _own_rep(running)
    prospect = await create_customer(running, metadata, status=pb.CUSTOMER_STATUS_PROSPECT)
    business = await create_customer(running, metadata, customer_type=pb.CUSTOMER_TYPE_BUSINESS,
                                     company_name="Acme")
    stub = customers(running)

    async def ids(text: str) -> set[str]:
        reply = await stub.ListCustomers(pb.ListCustomersRequest(filter=text), metadata=metadata)
        return {c.id for c in reply.customers}

    assert await ids("status = PROSPECT") == {prospect.id}
    assert await ids("status != PROSPECT") == {business.id}
    assert await ids("customer_type = BUSINESS AND status = ACTIVE") == {business.id}
    assert await ids("customer_type = BUSINESS AND status = PROSPECT") == set()


async def test_a_manager_filters_the_team_by_owner(running):
    team = unique("team")
    rep_a, rep_b = unique("rep"), unique("rep")
    mine = await create_customer(running, running.token(rep_a, Role.SALES_REP, team))
    await create_customer(running, running.token(rep_b, Role.SALES_REP, team))
    manager = running.token(unique("mgr"), Role.SALES_MANAGER, team)
    reply = await customers(running).ListCustomers(
        pb.ListCustomersRequest(filter=f'owner_id = "{rep_a}"'), metadata=manager)
    assert [c.id for c in reply.customers] == [mine.id]
    everyone = await customers(running).ListCustomers(pb.ListCustomersRequest(),
                                                      metadata=manager)
    assert len(everyone.customers) == 2


async def test_a_text_filter_matches_a_substring_of_name_company_email_or_code(running):
    metadata = _own_rep(running)
    word = unique("Zeta")
    by_name = await create_customer(running, metadata, first_name=word)
    by_company = await create_customer(running, metadata, customer_type=pb.CUSTOMER_TYPE_BUSINESS,
                                       company_name=f"The {word} Company")
    by_email = await create_customer(running, metadata, email=f"{word.lower()}@example.com")
    await create_customer(running, metadata)
    reply = await customers(running).ListCustomers(
        pb.ListCustomersRequest(filter=f'text:"{word.upper()}"'), metadata=metadata)
    assert {c.id for c in reply.customers} == {by_name.id, by_company.id, by_email.id}


async def test_search_is_case_insensitive_over_name_company_email_and_code(running):
    metadata = _own_rep(running)
    word = unique("Quill")
    by_last = await create_customer(running, metadata, last_name=word)
    by_company = await create_customer(running, metadata, customer_type=pb.CUSTOMER_TYPE_BUSINESS,
                                       company_name=word.upper())
    by_email = await create_customer(running, metadata, email=f"{word.lower()}@example.org")
    stub = customers(running)
    found = await stub.SearchCustomers(pb.SearchCustomersRequest(query=word.swapcase()),
                                       metadata=metadata)
    assert {c.id for c in found.customers} == {by_last.id, by_company.id, by_email.id}
    codes = [c.customer_code for c in found.customers]
    assert codes == sorted(codes)
    by_code = await stub.SearchCustomers(
        pb.SearchCustomersRequest(query=by_email.customer_code.lower()), metadata=metadata)
    assert [c.id for c in by_code.customers] == [by_email.id]


async def test_search_matches_regex_and_operator_text_only_literally(running):
    metadata = _own_rep(running)
    stub = customers(running)
    literal = {}
    for text in [".*", "(a+)+$", '{"$gt": ""}', "[a-z]"]:
        literal[text] = (await create_customer(running, metadata,
                                               last_name=f"Odd {text} Name")).id
    plain = await create_customer(running, metadata, last_name="Plain")
    for text, expected in literal.items():
        found = await stub.SearchCustomers(pb.SearchCustomersRequest(query=text),
                                           metadata=metadata)
        assert [c.id for c in found.customers] == [expected], text
    everything = await stub.SearchCustomers(pb.SearchCustomersRequest(query=".*"),
                                            metadata=metadata)
    assert plain.id not in {c.id for c in everything.customers}
    catastrophic = await stub.SearchCustomers(
        pb.SearchCustomersRequest(query="(a+)+$" + "a" * 40 + "!"), metadata=metadata)
    assert catastrophic.customers == []


async def test_a_text_filter_with_regex_characters_is_literal(running):
    metadata = _own_rep(running)
    await create_customer(running, metadata, last_name="Plain")
    reply = await customers(running).ListCustomers(
        pb.ListCustomersRequest(filter='text:".*"'), metadata=metadata)
    assert reply.customers == []


async def test_an_empty_or_oversized_search_query_is_invalid_argument(running, rep):
    for query in ("", "   ", "q" * 201):
        failure = await fails(customers(running).SearchCustomers(
            pb.SearchCustomersRequest(query=query), metadata=rep), StatusCode.INVALID_ARGUMENT)
        assert set(failure.fields) == {"query"}


async def test_search_pages_through_matches(running):
    metadata = _own_rep(running)
    word = unique("Pager")
    made = [(await create_customer(running, metadata, last_name=word)).id for _ in range(3)]
    stub = customers(running)
    first = await stub.SearchCustomers(pb.SearchCustomersRequest(query=word, page_size=2),
                                       metadata=metadata)
    second = await stub.SearchCustomers(pb.SearchCustomersRequest(
        query=word, page_size=2, page_token=first.next_page_token), metadata=metadata)
    assert [c.id for c in (*first.customers, *second.customers)] == made
    assert second.next_page_token == ""


async def test_search_folds_case_beyond_ascii(running):
    metadata = _own_rep(running)
    made = await create_customer(running, metadata, last_name=f"Ängström {unique('u')}")
    for query in ("ängström", "ÄNGSTRÖM"):
        found = await customers(running).SearchCustomers(pb.SearchCustomersRequest(query=query),
                                                         metadata=metadata)
        assert [c.id for c in found.customers] == [made.id]


async def test_an_admin_filters_by_team_and_payment_terms(running, admin):
    team = unique("team")
    owner = unique("rep")
    net60 = await create_customer(running, admin, owner_id=owner, team_id=team,
                                  payment_terms=pb.PAYMENT_TERMS_NET_60)
    await create_customer(running, admin, owner_id=owner, team_id=team)
    await create_customer(running, admin, owner_id=owner, team_id=unique("team"),
                          payment_terms=pb.PAYMENT_TERMS_NET_60)
    stub = customers(running)
    in_team = await stub.ListCustomers(pb.ListCustomersRequest(filter=f'team_id = "{team}"'),
                                       metadata=admin)
    assert len(in_team.customers) == 2
    both = await stub.ListCustomers(pb.ListCustomersRequest(
        filter=f'team_id = "{team}" AND payment_terms = NET_60'), metadata=admin)
    assert [c.id for c in both.customers] == [net60.id]
