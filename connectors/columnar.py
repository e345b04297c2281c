"""Arrow helpers of the columnar landing paths: what the per-row code decides, column by column."""

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

# Python's whitespace (str.isspace, str.strip; a test holds them equal), spelt for RE2: a
# blank text is None in raw.
SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACE = "".join(f"\\x{{{ord(c):x}}}" for c in SPACE)
_BLANK = f"^[{_SPACE}]*$"
# What clean_texts looks for (surrogates aside: Arrow text is valid UTF-8, it holds none).
_SUSPECT = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"
# What a key may not hold (base._UNREADABLE).
_UNREADABLE = "[\\x00-\\x1f\\x{fffd}]"
# A canonical timestamp text: hr._render_ts gives it back as it is.
_CANONICAL_TS = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"


def blank(texts: pa.Array) -> pa.Array:
    """True where a text is empty or Python whitespace only (null where it is null)."""
    return pc.match_substring_regex(texts, _BLANK)


def blank_to_null(texts: pa.Array) -> pa.Array:
    """The texts with every blank one null, as hr._render and the CSV reader's '' → None."""
    mask = blank(texts)
    if not pc.any(mask).as_py():
        return texts
    return pc.if_else(mask, pa.scalar(None, pa.string()), texts)


def clean(texts: pa.Array, max_chars: int) -> bool:
    """base.clean_texts over the non-null texts of one column."""
    if texts.null_count == len(texts):
        return True
    longest = pc.max(pc.utf8_length(texts)).as_py()
    return longest <= max_chars and not pc.any(pc.match_substring_regex(texts, _SUSPECT)).as_py()


def keys_readable(keys: pa.Array) -> bool:
    """No key is null, and none holds what base._UNREADABLE refuses."""
    return keys.null_count == 0 and not pc.any(pc.match_substring_regex(keys, _UNREADABLE)).as_py()


def canonical_timestamps(texts: pa.Array) -> bool:
    """Every non-null text is 'YYYY-MM-DD HH:MM:SS' (ASCII digits)."""
    if texts.null_count == len(texts):
        return True
    return pc.all(pc.match_substring_regex(texts, _CANONICAL_TS)).as_py()


def whole_doubles_as_text(values: pa.Array) -> pa.Array | None:
    """Doubles as hr._render writes them when every one is whole and exact in int64
    (str(int(v))); None when one is not, and the per-value rendering must decide."""
    finite = pc.drop_null(values)
    if len(finite) and not (pc.all(pc.equal(pc.floor(finite), finite)).as_py()
                            and pc.max(pc.abs(finite)).as_py() < 2**53):
        return None
    return pc.cast(pc.cast(values, pa.int64()), pa.string())


def csv_bytes(columns: list[pa.Array]) -> bytes:
    """COPY text (FORMAT csv) of the columns: nulls as empty unquoted fields (NULL), text quoted."""
    table = pa.table(columns, names=[f"c{i}" for i in range(len(columns))])
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
    return buf.getvalue()


def read_plain_csv(path: Path, width: int) -> pa.Table | None:
    """The body of a UTF-8 CSV file without quotes, bare CRs or NULs whose every line is one
    row of `width` fields, as text columns ('' kept; an empty line is a row of ''), so that
    row i stands on line i + 2; None when the file is anything else (the per-row reader
    decides then, as it always did)."""
    data = path.read_bytes()
    if b'"' in data or b"\x00" in data or data.count(b"\r") != data.count(b"\r\n"):
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=[f"c{i}" for i in range(width)]),
            parse_options=pacsv.ParseOptions(quote_char=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys((f"c{i}" for i in range(width)), pa.string()),
                strings_can_be_null=False, null_values=[]),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):  # a field count or byte the reader names
        return None
    if table.num_rows != lines - 1:
        return None
    return table
