"""Unit tests of the parsing helpers staging uses: dates, levels, categories."""

import datetime as dt

import pytest

from quotalink.standardise import parse_category, parse_date, parse_level

D = dt.date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2023-05-01", D(2023, 5, 1)),
        ("2023/5/1", D(2023, 5, 1)),
        ("2023/05/01", D(2023, 5, 1)),
        ("2023年5月", D(2023, 5, 1)),
        ("2023年5月12日", D(2023, 5, 12)),
        ("20230501", D(2023, 5, 1)),
        (20230501, D(2023, 5, 1)),
        ("2023.05", D(2023, 5, 1)),
        ("2023-05", D(2023, 5, 1)),
        ("202305", D(2023, 5, 1)),
        ("2024-04-11 09:30:12", D(2024, 4, 11)),
        ("2025-04-11T09:30:12", D(2024 + 1, 4, 11)),
        ("２０２３－０５－０１", D(2023, 5, 1)),
        (45000, D(2023, 3, 15)),
        (45000.5, D(2023, 3, 15)),
        ("45000", D(2023, 3, 15)),
        (dt.datetime(2023, 5, 1, 12, 0), D(2023, 5, 1)),
        (D(2023, 5, 1), D(2023, 5, 1)),
        ("2023-02-30", None),
        ("2023-13", None),
        ("长期", None),
        ("", None),
        (None, None),
        (float("nan"), None),
        (-5, None),
        (True, None),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


def test_parse_date_with_explicit_formats_is_strict():
    assert parse_date("2023-05-01", formats=("%Y-%m-%d",)) == D(2023, 5, 1)
    assert parse_date("2023/5/1", formats=("%Y-%m-%d",)) is None
    assert parse_date("20230501", formats=("%Y%m%d",)) == D(2023, 5, 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("一级", 1), ("二级", 2), ("三级", 3), ("四级", 4), ("1", 1), (4, 4), (2.0, 2), ("2级", 2),
     (" 三级 ", 3), ("五级", None), ("5", None), (0, None), ("", None), (None, None), ("x", None)],
)
def test_parse_level(raw, expected):
    assert parse_level(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("视力", 1), ("听力", 2), ("言语", 3), ("肢体", 4), ("智力", 5), ("精神", 6), ("多重", 7),
     ("肢体残疾", 4), ("7", 7), (3, 3), ("8", None), ("其他", None), (None, None)],
)
def test_parse_category(raw, expected):
    assert parse_category(raw) == expected


class _Broken:
    """A value whose text conversion hits a bug (not a malformed value)."""

    def __str__(self) -> str:
        raise RuntimeError("bug in a value's __str__")


def test_malformed_values_give_none_but_bugs_propagate():
    from quotalink.standardise import normalise_name, normalise_phone

    # Malformed data is an answer (None, counted as unparsed by staging) ...
    assert parse_date("2023-13-45") is None
    assert parse_date(10**400) is None
    assert parse_level("九级") is None
    assert normalise_phone("电话未知") is None
    # ... a bug is not: it reaches the run instead of becoming an "unparsed" count.
    for fn in (parse_date, parse_level, parse_category, normalise_name, normalise_phone):
        with pytest.raises(RuntimeError, match="bug in a value"):
            fn(_Broken())
