"""The annual report from warehouse rows: exact figures per section, the three formats, safety."""

import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from connectors.establishment import SOURCE as ESTABLISHMENT
from orchestration.cli import main
from tests.helpers import drop
from tests.integration.test_report_marts import NOW, fill
from warehouse.report import build_marts, build_report, render_html, write_report
from warehouse.report.marts import targets

SECTION_SHEETS = ["一 目标任务", "二 按比例就业", "三 重点单位", "四 大学生台账", "五 机关事业单位",
                  "六 残联机关", "七 未就业状况", "八 疑点核查"]
INJECTION = "=cmd|'/c calc'!A1"


@pytest.fixture
def filled(warehouse):
    with warehouse.begin() as conn:
        fill(conn)
        conn.execute(sa.text(
            "insert into mart.anomaly_flag (flag_id, rule, year, employer_id, severity, score, evidence, "
            "first_seen_at, last_seen_at, active) values "
            "('a', 'MULTI_EMPLOYER', 2024, 'E1', 'high', 1, '{}', now(), now(), true), "
            "('b', 'SHARED_CONTACT', 2024, 'E1', 'low', .4, '{}', now(), now(), false)"))
        conn.execute(sa.text("insert into review.decision (flag_id, decision, reviewer) values ('a', 'confirmed', 'x')"))
        conn.execute(sa.text(
            "insert into ops.load_audit (source, delivery, rows_read, rows_loaded, rows_quarantined, loaded_at) "
            "values ('org', 'jgry_2024.csv', 1, 1, 0, '2024-11-30 02:00+00')"))
    build_marts(warehouse, now=NOW)
    return warehouse


def _values(report):
    for s in report.sections:
        for t in s.tables:
            for row in [*t.rows, *([t.total] if t.total else [])]:
                yield from row.values()


def test_report_sections_give_exact_figures(filled):
    report = build_report(filled, 2024, now=NOW)
    s = {x.key: x for x in report.sections}
    assert list(s) == ["progress", "compliance", "priority", "graduates", "public", "dpf", "unemployed", "flags"]
    assert (report.unit, report.data_as_of, report.generated_at) == (
        "山东省残疾人联合会", "2024-11-30 10:00", "2024-12-01 08:00")

    progress = s["progress"].tables[0]
    jinan = next(r for r in progress.rows if r["city"] == "济南市")
    assert (jinan["new_count"], jinan["target_count"]) == (2, targets()[("3701", 2024)])
    assert progress.total["new_count"] == 5
    assert progress.total["target_count"] == sum(v for (_c, y), v in targets().items() if y == 2024)

    comp = {r["city"]: r for r in s["compliance"].tables[0].rows}
    assert comp["济南市"]["levy_gap"] == Decimal("126000.00") and comp["济南市"]["active_flags"] == 1
    assert comp["青岛市"]["levy_declared"] == Decimal("100000.10")
    assert s["compliance"].tables[0].total["employers"] == 4

    priority = s["priority"].tables[0].rows
    assert [(r["rank"], r["name"], r["quota_gap"]) for r in priority] == [
        (1, INJECTION, Decimal("3.5")), (2, "青岛大厂股份有限公司", 3), (3, "济南小店", Decimal("0.6"))]

    grads = {r["status"]: r["count"] for r in s["graduates"].tables[0].rows}
    assert grads == {"已就业": 3, "升学/出国": 1, "尚未就业": 2, "情况不明": 0}
    ledger = {r["student"]: r for r in s["graduates"].tables[1].rows}
    assert (ledger["10422-001"]["evidence"], ledger["10422-002"]["evidence"]) == ("社保缴费", "未查到")

    public = s["public"].tables[0].rows
    assert [(r["city"], r["organ_unit_count"], r["inst_unit_count"], r["disabled_staff_count"],
             r["schools_excluded"]) for r in public] == [("济南市", 3, 1, 8, 1)]
    assert [(r["name"], r["large"]) for r in s["public"].tables[1].rows] == [("济南市某局", "是")]
    dpf = {r["name"]: r for r in s["dpf"].tables[0].rows}
    assert (dpf["济南市残疾人联合会"]["share"], dpf["济南市残疾人联合会"]["meets"]) == (Decimal("0.1500"), "是")
    assert dpf["历下区残疾人联合会"]["meets"] == "否"

    unemployed = s["unemployed"]
    assert unemployed.tables[0].total["count"] == 3
    assert {r["category"]: r["count"] for r in unemployed.tables[0].rows} == {"视力": 1, "肢体": 2}

    flags = {r["code"]: r for r in s["flags"].tables[0].rows}
    assert (flags["MULTI_EMPLOYER"]["active"], flags["MULTI_EMPLOYER"]["confirmed"]) == (1, 1)
    assert (flags["SHARED_CONTACT"]["active"], flags["SHARED_CONTACT"]["open"]) == (0, 1)
    # No float anywhere: every figure is an int or a Decimal.
    assert not [v for v in _values(report) if isinstance(v, float)]


def assert_xlsx(path: Path) -> openpyxl.Workbook:
    """Cover + one sheet per section, each with exactly one native chart, formats and frozen headers."""
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["封面", *SECTION_SHEETS]
    assert len(wb["封面"]._charts) == 0
    for name in SECTION_SHEETS:
        ws = wb[name]
        assert len(ws._charts) == 1, name
        assert ws.freeze_panes is not None, name
        assert ws.column_dimensions["A"].width >= 9, name
        # Nothing the report writes is ever a formula.
        assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"], name
    assert wb["封面"]["A3"].value == "报告单位"
    return wb


def assert_html(text: str) -> None:
    """Inline SVG charts (one per section), no script and nothing fetched from the network."""
    assert text.count("<svg") == len(SECTION_SHEETS)
    assert "<script" not in text
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text)
    assert "@media print" in text and "报告单位" in text


def assert_pdf(path: Path, tmp_path: Path) -> int:
    """The PDF renders (pdftoppm) to pages that each carry ink; returns the page count."""
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm missing: apt-get install poppler-utils (scripts/install-system-deps.sh)"
    out = tmp_path / "page"
    subprocess.run([pdftoppm, "-gray", "-r", "30", str(path), str(out)], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page*.pgm"))
    assert pages
    for page in pages:
        data = page.read_bytes()
        # Binary PGM: "P5\n<w> <h>\n<max>\n" then one byte per pixel.
        magic, dims, _max, pixels = data.split(b"\n", 3)
        width, height = map(int, dims.split())
        assert magic == b"P5" and len(pixels) == width * height
        assert sum(1 for b in pixels if b < 128) > 10, f"{page.name} is blank"
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "报告单位" in text and "残联机关" in text
    return len(pages)


def test_three_formats_and_formula_injection(filled, tmp_path):
    for suffix in ("xlsx", "html", "pdf"):
        assert main(["report", "--year", "2024", "--out", str(tmp_path / f"r.{suffix}")]) == 0
    wb = assert_xlsx(tmp_path / "r.xlsx")
    ws = wb["三 重点单位"]
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    evil = cells["'" + INJECTION]
    assert evil.data_type == "s"
    # Counts as integers, yuan with two decimals.
    headers = {c.value: c.column for c in ws[5]}
    assert ws.cell(row=6, column=headers["在职职工（人）"]).number_format == "#,##0"
    levy = ws.cell(row=6, column=headers["核实应缴保障金（元）"])
    assert levy.number_format == "#,##0.00" and Decimal(str(levy.value)) == Decimal("283500")
    assert ws.freeze_panes == "B6"
    assert_html((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert INJECTION.replace("'", "&#x27;") in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert assert_pdf(tmp_path / "r.pdf", tmp_path) >= len(SECTION_SHEETS)


def test_year_without_data_exits_non_zero(filled, tmp_path, capsys):
    out = tmp_path / "r1999.xlsx"
    assert main(["report", "--year", "1999", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "1999年没有可用数据" in err and "No data for 1999" in err and "2024" in err
    assert not out.exists()
    assert main(["report", "--year", "2024", "--out", str(tmp_path / "r.csv")]) == 2


def test_html_escapes_names(filled):
    html = render_html(build_report(filled, 2024, now=NOW))
    assert "<td>=cmd|&#x27;/c calc&#x27;!A1</td>" in html


EST_HEADER = "统一社会信用代码,机构名称,机构类别,主管部门,所在地区代码,核定编制数,实有人数,残疾人在职人数,是否中小学幼儿园,是否残联机关,更新日期"


def _register(year: int, dpf_disabled: int, organ_staff: int) -> bytes:
    rows = [
        f"13370100MB0000001X,济南市残疾人联合会,群团机关,济南市委,370100,22,20,{dpf_disabled},否,是,{year}-12-01",
        f"11370100MB0000003X,济南市某局,行政机关,济南市政府,370100,60,{organ_staff},0,否,否,{year}-12-01",
        f"12370102MB0000005X,历下区实验小学,事业单位,历下区教体局,370102,500,500,0,是,否,{year}-12-01",
    ]
    return ("\n".join([EST_HEADER, *rows]) + "\n").encode("utf-8")


def test_2024_report_unchanged_by_loading_2025(warehouse, sources_dir):
    folder = sources_dir / "establishment"
    drop(folder, "jgbz_2024.csv", _register(2024, 3, 80))
    ESTABLISHMENT.load(warehouse, sources_dir)
    ESTABLISHMENT.stage(warehouse)
    build_marts(warehouse, now=NOW)
    before = build_report(warehouse, 2024, now=NOW)

    drop(folder, "jgbz_2025.csv", _register(2025, 1, 95))
    ESTABLISHMENT.load(warehouse, sources_dir)
    ESTABLISHMENT.stage(warehouse)
    build_marts(warehouse, now=NOW)
    after = build_report(warehouse, 2024, now=NOW)
    assert [s.tables for s in after.sections] == [s.tables for s in before.sections]
    dpf = {s.key: s for s in after.sections}["dpf"].tables[0].rows
    assert [(r["disabled"], r["meets"]) for r in dpf] == [(3, "是")]
    with warehouse.connect() as conn:
        assert conn.execute(sa.text(
            "select year, disabled_staff from staging.institution where uscc = '13370100MB0000001X' "
            "order by year")).all() == [(2024, 3), (2025, 1)]
    later = {s.key: s for s in build_report(warehouse, 2025, now=NOW).sections}
    assert [(r["disabled"], r["meets"]) for r in later["dpf"].tables[0].rows] == [(1, "否")]


def test_write_report_rejects_unknown_format(filled, tmp_path):
    with pytest.raises(ValueError, match=".xlsx, .html or .pdf"):
        write_report(build_report(filled, 2024, now=NOW), tmp_path / "r.txt")
