"""quotalink.xlsx.neutralise: formula-looking text stays text in a spreadsheet."""

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest

from quotalink.xlsx import neutralise


@pytest.mark.parametrize("value", ["=cmd|'/c calc'!A1", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"])
def test_formula_prefixes_are_quoted(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["济南明泰机械有限公司", "a=b", "", "'already", 12, -3, Decimal("-1.50"),
                                   1.5, None, True, dt.date(2024, 1, 1)])
def test_other_values_unchanged(value):
    assert neutralise(value) is value


def test_neutralised_cell_is_text_in_the_workbook(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = neutralise("=cmd|'/c calc'!A1")
    wb.active["A2"] = "=1+1"  # what an unguarded writer would store
    wb.save(tmp_path / "x.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    assert (ws["A1"].data_type, ws["A1"].value) == ("s", "'=cmd|'/c calc'!A1")
    assert ws["A2"].data_type == "f"
