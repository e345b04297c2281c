"""The delivery model every source shares: discovery, markers, landing, quarantine, audit."""

import csv
import datetime as dt
import functools
import hashlib
import itertools
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Literal, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from connectors.encodings import reading_codec
from quotalink.contracts import RawTable
from quotalink.errors import DeliveryError
from quotalink.privacy import mask_text
from warehouse.db import copy_batches, copy_rows, upsert_rows

log = logging.getLogger(__name__)
MARKER = ".ok"
MAX_FIELD_CHARS = 32768  # default of QUOTALINK_MAX_FIELD_CHARS
TOTAL_ROW_WORDS = ("合计", "总计", "小计")


@dataclass(frozen=True)
class Delivery:
    """One unit of loading: a file, an API window or a database window."""

    source: str
    name: str
    period: str
    path: Path | None = None

    def sha256(self) -> str | None:
        """Content hash of a file delivery (None for pulled windows)."""
        if self.path is None:
            return None
        h = hashlib.sha256()
        with self.path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()


@dataclass
class Record:
    """One delivered record as read: where it stands and its values by header."""

    row_ref: str
    values: dict[str, object]
    error: str | None = None  # structural problem found by the reader
    error_column: str | None = None
    raw_text: str | None = None
    typed: bool = False  # values may be numbers/dates (XLSX, JSON), not only text


LoadStatus = Literal["loaded", "rejected", "skipped"]


class QuarantineRow(NamedTuple):
    """One record set aside, as ``ops.quarantine`` stores it."""

    source: str
    delivery: str
    row_ref: str | None
    column: str | None
    reason: str
    raw_content: str | None


@dataclass
class LoadResult:
    """What loading one delivery did; rows_read = rows_loaded + rows_quarantined."""

    source: str
    delivery: str
    status: LoadStatus
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reason: str | None = None
    problems: list[str] = field(default_factory=list)


def discover(sources_dir: Path, spec: RawTable) -> list[Delivery]:
    """Complete file deliveries of a source (marker present), oldest period first."""
    folder = sources_dir / spec.source
    if not folder.is_dir():
        return []
    pattern = re.compile(spec.pattern or r"^$")
    found = []
    for path in folder.iterdir():
        m = pattern.match(path.name)
        if not m and path.is_file() and not path.name.startswith(".") and not path.name.endswith(MARKER):
            # Not read, but never silently: `JYXX_202401.CSV` or `jyxx_2024-01.csv` is a delivery
            # an operator must rename.
            log.warning("%s/%s: the name does not follow the contract's pattern %s, not read",
                        spec.source, path.name, spec.pattern)
        if not m or not path.is_file():
            continue
        if not (folder / (path.name + MARKER)).exists():
            log.warning("%s/%s: no %s marker yet, not read", spec.source, path.name, MARKER)
            continue
        found.append(Delivery(spec.source, path.name, m.group("period"), path))
    return sorted(found, key=lambda d: (d.period, d.name))


def audit_state(conn: Connection, source: str, delivery: str) -> dict | None:
    """The latest audit row of a delivery, if it was handled before."""
    row = conn.execute(
        sa.text(
            "select content_sha256, status from ops.load_audit where source = :s and delivery = :d "
            "order by load_id desc limit 1"
        ),
        {"s": source, "d": delivery},
    ).mappings().first()
    return dict(row) if row else None


def _cell(value: object) -> str | None:
    """Render a delivered value as text for the raw layer (as the source system shows it)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if abs(value) >= 1e15:
            # Excel keeps 15 significant digits: show what Excel shows, so a damaged 18-digit
            # ID stays recognisable as damaged instead of turning into somebody else's number.
            return f"{value:.15G}"
        if value.is_integer():
            return str(int(value))
    text = str(value)
    return text if text.strip() != "" else None


CSV_CHUNK = 20_000


@dataclass
class TextChunk:
    """Consecutive CSV rows: ``(row_ref, fields)`` of rows that have the header's field count
    and decode, Records of those that do not. ``clean``: no Record, and no field holds
    anything bad_value refuses (so the lander may skip its per-row checks)."""

    items: list[tuple[str, list[str]] | Record]
    clean: bool


def read_csv(path: Path, encoding: str) -> tuple[list[str], Iterator[Record]]:
    """Header and records of a CSV delivery (see read_csv_chunks)."""
    header, chunks = read_csv_chunks(path, encoding)

    def records() -> Iterator[Record]:
        for chunk in chunks:
            for item in chunk.items:
                yield item if isinstance(item, Record) else _text_record(header, *item)

    return header, records()


def _text_record(header: list[str], ref: str, row: list[str]) -> Record:
    return Record(ref, {h: (v if v != "" else None) for h, v in zip(header, row, strict=True)})


def _open_csv(path: Path, encoding: str) -> tuple:
    """The open file, its csv reader and the header read (DeliveryError when there is none or
    it does not decode)."""
    # A field of any length is read so that its row can be quarantined with its column;
    # the product's own limit is Lander.max_field_chars.
    csv.field_size_limit(2**31 - 1)
    fh = path.open("r", encoding=reading_codec(encoding), errors="surrogateescape", newline="")
    try:
        reader = csv.reader(fh)
        header = named_columns([h.strip().lstrip("\ufeff") for h in next(reader)])
    except StopIteration:
        fh.close()
        raise DeliveryError("", path.name, "file is empty (no header line)") from None
    except BaseException:
        fh.close()
        raise
    if any(_UNDECODED.search(h) for h in header):
        fh.close()
        at = path.read_bytes().find(b"\n")
        raise DeliveryError("", path.name, _encoding_reason(
            path, encoding, UnicodeDecodeError(encoding, b"", max(at, 0), max(at, 0) + 1, "header")))
    return fh, reader, header


class _LineReader:
    """The file's lines by number (as the csv reader counts them), read again on a second handle
    only when a record needs them; the numbers asked for only grow."""

    def __init__(self, path: Path, encoding: str):
        self.path, self.encoding, self.fh, self.at = path, encoding, None, 0

    def lines(self, first: int, last: int) -> list[str]:
        if self.fh is None:
            self.fh = self.path.open("r", encoding=reading_codec(self.encoding), errors="surrogateescape", newline="")
        out = []
        for line in self.fh:
            self.at += 1
            if self.at >= first:
                out.append(line)
            if self.at >= last:
                break
        return out

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


def _unclosed_quote(lines: list[str], first: int, width: int, header: list[str], *, fits: bool = False) -> list | None:
    """A record spanning several lines, read again as what it most likely is: its first line
    opens a quote it never closes (the line is set aside, naming the column), the lines after it
    records of their own. None when it is not that: for a record of the wrong field count, when
    those lines hold no record of the header's width either (it stays one malformed record); for
    one of the right count (`fits`: the quote opened in the last column swallowed the rest), when
    most of them are not of the header's width (a field with line breaks in it)."""
    rest = [r for r in csv.reader(lines[1:]) if "".join(r).strip()]
    full = sum(len(r) == width for r in rest)
    if not full or (fits and 2 * full <= len(rest)):
        return None
    opened = next(csv.reader([lines[0]]), [])
    column = header[len(opened) - 1] if 0 < len(opened) <= width else None
    out: list = [Record(str(first), {}, f"a quoted field opens on line {first} and is not closed on it "
                                        f"(the csv reader ran on to line {first + len(lines) - 1}); the "
                                        "line is set aside, the lines after it are read as records",
                        column, _printable(lines[0].rstrip("\r\n")))]
    reader = csv.reader(lines[1:])
    start = first + 1
    for row in reader:
        ref = str(start)
        start = first + 1 + reader.line_num
        if not "".join(row).strip():
            continue
        out.append((ref, row) if len(row) == width else Record(
            ref, {}, f"has {len(row)} fields, header has {width}", None, _printable(",".join(row))))
    return out


def csv_header(path: Path, encoding: str) -> list[str]:
    """The header of a CSV delivery as read_csv_chunks reads it."""
    fh, _, header = _open_csv(path, encoding)
    fh.close()
    return header


def read_csv_chunks(path: Path, encoding: str, max_chars: int = MAX_FIELD_CHARS,
                    chunk_rows: int = CSV_CHUNK) -> tuple[list[str], Iterator[TextChunk]]:
    """Header and chunks of rows of a CSV delivery.

    Undecodable bytes are kept as surrogates so that one damaged row is quarantined by the
    lander, not the file; a header that does not decode, or a file that decodes whole in
    another encoding, is the wrong encoding and surfaces as DeliveryError.
    """
    fh, reader, header = _open_csv(path, encoding)
    again_lines = _LineReader(path, encoding)
    counts = [0, 0]  # rows, rows with undecodable bytes
    width = len(header)

    def screened(items: list, fine: list[list[str]]) -> TextChunk:
        fields = list(itertools.chain.from_iterable(fine))
        if len(fine) == len(items) and clean_texts(fields, max_chars):
            counts[0] += len(fine)
            return TextChunk(items, True)
        out: list = []
        for item in items:
            if isinstance(item, Record):
                out.append(item)
                continue
            ref, row = item
            counts[0] += 1
            bad = next((i for i, c in enumerate(row) if _UNDECODED.search(c)), None)
            if bad is not None:
                counts[1] += 1
                out.append(Record(ref, {}, f"invalid byte sequence for {encoding}", header[bad],
                                  _printable(",".join(row))))
            else:
                out.append(item)
        return TextChunk(out, False)

    def chunks() -> Iterator[TextChunk]:
        try:
            start = reader.line_num + 1
            items: list = []
            fine: list[list[str]] = []
            for row in reader:
                ref = str(start)
                start = reader.line_num + 1
                if not (row and row[0].strip()) and not "".join(row).strip():
                    continue  # blank line
                if len(row) != width:
                    again = None
                    if reader.line_num > int(ref):  # the record ran over several lines
                        again = _unclosed_quote(again_lines.lines(int(ref), reader.line_num), int(ref), width, header)
                    if again is not None:
                        items.extend(again)
                        fine.extend(r for _, r in (i for i in again if not isinstance(i, Record)))
                        continue
                    items.append(Record(
                        ref, {}, f"has {len(row)} fields, header has {width}", None,
                        _printable(",".join(row)),
                    ))
                elif reader.line_num > int(ref) + 1 and (again := _unclosed_quote(
                        again_lines.lines(int(ref), reader.line_num), int(ref), width, header, fits=True)):
                    items.extend(again)
                    fine.extend(r for _, r in (i for i in again if not isinstance(i, Record)))
                else:
                    items.append((ref, row))
                    fine.append(row)
                if len(items) >= chunk_rows:
                    yield screened(items, fine)
                    items, fine = [], []
            if items:
                yield screened(items, fine)
            # Many undecodable rows are a file in another encoding, not damaged rows.
            if counts[1] > max(2, counts[0] // 10):
                others = [e for e in ("utf-8-sig", "gb18030") if e != encoding and _decodes(path, e)]
                guess = f"; it decodes as {others[0]}" if others else ""
                raise DeliveryError("", path.name, f"not valid {encoding} in {counts[1]} of "
                                                   f"{counts[0]} rows{guess}")
        except csv.Error as exc:
            raise DeliveryError("", path.name, f"unreadable CSV near line {reader.line_num}: {exc}") from None
        finally:
            fh.close()
            again_lines.close()

    return header, chunks()


UNNAMED = "#"  # prefix of the name raw gives a column whose header cell is empty


def named_columns(header: list[str]) -> list[str]:
    """The header with each empty name replaced by ``#<column number>``: values delivered under
    a column without a name are still delivered, and raw keeps them (in ``extra``)."""
    if all(header):
        return header
    return [h or f"{UNNAMED}{i}" for i, h in enumerate(header, 1)]


# Bytes the declared encoding could not decode (kept by errors="surrogateescape").
_UNDECODED = re.compile("[\udc80-\udcff]")
# Control characters a text value never holds (tab and line breaks are legitimate in CSV).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(text: str) -> str:
    """Raw content safe to store in ops.quarantine (PostgreSQL text holds no NUL or surrogate)."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.replace("\x00", "\\x00")


# Any character bad_value looks for: one search over a whole row (or chunk) clears it.
_SUSPECT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\udc80-\udcff]")


def clean_texts(texts: list[str], max_chars: int) -> bool:
    """True when none of the texts is one bad_value would refuse (the common case, screened
    in one pass over their concatenation: every character it looks for is a single one)."""
    if not texts:
        return True
    return max(map(len, texts)) <= max_chars and _SUSPECT.search("".join(texts)) is None


def bad_value(values: dict[str, object], max_chars: int) -> tuple[str, str] | None:
    """(column, reason) of the first value a text column cannot hold, or None."""
    if clean_texts([v for v in values.values() if isinstance(v, str)], max_chars):
        return None
    for column, v in values.items():
        if not isinstance(v, str):
            continue
        if len(v) > max_chars:
            return column, f"field of {len(v)} characters, above the limit of {max_chars} (QUOTALINK_MAX_FIELD_CHARS)"
        if "\x00" in v:
            return column, "NUL byte in value"
        if _UNDECODED.search(v):
            return column, "invalid byte sequence"
        m = _CONTROL.search(v)
        if m:
            return column, f"control character U+{ord(m.group()):04X} in value"
    return None


def _clipped(values: dict[str, object], max_chars: int) -> dict[str, object]:
    """A quarantined record's values, long fields cut so the quarantine row stays small."""
    out: dict[str, object] = {}
    for k, v in values.items():
        if isinstance(v, str):
            v = _printable(v)
            if len(v) > 1000 and len(v) > max_chars:
                v = v[:1000] + f"… ({len(v)} characters)"
        out[k] = v
    return out


def _encoding_reason(path: Path, encoding: str, exc: UnicodeDecodeError) -> str:
    others = [e for e in ("utf-8-sig", "gb18030") if e != encoding and _decodes(path, e)]
    guess = f"; it decodes as {others[0]}" if others else ""
    return f"not valid {encoding} at byte {exc.start}{guess}"


def _decodes(path: Path, encoding: str) -> bool:
    try:
        path.read_bytes().decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def read_xlsx(path: Path, key_columns: Iterable[str]) -> Iterator[tuple[str, list[str] | None, Iterator[Record]]]:
    """Per sheet: name, header and records. The header is the first row naming a key column;
    ``[]`` for a sheet with content but no such row; None for a sheet that holds no records: one
    without a filled cell, or a hidden one without the header (a template's lists for its
    drop-downs)."""
    sheets = _calamine_sheets(path) if _calamine_reads_as_openpyxl(path) else None
    if sheets is None:
        yield from _read_xlsx_openpyxl(path, key_columns)
        return
    keys = set(key_columns)
    for title, rows, hidden in sheets:
        header: list[str] | None = None
        line = 0
        for row in rows[:10]:
            line += 1
            names = [str(c).strip() if c is not None else "" for c in row]
            if keys & set(names):
                header = named_columns(names)
                break
        if header is None:
            yield title, (None if hidden or not any(_cell(c) for r in rows for c in r) else []), iter(())
            continue
        yield title, header, _xlsx_records(iter(rows[line:]), header, line, title, keys)


def is_total_row(cells: list, header: list[str], keys: set[str]) -> bool:
    """The totals row closing a sheet (合计 …), which is not a record: a total word in one of
    its first cells, or, since headers come in any order, a cell of a row whose key is empty
    that opens with one (`合计`, `合 计`, `合计：36人`)."""
    def total(c: object) -> bool:
        return c is not None and "".join(str(c).split()) in TOTAL_ROW_WORDS

    if any(map(total, cells[:3])):
        return True
    key_at = [i for i, h in enumerate(header) if h in keys]
    # A key cell holding only a count (共90人) is the totals row's count written under whatever
    # column a shuffled header put second, not a record's key.
    if any(i < len(cells) and cells[i] is not None and str(cells[i]).strip()
           and not _COUNT_CELL.match("".join(str(cells[i]).split())) for i in key_at):
        return False
    return any(c is not None and _TOTAL_CELL.match("".join(str(c).split())) for c in cells)


# A totals cell: the word, then at most a count (合计：共36人); not a text that merely opens
# with the characters (小计算机班).
_TOTAL_CELL = re.compile(f"^(?:{'|'.join(TOTAL_ROW_WORDS)})(?:[:：]?共?[0-9０-９]+[人名条项个]?)?$")
_COUNT_CELL = re.compile("^共[0-9０-９]+[人名条项个]?$")


def _xlsx_records(rows: Iterator, header: list[str], line: int, title: str,
                  keys: set[str]) -> Iterator[Record]:
    for row in rows:
        line += 1
        cells = [_cell(c) for c in row]
        if not any(cells):
            continue
        if is_total_row(cells, header, keys):
            continue  # the totals row closing the sheet is not a record
        values = {h: cells[i] if i < len(cells) else None for i, h in enumerate(header) if h}
        yield Record(f"{title}!{line}", values, typed=True)


# What calamine reads differently from openpyxl (whose reading is the raw layer's definition):
# error cells (openpyxl: '#N/A'), integers of 16 digits or more (openpyxl: exact ints), whole
# numbers spelt as floats (openpyxl: floats), _xHHHH_ escapes (openpyxl keeps them), the 1904
# date system, chart sheets.
_CALAMINE_DIFFERS = re.compile(
    rb'\bt="e"|<v>-?[0-9]{16,}</v>|<v>-?[0-9]+\.0*</v>|<v>-?[0-9.]+[eE]\+?(?:0?[0-9]|1[0-4])</v>'
    rb'|_x[0-9A-Fa-f]{4}_|date1904="(?:1|true)"')


def _calamine_reads_as_openpyxl(path: Path) -> bool:
    """True when calamine (Rust, 10-20x faster) reads this workbook cell for cell as openpyxl
    would: none of the constructs they read differently occurs in its parts."""
    import zipfile

    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return False
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if any("chartsheet" in n for n in names):
                return False
            for n in names:
                if n.endswith(".xml") and (n.startswith("xl/worksheets/") or n in (
                        "xl/sharedStrings.xml", "xl/workbook.xml")):
                    if _CALAMINE_DIFFERS.search(z.read(n)):
                        return False
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return False  # openpyxl names what is wrong with the archive
    return True


def _calamine_sheets(path: Path) -> list[tuple[str, list[list], bool]] | None:
    """Every sheet's rows from A1 (empty cells None) and whether it is hidden, or None when
    calamine cannot read it."""
    import python_calamine

    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
        out = []
        for meta in wb.sheets_metadata:
            rows = wb.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            hidden = meta.visible != python_calamine.SheetVisibleEnum.Visible
            out.append((meta.name, [[_as_openpyxl(c) for c in r] for r in rows], hidden))
        return out
    except Exception:  # openpyxl reads it again and names the damage
        log.debug("%s: calamine could not read it; openpyxl reads it", path.name, exc_info=True)
        return None


def _as_openpyxl(value: object) -> object:
    """A cell as calamine reads it → as openpyxl reads it (what quarantine rows and headers
    show): empty None, whole numbers int (the parts hold no "3.0" or "1E+3" spelling of one,
    _CALAMINE_DIFFERS sees to that), dates datetimes."""
    kind = type(value)
    if kind is str:
        return value if value != "" else None
    if kind is float:
        return int(value) if value.is_integer() and abs(value) < 1e15 else value
    if kind is dt.date:
        return dt.datetime.combine(value, dt.time(0))
    return value


def _trust_no_dimension(ws: object) -> None:
    """Read a read-only sheet to its last cell, not to its <dimension>: the element is
    advisory in OOXML and some writers leave it stale (`A1`), which would cut every row
    to its first cell and the sheet to its first row."""
    reset = getattr(ws, "reset_dimensions", None)
    if reset is not None:
        reset()


def _read_xlsx_openpyxl(path: Path, key_columns: Iterable[str]) -> Iterator[tuple[str, list[str] | None, Iterator[Record]]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged archive
        raise DeliveryError("", path.name, f"not a readable XLSX workbook: {type(exc).__name__}") from None
    keys = set(key_columns)
    try:
        for ws in wb.worksheets:
            _trust_no_dimension(ws)
            rows = ws.iter_rows(values_only=True)
            header: list[str] | None = None
            line = 0
            filled = False
            for row in rows:
                line += 1
                names = [str(c).strip() if c is not None else "" for c in row]
                filled = filled or any(names)
                if keys & set(names):
                    header = named_columns(names)
                    break
                if line >= 10:
                    break
            if header is None:
                filled = ws.sheet_state == "visible" and (filled or any(_cell(c) for r in rows for c in r))
                yield ws.title, ([] if filled else None), iter(())
                continue
            yield ws.title, header, _xlsx_records(rows, header, line, ws.title, keys)
    finally:
        wb.close()


def _row_key(spec: RawTable, values: dict[str, object]) -> str | None:
    if spec.key in values or "-" not in spec.key:
        v = values.get(spec.key)
    else:  # composite keys like 学校代码-学号
        parts = [values.get(p) for p in spec.key.split("-")]
        v = "-".join(str(p).strip() for p in parts) if all(parts) else None
    if v is None:
        return None
    text = str(v).strip()
    if not text or _UNREADABLE.search(text):
        return None
    return text


_UNREADABLE = re.compile("[\x00-\x1f\ufffd]")


def _header_form(name: str) -> str:
    """A header name in the form two spellings of one column share: NFKC (full-width brackets and
    letters as ASCII), no whitespace."""
    return "".join(unicodedata.normalize("NFKC", name).split())


class Lander:
    """Lands the records of one delivery into its raw table and keeps the books."""

    def __init__(self, conn: Connection, spec: RawTable, delivery: Delivery,
                 max_field_chars: int = MAX_FIELD_CHARS):
        self.conn, self.spec, self.delivery = conn, spec, delivery
        self.max_field_chars = max_field_chars
        self.rows_read = self.rows_loaded = 0
        self.duplicates = 0
        # Seen rows of this delivery (64-bit digests): an exact repeat is set aside, counted.
        self._seen: dict[int, str] = {}
        self._dedupe_on: tuple[str, ...] | None = None  # upsert key; None: the whole row
        self._repeats: dict[str, str] | None = None  # row_ref of a repeat → of its first row
        self.quarantined: list[QuarantineRow] = []
        self._raw_columns = ["delivery", "row_ref", *spec.extra_raw_columns, *spec.columns, "extra"]
        self._known = set(spec.columns) | set(spec.extra_raw_columns)
        self._spelt = {_header_form(c): c for c in spec.columns}
        self.respelt: dict[str, str] = {}  # delivered header → contract column it was read as
        self._unknown: list[str] | None = None  # extra headers of the current file or sheet

    def check_header(self, header: list[str], where: str = "") -> None:
        """Reject the delivery when a required column is missing. A header cell that is a contract
        column in other widths or spacing (`月收入(元)` for `月收入（元）`) is renamed to it in place."""
        for i, h in enumerate(header):
            if h and h not in self._known and (name := self._spelt.get(_header_form(h))) and name not in header:
                log.warning("%s/%s: %scolumn %r read as contract column %s", self.spec.source,
                            self.delivery.name, where, h, name)
                self.respelt[h] = name
                header[i] = name
        missing = [c for c in self.spec.required if c not in header and c not in self.spec.key.split("-")]
        missing += [c for c in self.spec.key.split("-") if c not in header]
        self._unknown = [h for h in header if h and h not in self._known]
        # An optional contract column the file lacks loads as nulls, but never silently.
        self.missing_optional = sorted(
            set(getattr(self, "missing_optional", [])) | {c for c in self.spec.columns if c not in header}
            - set(missing) - set(self.spec.key.split("-")))
        if missing:
            raise DeliveryError(
                self.spec.source,
                self.delivery.name,
                f"{where}missing required column(s) {', '.join(sorted(set(missing)))}",
            )

    def quarantine(self, row_ref: str | None, column: str | None, reason: str, raw: object) -> None:
        """Set one record aside with why; it counts as read and quarantined."""
        content = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
        self.quarantined.append(
            QuarantineRow(self.spec.source, self.delivery.name, row_ref, column, reason, content)
        )

    def rows(self, records: Iterable[Record], extra_values: dict[str, str] | None = None) -> Iterator[list]:
        """Raw rows for COPY; malformed records are diverted to quarantine on the way."""
        known = self._known
        for rec in records:
            self.rows_read += 1
            if rec.error:
                self.quarantine(rec.row_ref, rec.error_column, rec.error, rec.raw_text or rec.values)
                continue
            bad = bad_value(rec.values, self.max_field_chars)
            if bad is not None:
                self.quarantine(rec.row_ref, bad[0], bad[1], _clipped(rec.values, self.max_field_chars))
                continue
            if _row_key(self.spec, rec.values) is None:
                self.quarantine(
                    rec.row_ref, self.spec.key, f"key {self.spec.key} is empty or unreadable", rec.values
                )
                continue
            values = {k: _cell(v) for k, v in rec.values.items()} if rec.typed else rec.values
            first = self._repeat_of(rec.row_ref, {**values, **(extra_values or {})})
            if first is not None:
                self.duplicates += 1
                self.quarantine(rec.row_ref, self.spec.key if self._dedupe_on else None,
                                f"duplicate of row {first} in the same delivery (de-duplicated)", rec.values)
                continue
            if extra_values:
                values = {**values, **extra_values}
            if rec.typed or self._unknown is None:
                # An unnamed column is kept where it holds a value (a sheet's formatted but
                # empty columns are no delivered values).
                extra = {k: v for k, v in values.items()
                         if k not in known and k and (v is not None or not k.startswith(UNNAMED))}
            else:
                extra = {k: values[k] for k in self._unknown if values.get(k) is not None}
            self.rows_loaded += 1
            yield [
                self.delivery.name,
                rec.row_ref,
                *[values.get(c) for c in self.spec.extra_raw_columns],
                *[values.get(c) for c in self.spec.columns],
                json.dumps(extra, ensure_ascii=False) if extra else None,
            ]

    def text_batches(self, header: list[str], chunks: Iterable[TextChunk]) -> Iterator[list]:
        """Raw rows for COPY of CSV text chunks, a batch per chunk: what rows() yields for
        their records, the per-row checks skipped where a chunk-wide screen clears them."""
        names = [h for h in header if h]
        key = self.spec.key
        if len(set(names)) != len(header) or key not in header or len(header) < 2:
            # Blank or repeated header names (a repeat keeps its last value): record by record.
            for chunk in chunks:
                yield list(self.rows(self._records(header, [chunk])))
            return
        ki = header.index(key)
        width = len(header)
        wanted = [*self.spec.extra_raw_columns, *self.spec.columns]
        pick = itemgetter(*[header.index(c) if c in header else width for c in wanted])
        padded = any(c not in header for c in wanted)
        order = sorted(range(width), key=lambda i: header[i])
        cols = tuple(header[i] for i in order)
        in_order = itemgetter(*order)
        unknown = [(h, header.index(h)) for h in self._unknown or ()]
        name = self.delivery.name
        dumps = json.dumps
        seen = self._seen
        for chunk in chunks:
            keys = [item[1][ki] for item in chunk.items] if chunk.clean else []
            if not (chunk.clean and all(map(str.strip, keys)) and not _UNREADABLE.search("".join(keys))):
                yield list(self.rows(self._records(header, [chunk])))
                continue
            out = []
            for ref, row in chunk.items:
                h = hash((cols, in_order(row)))
                first = seen.get(h)
                if first is not None:
                    self.duplicates += 1
                    self.quarantine(ref, None, f"duplicate of row {first} in the same delivery (de-duplicated)",
                                    _text_record(header, ref, row).values)
                    continue
                seen[h] = ref
                extra = {c: row[i] for c, i in unknown if row[i] != ""} if unknown else None
                out.append([name, ref, *pick(row + [""] if padded else row),
                            dumps(extra, ensure_ascii=False) if extra else None])
            self.rows_read += len(chunk.items)
            self.rows_loaded += len(out)
            yield out

    def arrow_batches(self, header: list[str], table) -> Iterator[list | bytes] | None:
        """What text_batches yields for a CSV file read by Arrow (columnar.read_plain_csv),
        a clean chunk as its COPY text; None for a header that text_batches takes record by
        record. The whole file's exact repeats are found at once (identical rows are all
        clean or all set aside, so a repeat's first row is the first identical one)."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        from connectors import columnar

        key = self.spec.key
        if len(set(filter(None, header))) != len(header) or key not in header or len(header) < 2:
            return None
        columns = [c.combine_chunks() for c in table.columns]
        lines = pa.array(np.arange(2, table.num_rows + 2))
        # Lines whose every field is blank are no records (read_csv_chunks skips them).
        blank_row = functools.reduce(pc.and_, map(columnar.blank, columns))
        if pc.any(blank_row).as_py():
            keep = pc.invert(blank_row)
            columns = [pc.filter(c, keep) for c in columns]
            lines = pc.filter(lines, keep)
        n = len(lines)
        joined = pc.binary_join_element_wise(*columns, "\x00")  # the file holds no NUL
        distinct = pc.unique(joined)
        repeat = np.zeros(n, dtype=bool)
        first_line = np.asarray(lines)
        if len(distinct) < n:
            codes = np.asarray(pc.index_in(joined, value_set=distinct))
            _, first_at = np.unique(codes, return_index=True)
            first_line = first_line[first_at[codes]]
            repeat = first_line != np.asarray(lines)
            self._repeats = {str(r): str(f) for r, f in zip(np.asarray(lines)[repeat], first_line[repeat], strict=True)}
        else:
            self._repeats = {}
        return self._arrow_chunks(header, columns, lines, repeat, first_line)

    def _arrow_chunks(self, header: list[str], columns: list, lines, repeat, first_line) -> Iterator[list | bytes]:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        from connectors import columnar

        ki = header.index(self.spec.key)
        wanted = [header.index(c) if c in header else None for c in (*self.spec.extra_raw_columns, *self.spec.columns)]
        unknown = [(h, header.index(h)) for h in self._unknown or ()]
        name, limit = self.delivery.name, self.max_field_chars
        dumps = json.dumps
        for start in range(0, len(lines), CSV_CHUNK):
            part = [c.slice(start, CSV_CHUNK) for c in columns]
            refs = pc.cast(lines.slice(start, CSV_CHUNK), pa.string())
            m = len(refs)
            keys = part[ki]
            if not (all(columnar.clean(c, limit) for c in part) and not pc.any(columnar.blank(keys)).as_py()
                    and columnar.keys_readable(keys)):
                rows = zip(*[c.to_pylist() for c in part], strict=True)
                items = [(ref, list(row)) for ref, row in zip(refs.to_pylist(), rows, strict=True)]
                yield list(self.rows(self._records(header, [TextChunk(items, False)])))
                continue
            dup = repeat[start:start + m]
            if dup.any():
                for j in np.flatnonzero(dup):
                    ref = refs[j].as_py()
                    self.duplicates += 1
                    self.quarantine(ref, None, f"duplicate of row {first_line[start + j]} in the same delivery "
                                    "(de-duplicated)", _text_record(header, ref, [c[j].as_py() for c in part]).values)
                keep = pa.array(~dup)
                part = [pc.filter(c, keep) for c in part]
                refs = pc.filter(refs, keep)
            k = len(refs)
            nulls = pa.nulls(k, pa.string())
            extra = nulls
            if unknown:
                extra = pa.array([dumps(e, ensure_ascii=False) if e else None for e in (
                    {c: v for (c, _), v in zip(unknown, vals, strict=True) if v != ""}
                    for vals in zip(*[part[i].to_pylist() for _, i in unknown], strict=True))], pa.string())
            out = [pa.repeat(pa.scalar(name, pa.string()), k), refs,
                   *[nulls if i is None else pc.if_else(pc.equal(part[i], ""), pa.scalar(None, pa.string()), part[i])
                     for i in wanted], extra]
            self.rows_read += m
            self.rows_loaded += k
            yield columnar.csv_bytes(out)

    @staticmethod
    def _records(header: list[str], chunks: Iterable[TextChunk]) -> Iterator[Record]:
        for chunk in chunks:
            for item in chunk.items:
                yield item if isinstance(item, Record) else _text_record(header, *item)

    def _repeat_of(self, row_ref: str, values: dict[str, object]) -> str | None:
        """The row this record repeats exactly (by upsert key for pulled windows), if any."""
        if self._dedupe_on == ():
            return None
        if self._repeats is not None:  # found beforehand, column by column (arrow_batches)
            return self._repeats.get(row_ref)
        if self._dedupe_on:
            h = hash(json.dumps([values.get(c) for c in self._dedupe_on], ensure_ascii=False, default=str))
        else:
            # Files: a missing value is None here and "" in the text fast path: one spelling.
            cols = tuple(sorted(k for k in values if k))
            h = hash((cols, tuple("" if (v := values.get(c)) is None else v for c in cols)))
        return self._seen_first(h, row_ref)

    def _seen_first(self, h: int, row_ref: str) -> str | None:
        # 64-bit digests (Python's hash of the values, fixed within a process): no copy of
        # the rows is kept, and a false match is as unlikely as with a 64-bit blake2b.
        first = self._seen.get(h)
        if first is None:
            self._seen[h] = row_ref
        return first

    def copy(self, records: Iterable[Record], extra_values: dict[str, str] | None = None) -> None:
        """Append records to the raw table (file deliveries: each row lands once)."""
        copy_rows(self.conn, f"raw.{self.spec.table}", self._raw_columns, self.rows(records, extra_values))

    def upsert(self, records: Iterable[Record], key: list[str], newer_than: str | None = None) -> None:
        """Insert-or-replace by key (pulled windows may repeat rows: a repeat within the
        window is counted and set aside, so rows_loaded is what raw holds)."""
        # A source database's key is unique per window: no need to remember its rows.
        self._dedupe_on = tuple(key) if self.spec.fmt == "api" else ()
        upsert_rows(
            self.conn, f"raw.{self.spec.table}", self._raw_columns, self.rows(records), key,
            newer_than=newer_than,
        )

    def finish(self, sha: str | None, status: str = "loaded") -> LoadResult:
        """Write quarantine rows and the audit row; return the reconciliation."""
        write_quarantine(self.conn, self.quarantined)
        n_q = len(self.quarantined)
        write_audit(
            self.conn, self.spec.source, self.delivery.name, self.spec.table, sha,
            self.rows_read, self.rows_loaded, n_q, status,
            {k: v for k, v in (("duplicates", self.duplicates),
                               ("missing_columns", getattr(self, "missing_optional", None)),
                               ("respelt_columns", self.respelt)) if v} or None,
        )
        if getattr(self, "missing_optional", None):
            log.warning("%s/%s: contract column(s) missing, loaded as empty: %s", self.spec.source,
                        self.delivery.name, ", ".join(self.missing_optional))
        if n_q:
            log.warning(
                "%s/%s: %d row(s) quarantined, first: %s", self.spec.source, self.delivery.name,
                n_q, mask_text(self.quarantined[0].reason),
            )
        return LoadResult(
            self.spec.source, self.delivery.name, status, self.rows_read, self.rows_loaded, n_q,
            problems=[f"row {q.row_ref}: {q.reason}" for q in self.quarantined[:5]]
            + ([f"missing column(s) {', '.join(self.missing_optional)}"]
               if getattr(self, "missing_optional", None) else []),
        )


def write_quarantine(conn: Connection, rows: list[QuarantineRow]) -> None:
    """Append quarantine rows to ``ops.quarantine``."""
    if rows:
        copy_rows(
            conn, "ops.quarantine",
            ["source", "delivery", "row_ref", "column_name", "reason", "raw_content"], rows,
        )


def write_audit(
    conn: Connection, source: str, delivery: str, raw_table: str | None, sha: str | None,
    read: int, loaded: int, quarantined: int, status: str, quality: dict | None = None,
) -> None:
    """One ops.load_audit row; the reconciliation identity is enforced here."""
    if read != loaded + quarantined:
        raise AssertionError(
            f"{source}/{delivery}: rows_read {read} != loaded {loaded} + quarantined {quarantined}"
        )
    conn.execute(
        sa.text(
            "insert into ops.load_audit (source, delivery, raw_table, content_sha256, rows_read, "
            "rows_loaded, rows_quarantined, status, quality) "
            "values (:s, :d, :t, :h, :r, :l, :q, :st, cast(:qa as jsonb))"
        ),
        {
            "s": source, "d": delivery, "t": raw_table, "h": sha, "r": read, "l": loaded,
            "q": quarantined, "st": status, "qa": json.dumps(quality) if quality else None,
        },
    )


def load_file_delivery(
    engine: Engine,
    spec: RawTable,
    delivery: Delivery,
    land: Callable[[Lander], None],
    max_field_chars: int = MAX_FIELD_CHARS,
) -> LoadResult:
    """Load one file delivery once: skip a known identical file, reject an unreadable one.

    A delivery rejected whole is tried again when different bytes appear under its name
    (the corrected redelivery); one that loaded keeps its rows, and different bytes under
    its name are refused: replacing it is the operator's explicit `quotalink deliveries
    replace`.
    """
    sha = delivery.sha256()
    with engine.begin() as conn:
        # The delivery's lock and the savepoint a rejection rolls back to, in one round trip
        # (per-file overhead is most of the cost of a small delivery); the savepoint is
        # never released: the commit keeps what it holds.
        conn.exec_driver_sql("select pg_advisory_xact_lock(hashtext(%(k)s)); SAVEPOINT ql_delivery",
                             {"k": f"{spec.source}/{delivery.name}"})
        state = audit_state(conn, spec.source, delivery.name)
        if state is not None:
            if state["content_sha256"] == sha:
                return LoadResult(spec.source, delivery.name, "skipped")
            loaded = loaded_version(conn, spec.source, delivery.name)
            if loaded is not None:
                if loaded["content_sha256"] == sha:
                    return LoadResult(spec.source, delivery.name, "skipped")  # original restored
                reason = (
                    "a delivery of this name was already loaded with different content (files are "
                    f"never rewritten; to correct it: quotalink deliveries replace {spec.source} "
                    f"{delivery.name} --reason TEXT)"
                )
                return _reject(conn, spec, delivery, sha, reason, count_rows(spec, delivery))
            log.warning("%s/%s: a new version of a rejected delivery; loading it", spec.source, delivery.name)
        lander = Lander(conn, spec, delivery, max_field_chars)
        try:
            land(lander)
        except DeliveryError as exc:
            conn.exec_driver_sql("ROLLBACK TO SAVEPOINT ql_delivery")
            return _reject(conn, spec, delivery, sha, exc.reason, max(lander.rows_read, count_rows(spec, delivery)))
        return lander.finish(sha)


def loaded_version(conn: Connection, source: str, delivery: str) -> dict | None:
    """The audit row of the version of a delivery whose rows raw holds, if any."""
    row = conn.execute(
        sa.text(
            "select load_id, content_sha256, rows_read, rows_loaded, rows_quarantined, loaded_at "
            "from ops.load_audit where source = :s and delivery = :d and status = 'loaded' "
            "order by load_id desc limit 1"
        ),
        {"s": source, "d": delivery},
    ).mappings().first()
    return dict(row) if row else None


def count_rows(spec: RawTable, delivery: Delivery) -> int:
    """Records a delivery holds as delivered, counted leniently (what a rejection loses)."""
    path = delivery.path
    if path is None or not path.exists():
        return 0
    try:
        if spec.fmt == "xlsx":
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                n = 0
                keys = set(spec.key.split("-"))
                for ws in wb.worksheets:
                    _trust_no_dimension(ws)
                    rows = [r for r in ws.iter_rows(values_only=True) if any(c is not None for c in r)]
                    header_at = next((i for i, r in enumerate(rows[:10])
                                      if keys & {str(c).strip() for c in r if c}), None)
                    body = rows[header_at + 1:] if header_at is not None else rows[1:]
                    names = [str(c).strip() if c is not None else "" for c in rows[header_at]] \
                        if header_at is not None else []
                    n += sum(1 for r in body if not is_total_row(list(r), names, keys))
                return n
            finally:
                wb.close()
        csv.field_size_limit(2**31 - 1)
        with path.open("r", encoding=spec.encoding or "utf-8", errors="replace", newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            return sum(1 for row in reader if any(c.strip() for c in row))
    except Exception:  # a damaged file: what cannot be counted is reported as 0
        log.debug("%s/%s: rows could not be counted", spec.source, delivery.name, exc_info=True)
        return 0


def _reject(conn: Connection, spec: RawTable, delivery: Delivery, sha: str | None, reason: str, rows_read: int) -> LoadResult:
    """Quarantine a whole delivery: one quarantine row naming the reason and the rows it held."""
    log.error("%s/%s rejected (%d rows): %s", spec.source, delivery.name, rows_read, reason)
    write_quarantine(conn, [(spec.source, delivery.name, None, None, f"delivery rejected: {reason}", str(delivery.path or delivery.name))])
    write_audit(conn, spec.source, delivery.name, spec.table, sha, rows_read, 0, rows_read, "rejected", {"reason": reason})
    return LoadResult(spec.source, delivery.name, "rejected", rows_read, 0, rows_read, reason=reason)


def replace_delivery(
    engine: Engine,
    spec: RawTable,
    delivery: Delivery,
    land: Callable[[Lander], None],
    reason: str,
    max_field_chars: int = MAX_FIELD_CHARS,
) -> LoadResult:
    """Replace a loaded delivery by the file now under its name, in one transaction.

    The earlier version's raw rows go, its audit row becomes 'superseded' (kept, naming its
    successor and the reason); the source's staging rows and staging ledger are cleared so
    the next run restages every delivery in period order, the new version included.
    """
    from warehouse.schema import metadata

    if not reason.strip():
        raise DeliveryError(spec.source, delivery.name, "a replacement needs a reason")
    sha = delivery.sha256()
    with engine.begin() as conn:
        conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": f"{spec.source}/{delivery.name}"})
        old = loaded_version(conn, spec.source, delivery.name)
        if old is None:
            raise DeliveryError(spec.source, delivery.name, "no loaded version to replace (a rejected "
                                "delivery is tried again by a plain run once its file changes)")
        if old["content_sha256"] == sha:
            raise DeliveryError(spec.source, delivery.name, "the file under this name is the loaded "
                                "version: nothing to replace")
        deliveries = conn.execute(sa.text(
            "select distinct delivery from ops.load_audit where raw_table = :t"), {"t": spec.table}).scalars().all()
        for name in spec.stages:
            table = metadata.tables[name]
            if "delivery" not in table.c:
                continue
            where = "delivery = any(:ds)" + (" and source = :s" if "source" in table.c else "")
            schema, tname = name.split(".")
            conn.execute(sa.text(f'delete from {schema}."{tname}" where {where}'),
                         {"ds": list(deliveries), "s": spec.source})
        conn.execute(sa.text("delete from ops.stage_audit where raw_table = :t"), {"t": spec.table})
        conn.execute(sa.text(f'delete from raw."{spec.table}" where delivery = :d'), {"d": delivery.name})
        lander = Lander(conn, spec, delivery, max_field_chars)
        land(lander)  # a DeliveryError rolls the whole replacement back
        result = lander.finish(sha)
        new_id = conn.execute(sa.text(
            "select max(load_id) from ops.load_audit where source = :s and delivery = :d"),
            {"s": spec.source, "d": delivery.name}).scalar()
        conn.execute(sa.text(
            "update ops.load_audit set status = 'superseded', quality = coalesce(quality, '{}'::jsonb) "
            "|| jsonb_build_object('superseded_by', cast(:n as bigint), 'reason', cast(:r as text)) "
            "where load_id = :o"), {"n": new_id, "r": reason, "o": old["load_id"]})
        conn.execute(sa.text(
            "update ops.load_audit set quality = coalesce(quality, '{}'::jsonb) "
            "|| jsonb_build_object('replaces', cast(:o as bigint), 'reason', cast(:r as text)) "
            "where load_id = :n"), {"n": new_id, "r": reason, "o": old["load_id"]})
    log.warning("%s/%s replaced (load %s → %s): %s", spec.source, delivery.name, old["load_id"], new_id, reason)
    return result


def land_csv(spec: RawTable) -> Callable[[Lander], None]:
    """The landing function for a CSV source of the given contract."""
    encoding = spec.encoding or "utf-8"

    def land(lander: Lander) -> None:
        path = lander.delivery.path
        try:
            header = csv_header(path, encoding)
            lander.check_header(header)
            batches = _arrow_csv_batches(lander, header, encoding)
            if batches is None:
                _, chunks = read_csv_chunks(path, encoding, lander.max_field_chars)
                batches = lander.text_batches(header, chunks)  # the header as checked (respelt)
            copy_batches(lander.conn, f"raw.{spec.table}", lander._raw_columns, batches)
        except DeliveryError as exc:
            raise DeliveryError(spec.source, lander.delivery.name, exc.reason) from None

    return land


def _arrow_csv_batches(lander: Lander, header: list[str], encoding: str) -> Iterator | None:
    """Lander.arrow_batches of a UTF-8 file Arrow reads as the per-row reader would, else None.

    Arrow reads only UTF-8; a GB18030 delivery, or a file with quotes, bare CRs, NULs, a line
    of another field count or a byte that does not decode, goes through read_csv_chunks.
    """
    import codecs

    if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig"):
        return None
    try:
        from connectors import columnar
    except ImportError:  # pyarrow absent: the per-row reader
        return None
    table = columnar.read_plain_csv(lander.delivery.path, len(header))
    return None if table is None else lander.arrow_batches(header, table)


def land_xlsx(spec: RawTable, sheet_column: str | None = None) -> Callable[[Lander], None]:
    """The landing function for an XLSX source (header row found by its key column)."""

    def land(lander: Lander) -> None:
        key_cols = spec.key.split("-")
        try:
            any_sheet = False
            for title, header, records in read_xlsx(lander.delivery.path, key_cols):
                if header is None:
                    # Excel's default Sheet2/Sheet3 left empty, a template's hidden lists: nothing
                    # was delivered there. A visible filled sheet without the header still rejects
                    # the workbook (its rows would be lost).
                    log.warning("%s/%s: sheet %s is empty or hidden without the header, skipped",
                                spec.source, lander.delivery.name, title)
                    continue
                if not header:
                    raise DeliveryError(spec.source, lander.delivery.name, f"sheet {title}: no header row with {spec.key}")
                lander.check_header(header, where=f"sheet {title}: ")
                any_sheet = True
                lander.copy(records, {sheet_column: title} if sheet_column else None)
        except DeliveryError as exc:
            raise DeliveryError(spec.source, lander.delivery.name, exc.reason) from None
        if not any_sheet:
            raise DeliveryError(spec.source, lander.delivery.name, "workbook has no sheets")

    return land
