"""The annual implementation report (due before 10 December): marts, sections, xlsx/html/pdf."""

from pathlib import Path

from warehouse.report.html_writer import render_html, write_html
from warehouse.report.marts import MART_TABLES, build_marts
from warehouse.report.model import Report
from warehouse.report.pdf import PdfError, html_to_pdf
from warehouse.report.sections import DEFAULT_UNIT, NoReportData, build_report, years_with_data

FORMATS = (".xlsx", ".html", ".htm", ".pdf")

__all__ = ["DEFAULT_UNIT", "FORMATS", "MART_TABLES", "NoReportData", "PdfError", "Report",
           "build_marts", "build_report", "render_html", "write_report", "years_with_data"]


def write_report(report: Report, path: Path) -> Path:
    """Write the report as .xlsx, .html or .pdf, by the file's suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"report format must be .xlsx, .html or .pdf, got {path.suffix or 'no suffix'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        # openpyxl (≈ 1 s with numpy) only when writing a workbook: the pipeline imports this
        # package for its marts.
        from warehouse.report.xlsx_writer import write_xlsx  # noqa: PLC0415

        return write_xlsx(report, path)
    if suffix == ".pdf":
        return html_to_pdf(render_html(report), path)
    return write_html(report, path)
