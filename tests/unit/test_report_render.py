"""Report rendering without a warehouse: figure formats, inline SVG charts, long tables."""

from decimal import Decimal

from warehouse.report.html_writer import fmt, render_html
from warehouse.report.model import Chart, Col, Report, Section, Table
from warehouse.report.svg import bar_chart, pie_chart


def test_figures_print_without_float_noise():
    assert fmt(Decimal("6675451.33"), "yuan") == "6,675,451.33"
    assert fmt(Decimal("6675451.3299999"), "yuan") == "6,675,451.33"
    assert fmt(12345, "count") == "12,345"
    assert fmt(Decimal("0.1500"), "ratio") == "15.00%"
    assert fmt(Decimal("4.500"), "decimal") == "4.5" and fmt(Decimal("3.000"), "decimal") == "3"
    assert fmt(None, "count") == "—" and fmt(None, "text") == ""


def test_bar_chart_has_a_bar_per_value_and_a_legend():
    svg = bar_chart("标题", ["济南市", "青岛市"], [("目标", [10, 20]), ("新增", [5, 0])])
    assert svg.startswith("<svg") and svg.count("<rect") == 4 + 2  # bars + legend keys
    assert "济南市" in svg and "目标" in svg and "<script" not in svg


def test_pie_chart_shares_and_empty_pie():
    svg = pie_chart("状态", ["已就业", "尚未就业"], [3, 1])
    assert "75.0%" in svg and "25.0%" in svg
    assert "无数据" in pie_chart("状态", ["已就业"], [0])


def test_long_table_is_cut_in_html_with_a_note():
    rows = [{"k": f"学生{i}"} for i in range(5)]
    section = Section("graduates", "四、台账", "说明", [Table("台账", [Col("k", "学号")], rows, page_limit=2)],
                      Chart("bar", "图", "k", ("k",)))
    html = render_html(Report(2024, "报告", "单位", "2024-12-01", "2024-12-02", [("a", "1")], [section]))
    assert "<td>学生1</td>" in html and "<td>学生2</td>" not in html
    assert "前 2 行，共 5 行" in html
