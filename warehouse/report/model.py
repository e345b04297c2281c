"""The report as plain data: a cover, then sections of typed columns, rows and one chart each."""

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "count", "yuan", "ratio", "date", "decimal"]


@dataclass(frozen=True)
class Col:
    """A column: key into the rows, Chinese header (with unit), value kind, width in characters."""

    key: str
    header: str
    kind: Kind = "text"
    width: int = 12


@dataclass
class Table:
    """A titled table of rows (dicts keyed by column key)."""

    title: str
    columns: list[Col]
    rows: list[dict]
    total: dict | None = None  # a 合计 row, printed last
    page_limit: int | None = None  # rows shown in html/pdf (the xlsx holds every row)


@dataclass(frozen=True)
class Chart:
    """One chart of a section: categories from one column of a table, series from others."""

    kind: Literal["bar", "pie"]
    title: str
    category: str
    series: tuple[str, ...]
    table: int = 0  # which table of the section holds the data
    y_title: str = ""
    limit: int | None = None  # only the first rows (of a ranked list)


@dataclass
class Section:
    """A numbered section of the report."""

    key: str
    title: str
    note: str
    tables: list[Table]
    chart: Chart


@dataclass
class Report:
    """Cover block and sections of one year's implementation report."""

    year: int
    title: str
    unit: str
    data_as_of: str
    generated_at: str
    highlights: list[tuple[str, str]]
    sections: list[Section] = field(default_factory=list)
