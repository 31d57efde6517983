"""ProductService catalog over the wire: create, read, list, categories, update, archive."""

from __future__ import annotations

import asyncio

from google.protobuf.field_mask_pb2 import FieldMask
from grpc import StatusCode

from erp.sales.v1 import product_service_pb2 as pb

from .helpers import create_product, fails, money, product, products, unique


async def test_a_created_product_has_zero_stock_and_is_active(running, clerk):
    created = await create_product(running, clerk, stock=pb.StockLevel(on_hand=50))
    assert len(created.id) == 24
    assert (created.stock.on_hand, created.stock.reserved, created.stock.available) == (0, 0, 0)
    assert created.HasField("active") and created.active
    assert created.unit_of_measure == "each"
    assert created.unit_price == money("9.99")


async def test_a_duplicate_sku_is_already_exists(running, clerk):
    sku = unique("DUP")
    await create_product(running, clerk, sku=sku)
    failure = await fails(products(running).CreateProduct(
        pb.CreateProductRequest(product=product(sku=sku)), metadata=clerk),
        StatusCode.ALREADY_EXISTS)
    assert failure.info.reason == "SKU_TAKEN"
    assert failure.info.metadata["sku"] == sku


async def test_a_negative_price_is_invalid_argument_on_the_amount(running, clerk):
    failure = await fails(products(running).CreateProduct(
        pb.CreateProductRequest(product=product(unit_price=money("-0.01"))), metadata=clerk),
        StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"product.unit_price.amount"}


async def test_a_missing_price_is_invalid_argument(running, clerk):
    message = product()
    message.ClearField("unit_price")
    failure = await fails(products(running).CreateProduct(
        pb.CreateProductRequest(product=message), metadata=clerk), StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"product.unit_price"}


async def test_a_bad_currency_is_invalid_argument_on_the_currency_code(running, clerk):
    for currency in ("", "XYZ", "usd"):
        failure = await fails(products(running).CreateProduct(
            pb.CreateProductRequest(product=product(unit_price=money("1", currency))),
            metadata=clerk), StatusCode.INVALID_ARGUMENT)
        assert set(failure.fields) == {"product.unit_price.currency_code"}


async def test_a_price_that_is_not_a_plain_decimal_is_invalid_argument(running, clerk):
    for amount in ("1e3", "NaN", "abc", "1.0000001"):
        failure = await fails(products(running).CreateProduct(
            pb.CreateProductRequest(product=product(unit_price=money(amount))), metadata=clerk),
            StatusCode.INVALID_ARGUMENT)
        assert set(failure.fields) == {"product.unit_price.amount"}, amount


async def test_several_bad_fields_are_reported_together(running, clerk):
    failure = await fails(products(running).CreateProduct(pb.CreateProductRequest(
        product=product(sku="bad sku", name="", tax_rate="2", reorder_level=-1)), metadata=clerk),
        StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"product.sku", "product.name", "product.tax_rate",
                                   "product.reorder_level"}


async def test_a_zero_tax_rate_stays_zero_and_an_unset_one_uses_the_default(running, clerk):
    zero = await create_product(running, clerk, tax_rate="0")
    assert zero.HasField("tax_rate")
    assert (zero.tax_rate, zero.effective_tax_rate) == ("0", "0")
    unset = await create_product(running, clerk)
    assert not unset.HasField("tax_rate")
    assert unset.effective_tax_rate == "0.15"
    fetched = await products(running).GetProduct(pb.GetProductRequest(id=zero.id), metadata=clerk)
    assert (fetched.product.tax_rate, fetched.product.effective_tax_rate) == ("0", "0")


async def test_a_product_is_found_by_its_exact_sku(running, clerk):
    created = await create_product(running, clerk, sku=unique("Exact"))
    stub = products(running)
    found = await stub.GetProductBySku(pb.GetProductBySkuRequest(sku=created.sku), metadata=clerk)
    assert found.product.id == created.id
    await fails(stub.GetProductBySku(pb.GetProductBySkuRequest(sku=created.sku.lower()),
                                     metadata=clerk), StatusCode.NOT_FOUND)
    await fails(stub.GetProductBySku(pb.GetProductBySkuRequest(sku=""), metadata=clerk),
                StatusCode.INVALID_ARGUMENT)
    await fails(stub.GetProductBySku(pb.GetProductBySkuRequest(sku='{"$ne": ""}'),
                                     metadata=clerk), StatusCode.NOT_FOUND)


async def test_an_unknown_product_id_is_not_found_and_a_malformed_one_invalid(running, clerk):
    stub = products(running)
    await fails(stub.GetProduct(pb.GetProductRequest(id="0123456789abcdef01234567"),
                                metadata=clerk), StatusCode.NOT_FOUND)
    failure = await fails(stub.GetProduct(pb.GetProductRequest(id="zz"), metadata=clerk),
                          StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"id"}


async def test_list_filters_by_category_activity_and_price_range(running, clerk):
    category = unique("Cat")
    cheap = await create_product(running, clerk, category=category, unit_price=money("5"))
    mid = await create_product(running, clerk, category=category, unit_price=money("9.5"))
    dear = await create_product(running, clerk, category=category, unit_price=money("100.25"))
    idle = await create_product(running, clerk, category=category, unit_price=money("50"),
                                active=False)
    stub = products(running)

    async def ids(text: str, order_by: str = "") -> list[str]:
        reply = await stub.ListProducts(pb.ListProductsRequest(filter=text, order_by=order_by),
                                        metadata=clerk)
        return [p.id for p in reply.products]

    base = f'category = "{category}"'
    assert set(await ids(base)) == {cheap.id, mid.id, dear.id, idle.id}
    assert set(await ids(base + " AND active = false")) == {idle.id}
    assert set(await ids(base + " AND unit_price >= 9.5 AND unit_price < 100.25")) == {
        mid.id, idle.id}
    assert set(await ids(base + " AND active = true AND unit_price > 10")) == {dear.id}
    assert await ids(base, "unit_price desc") == [dear.id, idle.id, mid.id, cheap.id]
    assert await ids(base, "unit_price") == [cheap.id, mid.id, idle.id, dear.id]


async def test_paging_by_price_descending_visits_every_product_once(running, clerk):
    category = unique("Cat")
    made = [await create_product(running, clerk, category=category, unit_price=money(price))
            for price in ("3", "20", "3", "7.25", "100")]
    stub = products(running)
    seen, token = [], ""
    for _ in range(10):
        reply = await stub.ListProducts(pb.ListProductsRequest(
            filter=f'category = "{category}"', order_by="unit_price desc", page_size=2,
            page_token=token), metadata=clerk)
        seen.extend(p.id for p in reply.products)
        token = reply.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(p.id for p in made)
    prices = [p.unit_price.amount for p in made]
    assert [prices[[p.id for p in made].index(i)] for i in seen] == [
        "100", "20", "7.25", "3", "3"]


async def test_a_text_filter_matches_name_sku_or_description_literally(running, clerk):
    word = unique("Gizmo")
    by_name = await create_product(running, clerk, name=f"Blue {word}")
    by_desc = await create_product(running, clerk, description=f"A {word.lower()} for all")
    await create_product(running, clerk, name="Blue .* thing")
    reply = await products(running).ListProducts(
        pb.ListProductsRequest(filter=f'text:"{word.upper()}"'), metadata=clerk)
    assert {p.id for p in reply.products} == {by_name.id, by_desc.id}


async def test_a_bad_product_filter_order_or_page_size_is_invalid_argument(running, clerk):
    stub = products(running)
    for request, path in ((pb.ListProductsRequest(filter="unit_price > cheap"), "filter"),
                          (pb.ListProductsRequest(filter="stock < 5"), "filter"),
                          (pb.ListProductsRequest(order_by="cost desc"), "order_by"),
                          (pb.ListProductsRequest(page_size=-5), "page_size"),
                          (pb.ListProductsRequest(page_token="x.y"), "page_token")):
        failure = await fails(stub.ListProducts(request, metadata=clerk),
                              StatusCode.INVALID_ARGUMENT)
        assert set(failure.fields) == {path}


async def test_categories_count_live_and_active_products_in_name_order(running, manager):
    first, second = unique("AAcat"), unique("ABcat")
    await create_product(running, manager, category=first)
    await create_product(running, manager, category=first, active=False)
    gone = await create_product(running, manager, category=first)
    await create_product(running, manager, category=second)
    await products(running).DeleteProduct(pb.DeleteProductRequest(id=gone.id), metadata=manager)
    listed, token = [], ""
    while True:  # two per page: every category once, in name order, across pages
        reply = await products(running).ListCategories(pb.ListCategoriesRequest(
            page_size=2, page_token=token), metadata=manager)
        assert len(reply.categories) <= 2
        listed += reply.categories
        token = reply.next_page_token
        if not token:
            break
    counts = {c.category: (c.product_count, c.active_product_count) for c in listed}
    assert counts[first] == (2, 1)
    assert counts[second] == (1, 1)
    names = [c.category for c in listed]
    assert names == sorted(set(names))
    await fails(products(running).ListCategories(pb.ListCategoriesRequest(
        page_token="forged"), metadata=manager), StatusCode.INVALID_ARGUMENT)


async def test_update_changes_masked_fields_and_keeps_the_rest(running, clerk):
    created = await create_product(running, clerk, description="keep")
    updated = (await products(running).UpdateProduct(pb.UpdateProductRequest(
        product=pb.Product(id=created.id, name="Claw hammer", unit_price=money("12.00"),
                           description="ignored"),
        update_mask=FieldMask(paths=["name", "unit_price.amount"])), metadata=clerk)).product
    assert (updated.name, updated.unit_price.amount) == ("Claw hammer", "12.00")
    assert updated.description == "keep"
    assert updated.etag != created.etag


async def test_stock_in_an_update_mask_is_invalid_argument(running, clerk):
    created = await create_product(running, clerk)
    failure = await fails(products(running).UpdateProduct(pb.UpdateProductRequest(
        product=pb.Product(id=created.id, stock=pb.StockLevel(on_hand=100)),
        update_mask=FieldMask(paths=["stock"])), metadata=clerk), StatusCode.INVALID_ARGUMENT)
    assert "AdjustStock" in failure.fields["update_mask"]
    fetched = await products(running).GetProduct(pb.GetProductRequest(id=created.id),
                                                 metadata=clerk)
    assert fetched.product.stock.on_hand == 0


async def test_updating_to_another_products_sku_is_already_exists(running, clerk):
    taken = await create_product(running, clerk)
    mine = await create_product(running, clerk)
    await fails(products(running).UpdateProduct(pb.UpdateProductRequest(
        product=pb.Product(id=mine.id, sku=taken.sku), update_mask=FieldMask(paths=["sku"])),
        metadata=clerk), StatusCode.ALREADY_EXISTS)


async def test_update_with_a_stale_etag_is_aborted(running, clerk):
    created = await create_product(running, clerk)
    stub = products(running)
    await stub.UpdateProduct(pb.UpdateProductRequest(
        product=pb.Product(id=created.id, name="One", etag=created.etag),
        update_mask=FieldMask(paths=["name"])), metadata=clerk)
    await fails(stub.UpdateProduct(pb.UpdateProductRequest(
        product=pb.Product(id=created.id, name="Two", etag=created.etag),
        update_mask=FieldMask(paths=["name"])), metadata=clerk), StatusCode.ABORTED)


async def test_clearing_the_tax_rate_falls_back_to_the_default(running, clerk):
    created = await create_product(running, clerk, tax_rate="0.07")
    updated = (await products(running).UpdateProduct(pb.UpdateProductRequest(
        product=pb.Product(id=created.id), update_mask=FieldMask(paths=["tax_rate"])),
        metadata=clerk)).product
    assert not updated.HasField("tax_rate")
    assert updated.effective_tax_rate == "0.15"


async def test_delete_archives_a_product_that_stays_readable(running, manager):
    created = await create_product(running, manager, category=unique("Gone"))
    stub = products(running)
    deleted = (await stub.DeleteProduct(pb.DeleteProductRequest(id=created.id),
                                        metadata=manager)).product
    assert deleted.HasField("delete_time")
    fetched = await stub.GetProduct(pb.GetProductRequest(id=created.id), metadata=manager)
    assert fetched.product.HasField("delete_time")
    text = f'category = "{created.category}"'
    live = await stub.ListProducts(pb.ListProductsRequest(filter=text), metadata=manager)
    assert live.products == []
    archived = await stub.ListProducts(pb.ListProductsRequest(filter=text, show_deleted=True),
                                       metadata=manager)
    assert [p.id for p in archived.products] == [created.id]
    await fails(stub.DeleteProduct(pb.DeleteProductRequest(id=created.id), metadata=manager),
                StatusCode.FAILED_PRECONDITION)
    await fails(stub.UpdateProduct(pb.UpdateProductRequest(
        product=pb.Product(id=created.id, name="x"), update_mask=FieldMask(paths=["name"])),
        metadata=manager), StatusCode.FAILED_PRECONDITION)


async def test_the_same_request_id_twice_creates_one_product(running, clerk):
    request = pb.CreateProductRequest(product=product(), request_id=unique("req"))
    first = (await products(running).CreateProduct(request, metadata=clerk)).product
    second = (await products(running).CreateProduct(request, metadata=clerk)).product
    assert second.id == first.id


async def test_a_bad_amount_is_reported_on_the_amount_whatever_its_text(running, clerk):
    failure = await fails(products(running).CreateProduct(
        pb.CreateProductRequest(product=product(unit_price=money("currency"))), metadata=clerk),
        StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"product.unit_price.amount"}


async def test_a_bad_currency_and_a_bad_amount_are_both_reported(running, clerk):
    failure = await fails(products(running).CreateProduct(
        pb.CreateProductRequest(product=product(unit_price=money("abc", "XYZ"))), metadata=clerk),
        StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"product.unit_price.amount",
                                   "product.unit_price.currency_code"}


async def test_concurrent_creates_of_one_sku_make_one_product(running, clerk):
    sku = unique("RACE")
    replies = await asyncio.gather(*(products(running).CreateProduct(
        pb.CreateProductRequest(product=product(sku=sku)), metadata=clerk) for _ in range(4)),
        return_exceptions=True)
    made = [r for r in replies if isinstance(r, pb.CreateProductResponse)]
    assert len(made) == 1
    assert {r.code() for r in replies if r not in made} == {StatusCode.ALREADY_EXISTS}


async def test_an_order_by_naming_a_field_twice_is_invalid_argument(running, clerk):
    failure = await fails(products(running).ListProducts(
        pb.ListProductsRequest(order_by="name, name desc"), metadata=clerk),
        StatusCode.INVALID_ARGUMENT)
    assert set(failure.fields) == {"order_by"}


async def test_product_fields_outside_the_update_mask_are_ignored_even_if_invalid(running, clerk):
    created = await create_product(running, clerk)
    updated = (await products(running).UpdateProduct(pb.UpdateProductRequest(
        product=pb.Product(id=created.id, name="Renamed", unit_price=money("x", "XXX"),
                           tax_rate="lots"),
        update_mask=FieldMask(paths=["name"])), metadata=clerk)).product
    assert updated.name == "Renamed"
    assert updated.unit_price == created.unit_price



async def test_naming_active_in_the_mask_without_a_value_is_invalid_not_a_silent_true(
        running, admin):
    created = await create_product(running, admin, active=False)
    failure = await fails(products(running).UpdateProduct(pb.UpdateProductRequest(
        product=pb.Product(id=created.id), update_mask=FieldMask(paths=["active"])),
        metadata=admin), StatusCode.INVALID_ARGUMENT)
    assert "product.active" in failure.fields
    again = (await products(running).GetProduct(pb.GetProductRequest(id=created.id),
                                                metadata=admin)).product
    assert again.active is False
