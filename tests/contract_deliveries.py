"""Deliveries written from source-contracts.md alone, as another team would: any header order,
extra columns, quoting, every allowed format; no habit of our own generator."""

import csv
import io
import random
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import openpyxl

from tests.helpers import drop


def shuffled(columns: Sequence[str], seed: int, extra: Sequence[str] = ()) -> list[str]:
    """The contract's columns in another order, unknown extra columns mixed in."""
    out = [*columns, *extra]
    random.Random(seed).shuffle(out)
    return out


def csv_bytes(header: Sequence[str], rows: Sequence[dict], encoding: str, *, bom: bool = False,
              eol: str = "\r\n", quote_all: bool = False) -> bytes:
    """A CSV as the contract allows it: missing value = empty field, quoting as needed (or
    everywhere), CRLF or LF line ends, a BOM only where asked."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator=eol, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in header])
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def drop_csv(sources_dir: Path, source: str, name: str, header: Sequence[str], rows: Sequence[dict],
             encoding: str, marker: bool = True, **kw) -> Path:
    """Write one CSV delivery (and its marker) under SOURCES_DIR/<source>/."""
    return drop(sources_dir / source, name, csv_bytes(header, rows, encoding, **kw), marker=marker)


def xlsx_bytes(sheets: dict[str, tuple[list[list], int]], *, title: str | None = None,
               blank_tail: int = 0, number_formats: dict[int, str] | None = None,
               dimension: str | None = None) -> bytes:
    """A workbook: per sheet (rows, width); an optional merged title row above the header,
    blank but formatted trailing rows (which make the sheet's dimension larger), and
    optionally the stale ``<dimension ref>`` some writers leave (the element is advisory)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, (rows, width) in sheets.items():
        ws = wb.create_sheet(name)
        if title:
            ws.append([title])
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        for row in rows:
            ws.append(row)
        last = ws.max_row
        for r in range(last + 1, last + 1 + blank_tail):
            for c in range(1, width + 1):
                ws.cell(r, c).number_format = "@"  # formatted, empty: Excel keeps such rows
        for col, fmt in (number_formats or {}).items():
            for r in range(1, last + 1):
                cell = ws.cell(r, col)
                if not isinstance(cell.value, str):
                    cell.number_format = fmt
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue() if dimension is None else _with_dimension(buf.getvalue(), dimension)


def _with_dimension(book: bytes, ref: str) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(book))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in src.namelist():
            data = src.read(name)
            if name.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>'.encode(), data)
            z.writestr(name, data)
    return out.getvalue()
