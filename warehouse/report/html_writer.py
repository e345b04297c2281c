"""The report as one self-contained HTML page: inline SVG charts, no script, a print stylesheet."""

import datetime as dt
from decimal import Decimal
from html import escape
from pathlib import Path

from warehouse.report.model import Col, Report, Section, Table
from warehouse.report.svg import bar_chart, pie_chart

CSS = """
:root { --ink:#1f2933; --line:#c9d2dc; --head:#e6eef7; }
body { font-family:'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','Microsoft YaHei',sans-serif;
       color:var(--ink); margin:2rem auto; max-width:1200px; padding:0 1rem; font-size:14px; }
h1 { font-size:1.7rem; text-align:center; margin-bottom:.5rem; }
h2 { font-size:1.25rem; border-left:5px solid #2f6db5; padding-left:.5rem; margin-top:2.5rem; }
h3 { font-size:1rem; margin:1.2rem 0 .4rem; }
.cover { border:1px solid var(--line); padding:1rem 1.5rem; margin:1rem 0 2rem; }
.cover dl { display:grid; grid-template-columns:8em 1fr; gap:.3rem 1rem; margin:0; }
.cover dt { font-weight:bold; }
.highlights { display:grid; grid-template-columns:repeat(3, 1fr); gap:.6rem; margin:1rem 0; }
.highlights div { border:1px solid var(--line); padding:.5rem; }
.highlights b { display:block; font-size:1.2rem; }
.note { color:#52606d; }
table { border-collapse:collapse; margin:.5rem 0 1rem; width:100%; }
th, td { border:1px solid var(--line); padding:.25rem .45rem; vertical-align:top; }
th { background:var(--head); font-weight:bold; }
td:first-child, th:first-child { white-space:nowrap; }
td.n { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tr.total td { font-weight:bold; background:#f4f6f8; }
figure { margin:1rem 0; } svg.chart { max-width:100%; height:auto; }
nav ol { columns:2; }
@page { size:A4 landscape; margin:14mm 12mm; }
@media print {
  body { margin:0; max-width:none; font-size:10.5pt; }
  nav { display:none; }
  section.report-section { break-before:page; }
  thead { display:table-header-group; }
  tr, figure, .highlights div { break-inside:avoid; }
  h2, h3 { break-after:avoid; }
  a { color:inherit; text-decoration:none; }
}
"""


def fmt(value, kind: str) -> str:
    """A figure as printed: counts with thousands separators, yuan with two decimals."""
    if value is None or value == "":
        return "—" if kind != "text" else ""
    if kind == "count":
        return f"{int(value):,}"
    if kind == "yuan":
        return f"{Decimal(value):,.2f}"
    if kind == "ratio":
        return f"{Decimal(value) * 100:.2f}%"
    if kind == "decimal":
        d = Decimal(value)
        return f"{d:,.0f}" if d == d.to_integral_value() else f"{d.normalize():,f}"
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _cell(col: Col, value) -> str:
    cls = ' class="n"' if col.kind not in ("text", "date") else ""
    return f"<td{cls}>{escape(fmt(value, col.kind))}</td>"


def _table(t: Table) -> str:
    out = [f"<h3>{escape(t.title)}</h3><table><thead><tr>",
           *[f"<th>{escape(c.header)}</th>" for c in t.columns], "</tr></thead><tbody>"]
    if not t.rows:
        out.append(f'<tr><td colspan="{len(t.columns)}">无数据</td></tr>')
    shown = t.rows[:t.page_limit] if t.page_limit else t.rows
    for row in shown:
        out.append("<tr>" + "".join(_cell(c, row.get(c.key)) for c in t.columns) + "</tr>")
    if t.total is not None:
        out.append('<tr class="total">' + "".join(_cell(c, t.total.get(c.key)) for c in t.columns) + "</tr>")
    out.append("</tbody></table>")
    if len(shown) < len(t.rows):
        out.append(f"<p class='note'>此处列出前 {len(shown):,} 行，共 {len(t.rows):,} 行；完整内容见 .xlsx 格式报告。"
                   f" First {len(shown):,} of {len(t.rows):,} rows; the .xlsx report holds every row.</p>")
    return "".join(out)


def chart_svg(s: Section) -> str:
    """The section's chart as inline SVG."""
    spec = s.chart
    t = s.tables[spec.table]
    rows = t.rows[:spec.limit] if spec.limit else t.rows
    headers = {c.key: c.header for c in t.columns}
    cats = [str(r.get(spec.category) or "") for r in rows]
    if spec.kind == "pie":
        return pie_chart(spec.title, cats, [r.get(spec.series[0]) or 0 for r in rows])
    kinds = {c.key: c.kind for c in t.columns}
    series = [(headers[k], [r.get(k) or 0 for r in rows]) for k in spec.series]
    return bar_chart(spec.title, cats, series, percent=all(kinds[k] == "ratio" for k in spec.series))


def render_html(report: Report) -> str:
    """The whole page."""
    parts = ["<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
             f"<title>{escape(report.title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{escape(report.title)}</h1><div class='cover'><dl>",
             f"<dt>报告单位</dt><dd>{escape(report.unit)}</dd>",
             f"<dt>报告年度</dt><dd>{report.year}年</dd>",
             f"<dt>数据截至</dt><dd>{escape(report.data_as_of)}</dd>",
             f"<dt>生成时间</dt><dd>{escape(report.generated_at)}</dd></dl>",
             "<div class='highlights'>",
             *[f"<div>{escape(label)}<b>{escape(value)}</b></div>" for label, value in report.highlights],
             "</div></div><nav><h2>目录</h2><ol>",
             *[f"<li><a href='#{s.key}'>{escape(s.title)}</a></li>" for s in report.sections],
             "</ol></nav>"]
    for s in report.sections:
        parts.append(f"<section class='report-section' id='{s.key}'><h2>{escape(s.title)}</h2>"
                     f"<p class='note'>{escape(s.note)}</p><figure>{chart_svg(s)}</figure>")
        parts.extend(_table(t) for t in s.tables)
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(report: Report, path: Path) -> Path:
    """Write the page (UTF-8)."""
    path.write_text(render_html(report), encoding="utf-8")
    return path
