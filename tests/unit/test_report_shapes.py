"""Group-by aggregates of custom reports: exact, averages rounded half-up, groups capped."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sales_grpc.domain import report_grouping
from sales_grpc.domain.errors import FailedPrecondition
from sales_grpc.domain.report_grouping import Grouper
from sales_grpc.domain.report_shapes import Aggregate, Shape

SUM_AVG = Shape(grouped=True, group_by=(0,), aggregates=(
    (Aggregate.SUM, 1), (Aggregate.AVG, 1), (Aggregate.COUNT, -1), (Aggregate.COUNT, 1)))


def test_sums_are_exact_and_averages_round_half_up_to_six_places() -> None:
    grouper = Grouper(SUM_AVG)
    for value in ("0.1", "0.2", "0.0000015", None):
        grouper.add(["a", None if value is None else Decimal(value)])
    grouper.add(["b", Decimal("0.0000005")])
    grouper.add(["b", Decimal("0")])
    assert grouper.rows() == [
        ["a", Decimal("0.3000015"), Decimal("0.100001"), 4, 3],  # 0.1000005 up
        ["b", Decimal("0.0000005"), Decimal("0.000000"), 2, 2],  # 0.00000025 down
    ]


def test_more_groups_than_the_cap_is_failed_precondition(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_grouping, "MAX_GROUPS", 3)
    grouper = Grouper(SUM_AVG)
    for key in "abc":
        grouper.add([key, Decimal(1)])
    with pytest.raises(FailedPrecondition) as raised:
        grouper.add(["d", Decimal(1)])
    assert raised.value.reason == "TOO_MANY_GROUPS"
