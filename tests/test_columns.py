"""kamlib.columns.require_columns: the one wording for a table that lacks columns."""

import pandas as pd
import pytest

from kamlib import plots, priorities, roles
from kamlib.columns import require_columns


def test_names_absent_needed_and_present_columns():
    with pytest.raises(ValueError) as err:
        require_columns(pd.DataFrame({"a": [1], "c": [2]}), ["a", "b", "d"], "客户表")
    assert str(err.value) == "客户表缺少列：b、d（需要的列：a、b、d；现有的列：a、c）。"


def test_a_table_with_the_columns_passes_and_a_non_table_is_named():
    require_columns(pd.DataFrame({"a": [1]}), ["a"], "客户表")
    with pytest.raises(ValueError, match="客户表需要是一个表格（DataFrame），收到的是 list"):
        require_columns([1, 2], ["a"], "客户表")


@pytest.mark.parametrize(
    "call",
    [
        lambda: priorities.priority_scores(pd.DataFrame({"x": [1]})),
        lambda: roles.staffing_gaps(pd.DataFrame({"x": [1]})),
        lambda: plots.pareto_chart(pd.DataFrame({"x": [1]})),
    ],
)
def test_the_package_uses_the_one_wording(call):
    with pytest.raises(ValueError, match=r"缺少列：.*（需要的列：.*；现有的列：x）。"):
        call()
