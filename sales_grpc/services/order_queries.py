"""Reading sales orders: visibility, and the filter fields and sort keys of ListSalesOrders."""

from __future__ import annotations

from ..domain.access import Principal, scope_of
from ..domain.listing import (
    FilterField,
    decimal_converter,
    enum_converter,
    page_size,
    parse_filter,
    parse_order_by,
    text_converter,
    time_converter,
)
from ..domain.orders import OrderState, SalesOrder
from .ports import OrderRecords

_EQ = frozenset({"=", "!="})
_RANGE = frozenset({"=", "<", "<=", ">", ">="})
FILTERS = {
    "state": FilterField("state", _EQ, enum_converter({s.name: s.value for s in OrderState})),
    "customer_id": FilterField("customer_id", _EQ, text_converter),
    "owner_id": FilterField("owner_id", _EQ, text_converter),
    "create_time": FilterField("create_time", _RANGE - {"="}, time_converter),
    "grand_total": FilterField("totals.grand_total", _RANGE, decimal_converter),
    "text": FilterField("text", frozenset({":"}), text_converter),
}
ORDER_BY = {"create_time": "create_time", "number": "number",
            "grand_total": "totals.grand_total"}


async def list_orders(repo: OrderRecords, principal: Principal, *, filter: str = "",
                      order_by: str = "", size: int = 0, token: str = ""
                      ) -> tuple[list[SalesOrder], str]:
    conditions = parse_filter(filter, FILTERS)
    order = parse_order_by(order_by, ORDER_BY, "create_time desc")
    return await repo.list_page(scope_of(principal), conditions, order, page_size(size), token)
