"""Readers on what other writers leave in a delivery: empty and hidden sheets, a totals row's count under the key, an unclosed quote."""

import openpyxl
import pytest

from connectors import base
from connectors.base import is_total_row, read_csv, read_xlsx
from connectors.staging import unguarded


@pytest.fixture(params=["calamine", "openpyxl"])
def reader(request, monkeypatch):
    if request.param == "openpyxl":
        monkeypatch.setattr(base, "_calamine_reads_as_openpyxl", lambda path: False)
    return request.param


def test_empty_and_hidden_list_sheets_hold_no_records_a_visible_headerless_one_is_reported(tmp_path, reader):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "山东大学"
    ws.append(["学校代码", "学号", "姓名"])
    ws.append(["10422", "2022001", "王伟"])
    wb.create_sheet("Sheet2")
    lists = wb.create_sheet("字典")
    lists.append(["男"])
    lists.append(["女"])
    lists.sheet_state = "hidden"
    notes = wb.create_sheet("说明")
    notes.append(["本表由各校填报"])
    wb.save(tmp_path / "g.xlsx")
    got = {title: (header, [r.values for r in records]) for title, header, records in read_xlsx(tmp_path / "g.xlsx", ["学校代码", "学号"])}
    assert got["山东大学"] == (["学校代码", "学号", "姓名"], [{"学校代码": "10422", "学号": "2022001", "姓名": "王伟"}])
    assert got["Sheet2"][0] is None and got["字典"][0] is None
    assert got["说明"][0] == []  # content without the header: the lander rejects the workbook


def test_a_totals_row_with_its_count_under_the_key_column_is_not_a_record():
    header = ["姓名", "性别", "年龄", "学员编号", "序号"]
    keys = {"学员编号"}
    assert is_total_row([None, None, None, "共90人", "合计"], header, keys)
    assert is_total_row([None, None, None, "共 90 人", "合计：共90人"], header, keys)
    assert not is_total_row(["王伟", "男", "30", "PX2026Q2000001", "合计"], header, keys)
    assert not is_total_row([None, None, None, "90", "合计"], header, keys)  # a numeric key stays a key


def _records(tmp_path, text: str) -> list[tuple]:
    (tmp_path / "a.csv").write_bytes(text.encode("gb18030"))
    _, records = read_csv(tmp_path / "a.csv", "gb18030")
    return [(r.row_ref, r.error_column, r.values.get("id"), r.values.get("note")) for r in records]


def test_an_unclosed_quote_costs_its_line_and_the_lines_after_it_are_read_again(tmp_path):
    # In a middle column: the reader runs on to the end of the file, one record of the wrong width.
    assert _records(tmp_path, 'id,note,name\r\n1,ok,王伟\r\n2,"open,李强\r\n3,ok,张三\r\n4,fine,赵六\r\n') == [
        ("2", None, "1", "ok"), ("3", "note", None, None), ("4", None, "3", "ok"), ("5", None, "4", "fine")]
    # In the last column: the swallowed lines make one record of the right width.
    assert _records(tmp_path, 'id,name,note\r\n1,王伟,ok\r\n2,李强,"open\r\n3,张三,ok\r\n4,赵六,fine\r\n') == [
        ("2", None, "1", "ok"), ("3", "note", None, None), ("4", None, "3", "ok"), ("5", None, "4", "fine")]


def test_quoted_line_breaks_stay_one_record(tmp_path):
    got = _records(tmp_path, 'id,name,note\r\n1,王伟,"两\r\n行"\r\n2,李强,"三\r\n行,\r\n文"\r\n3,张三,ok\r\n')
    assert got == [("2", None, "1", "两\r\n行"), ("4", None, "2", "三\r\n行,\r\n文"), ("7", None, "3", "ok")]
    # A record of the wrong width over lines that are no records either stays one malformed record.
    (tmp_path / "b.csv").write_bytes('id,name,note\r\n1,"open,x\r\nno record here\r\n'.encode("gb18030"))
    _, records = read_csv(tmp_path / "b.csv", "gb18030")
    assert [(r.row_ref, r.error) for r in records] == [("2", "has 2 fields, header has 3")]


@pytest.mark.parametrize(("value", "read"), [
    ('="370102198503124526"', "370102198503124526"), ("'37010219850312452X", "37010219850312452X"),
    ("'JY202401000001267", "JY202401000001267"), ('="0531-82726200"', "0531-82726200"),
    ("'好的' 他说", "'好的' 他说"), ("=SUM(A1)", "=SUM(A1)"), ('="a"b"', '="a"b"'), (None, None), (12, 12),
])
def test_an_excel_text_guard_around_an_identifier_is_read_through(value, read):
    assert unguarded(value) == read


def test_a_bom_before_a_quoted_header_in_a_utf8_without_bom_file_is_no_text(tmp_path):
    (tmp_path / "e.csv").write_bytes(b"\xef\xbb\xbf" + '"机构名称","统一社会信用代码"\r\n"甲","11370000"\r\n'.encode())
    header, records = read_csv(tmp_path / "e.csv", "utf-8")
    assert header == ["机构名称", "统一社会信用代码"]
    assert [r.values for r in records] == [{"机构名称": "甲", "统一社会信用代码": "11370000"}]
