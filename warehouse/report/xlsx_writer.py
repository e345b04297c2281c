"""The report as an Excel workbook: a cover sheet, then one sheet and one native chart per section."""

from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from quotalink.xlsx import neutralise
from warehouse.report.model import Col, Report, Section, Table

NUMBER_FORMATS = {"count": "#,##0", "yuan": "#,##0.00", "ratio": "0.00%", "decimal": "#,##0.0##",
                  "date": "yyyy-mm-dd", "text": "@"}
TITLE_FONT = Font(name="Noto Sans CJK SC", bold=True, size=14)
BOLD = Font(name="Noto Sans CJK SC", bold=True)
PLAIN = Font(name="Noto Sans CJK SC")
HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="A6A6A6")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
SHEET_NAMES = {"progress": "一 目标任务", "compliance": "二 按比例就业", "priority": "三 重点单位",
               "graduates": "四 大学生台账", "public": "五 机关事业单位", "dpf": "六 残联机关",
               "unemployed": "七 未就业状况", "flags": "八 疑点核查"}


def _put(ws: Worksheet, row: int, col: int, value, font: Font = PLAIN):
    """Every value the report writes passes neutralise(): a name like =cmd|... stays text."""
    cell = ws.cell(row=row, column=col, value=neutralise(value))
    cell.font = font
    return cell


def _cover(ws: Worksheet, report: Report) -> None:
    ws.title = "封面"
    _put(ws, 1, 1, report.title, TITLE_FONT)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=4)
    for i, (label, value) in enumerate((("报告单位", report.unit), ("报告年度", f"{report.year}年"),
                                        ("数据截至", report.data_as_of), ("生成时间", report.generated_at)), 3):
        _put(ws, i, 1, label, BOLD)
        _put(ws, i, 2, value)
    _put(ws, 8, 1, "主要指标", BOLD)
    for i, (label, value) in enumerate(report.highlights, 9):
        _put(ws, i, 1, label)
        _put(ws, i, 2, value).alignment = Alignment(horizontal="right")
    row = 10 + len(report.highlights)
    _put(ws, row, 1, "目录", BOLD)
    for i, s in enumerate(report.sections, row + 1):
        _put(ws, i, 1, s.title)
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 28


def _table(ws: Worksheet, t: Table, top: int) -> tuple[int, int, int]:
    """Write a table from row ``top``; returns (header row, last data row, next free row)."""
    _put(ws, top, 1, t.title, BOLD)
    header = top + 1
    for j, col in enumerate(t.columns, 1):
        cell = _put(ws, header, j, col.header, BOLD)
        cell.fill, cell.border = HEAD_FILL, BOX
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    r = header
    for row in t.rows:
        r += 1
        _row(ws, r, t.columns, row)
    last = r
    if t.total is not None:
        r += 1
        for j in range(1, len(t.columns) + 1):
            ws.cell(row=r, column=j).fill = TOTAL_FILL
        _row(ws, r, t.columns, t.total, BOLD)
    return header, last, r + 2


def _row(ws: Worksheet, r: int, cols: list[Col], row: dict, font: Font = PLAIN) -> None:
    for j, col in enumerate(cols, 1):
        value = row.get(col.key)
        cell = _put(ws, r, j, value if value is not None else ("—" if col.kind != "text" else ""), font)
        cell.border = BOX
        if value is not None:
            cell.number_format = NUMBER_FORMATS[col.kind]
        if col.kind == "text":
            cell.alignment = Alignment(wrap_text=len(str(value or "")) > col.width)


def _chart(section: Section, ws: Worksheet, places: list[tuple[int, int]], anchor: str) -> None:
    spec = section.chart
    t = section.tables[spec.table]
    header, last = places[spec.table]
    cat_col = next(j for j, c in enumerate(t.columns, 1) if c.key == spec.category)
    # An empty table still gets its chart (one empty category), so every section has one.
    if spec.limit:
        last = min(last, header + spec.limit)
    last = max(last, header + 1)
    cats = Reference(ws, min_col=cat_col, min_row=header + 1, max_row=last)
    if spec.kind == "pie":
        chart = PieChart()
        chart.dataLabels = DataLabelList()
        chart.dataLabels.showPercent = True
    else:
        chart = BarChart()
        chart.type = "col"
        chart.y_axis.title = spec.y_title
        chart.y_axis.majorGridlines = None
    for key in spec.series:
        col = next(j for j, c in enumerate(t.columns, 1) if c.key == key)
        chart.add_data(Reference(ws, min_col=col, min_row=header, max_row=last), titles_from_data=True)
    chart.set_categories(cats)
    chart.title = spec.title
    chart.width, chart.height = 22, 11
    ws.add_chart(chart, anchor)


def _section(ws: Worksheet, s: Section) -> None:
    ncols = max(len(t.columns) for t in s.tables)
    _put(ws, 1, 1, s.title, TITLE_FONT)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    note = _put(ws, 2, 1, s.note)
    note.alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ncols)
    ws.row_dimensions[2].height = 48
    top, places = 4, []
    for t in s.tables:
        header, last, top = _table(ws, t, top)
        places.append((header, last))
    ws.freeze_panes = ws.cell(row=places[0][0] + 1, column=2)
    for j in range(1, ncols + 1):
        width = max([c.width for t in s.tables for c in t.columns[j - 1:j]] or [10])
        ws.column_dimensions[get_column_letter(j)].width = width
    # The chart sits to the right of the first table, so it never covers rows of a long list.
    _chart(s, ws, places, f"{get_column_letter(ncols + 2)}4")


def write_xlsx(report: Report, path: Path) -> Path:
    """Write the workbook."""
    wb = Workbook()
    _cover(wb.active, report)
    for s in report.sections:
        _section(wb.create_sheet(SHEET_NAMES.get(s.key, s.key)), s)
    wb.save(path)
    return path
