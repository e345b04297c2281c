"""The columnar landing paths land what the per-row paths land: raw rows, quarantine, audit, watermark."""

import sqlite3
import sys

import pytest
import sqlalchemy as sa

from connectors import base, columnar, hr
from connectors.registry import SOURCE_OBJECTS
from quotalink.contracts import DISABILITY_REGISTRY
from quotalink.settings import get_settings
from tests.faults.conftest import reset_source

WINDOW_TIME = r"\.\.[0-9T:.+-]+$"  # the pull time ending an HR window's name


def test_space_is_pythons_whitespace():
    assert columnar.SPACE == "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


def _landed(engine, source: str) -> dict:
    """Everything landing wrote for a source, window names without their pull time."""
    with engine.connect() as conn:
        tables = {}
        for spec in base_tables(source):
            cols = conn.execute(sa.text(
                "select column_name from information_schema.columns where table_schema = 'raw' "
                "and table_name = :t and column_name not in ('loaded_at', 'delivery') order by 1"),
                {"t": spec}).scalars().all()
            tables[spec] = sorted(map(tuple, conn.execute(sa.text(
                f'select {", ".join(chr(34) + c + chr(34) for c in cols)}, '
                f"regexp_replace(delivery, '{WINDOW_TIME}', '') from raw.\"{spec}\"")).all()), key=repr)
        return {
            **tables,
            "quarantine": conn.execute(sa.text(
                f"select regexp_replace(delivery, '{WINDOW_TIME}', ''), row_ref, column_name, reason, raw_content "
                "from ops.quarantine where source = :s order by quarantine_id"), {"s": source}).all(),
            "audit": conn.execute(sa.text(
                f"select regexp_replace(delivery, '{WINDOW_TIME}', ''), content_sha256, rows_read, rows_loaded, "
                "rows_quarantined, status, quality::text from ops.load_audit where source = :s order by load_id"),
                {"s": source}).all(),
            "watermark": conn.execute(sa.text("select stream, value from ops.watermark where source = :s "
                                              "order by stream"), {"s": source}).all(),
        }


def base_tables(source: str) -> list[str]:
    from connectors.registry import raw_tables

    return [t.table for t in raw_tables(source)]


def _both_ways(engine, monkeypatch, source: str, load, per_row: tuple[object, str]) -> tuple[dict, dict]:
    """What loading gives with the columnar path, and with it switched off (per_row: the
    module and name of the function that opens it, patched to say no)."""
    load()
    columnar_way = _landed(engine, source)
    reset_source(engine, source)
    with monkeypatch.context() as m:
        m.setattr(*per_row, lambda *a, **k: None)
        load()
    return columnar_way, _landed(engine, source)


def _registry_csv(rows: list[list[str]], header: list[str] | None = None, end: str = "\r\n") -> bytes:
    header = header or list(DISABILITY_REGISTRY.columns)
    return ("\ufeff" + "\r\n".join(",".join(r) for r in [header, *rows]) + end).encode("utf-8")


def _row(i: int, **values: str) -> list[str]:
    row = dict.fromkeys(DISABILITY_REGISTRY.columns, "")
    row.update({"残疾人证号": f"3701{i:016d}", "姓名": f"张{i}", "公民身份号码": f"37010119800101{i:04d}",
                "残疾类别": "肢体", "残疾等级": "二级", "证件状态": "正常", "更新时间": "2026-09-01 10:00:00"})
    row.update(values)
    return list(row.values())


def test_registry_files_land_the_same_columnar_and_row_by_row(warehouse, sources_dir, monkeypatch):
    monkeypatch.setattr(base, "CSV_CHUNK", 4)  # chunks of 4 rows: bad rows in some, repeats across
    folder = sources_dir / "disability_registry"
    folder.mkdir()
    plain = [_row(i) for i in range(10)]
    files = {
        "202601": plain,
        "202602": [*plain[:3], _row(90, 姓名="王\x07伟"), _row(91, 残疾人证号=""), _row(92, 残疾人证号="\u3000"),
                   plain[1], _row(93, 姓名="x" * 40), plain[3], _row(94, 残疾人证号="37\ufffd1"), plain[1],
                   _row(95, 现居住地址="  "), _row(96, 注销原因="\u3000"), [""] * 17, [" "] * 17, *plain[4:]],
        "202603": [*plain, plain[9], plain[0]],
    }
    for period, rows in files.items():
        (folder / f"cjrxx_{period}.csv").write_bytes(_registry_csv(rows))
    # An empty line, no final line break; an extra column; an optional column missing.
    (folder / "cjrxx_202604.csv").write_bytes(_registry_csv(plain[:3], end="").replace(b"\r\n", b"\r\n\r\n", 2))
    header = [*DISABILITY_REGISTRY.columns, "备注"]
    (folder / "cjrxx_202605.csv").write_bytes(_registry_csv([r + (["补录"] if i % 2 else [""])
                                                             for i, r in enumerate(plain)], header))
    (folder / "cjrxx_202606.csv").write_bytes(_registry_csv([r[:-1] for r in plain], header[:-2]))
    # Files the per-row reader reads: quotes, a NUL, a short row, a byte that is not UTF-8.
    (folder / "cjrxx_202607.csv").write_bytes(_registry_csv([*plain[:2], _row(97, 现居住地址='"东路, 1号"')]))
    (folder / "cjrxx_202608.csv").write_bytes(_registry_csv([*plain[:2], _row(98, 姓名="王\x00伟")]))
    (folder / "cjrxx_202609.csv").write_bytes(_registry_csv([*plain[:2], _row(99)[:5]]))
    (folder / "cjrxx_202610.csv").write_bytes(_registry_csv(plain[:3]).replace("张1".encode(), b"\xff\xfe"))
    for path in list(folder.iterdir()):
        (folder / (path.name + ".ok")).write_bytes(b"")
    monkeypatch.setenv("QUOTALINK_MAX_FIELD_CHARS", "32")
    get_settings.cache_clear()
    columnar_files = []
    arrow_batches = base.Lander.arrow_batches

    def spy(self, header, table):
        columnar_files.append(self.delivery.name)
        return arrow_batches(self, header, table)

    monkeypatch.setattr(base.Lander, "arrow_batches", spy)
    settings = get_settings()
    got, expected = _both_ways(warehouse, monkeypatch, "disability_registry",
                               lambda: SOURCE_OBJECTS["disability_registry"].load(warehouse, settings),
                               (base, "_arrow_csv_batches"))
    assert sorted(set(columnar_files)) == [f"cjrxx_2026{m:02d}.csv" for m in range(1, 7)]
    assert got == expected
    reasons = " ".join(q.reason for q in got["quarantine"])
    for words in ("U+0007", "above the limit", "is empty or unreadable", "duplicate of row 3", "NUL",
                  "has 5 fields", "invalid byte sequence"):
        assert words in reasons
    assert all(r[2] == r[3] + r[4] for r in got["audit"])


def _hr_db(path, ac08_rows: list[tuple], ac08_columns: str = "") -> str:
    with sqlite3.connect(path) as db:
        db.execute("create table ab01 (aab001 varchar(20), aab003 varchar(20), aab004 varchar(200), "
                   "aab019 varchar(2), aab301 varchar(6), aae036 timestamp)")
        db.execute("create table ac01 (aac001 varchar(20), aac002 varchar(18), aac003 varchar(50), "
                   "aac004 varchar(1), aac006 integer, aae005 varchar(20), aae036 timestamp)")
        db.execute("create table ac08 (aaz223 bigint, aac001 varchar(20), aab001 varchar(20), aae002 integer, "
                   f"aae140 varchar(3), aac040 numeric(12,2), aae078 varchar(1), aae036 timestamp{ac08_columns})")
        db.executemany("insert into ab01 values (?, ?, ?, ?, ?, ?)", [
            ("E1", "91370100MA3C5XXX1K", "济南某公司", "10", "370100", "2026-01-01 08:00:00"),
            ("E2", None, "  ", "30", "", "2026-01-02T08:00:00"),
            ("E3", "", "公司\x00", "10", "370100", "2026-01-03 08:00:00.250000")])
        db.executemany("insert into ac01 values (?, ?, ?, ?, ?, ?, ?)", [
            ("P1", "370101198001010011", "王伟", "1", 19800101, "13500000000", "2026-01-01 08:00:00"),
            ("P2", "370101198001010022", "\u3000", "2", None, None, "2026-01-05 08:00:00")])
        width = 8 + ac08_columns.count(",")
        db.executemany(f"insert into ac08 values ({', '.join('?' * width)})", ac08_rows)
    return f"sqlite:///{path}"


def _ac08(i: int, **values) -> tuple:
    row = {"aaz223": i, "aac001": f"P{i % 2 + 1}", "aab001": "E1", "aae002": 202601 + i % 12, "aae140": "110",
           "aac040": 6120 + i, "aae078": "1", "aae036": f"2026-02-{i % 28 + 1:02d} 10:00:00"}
    row.update(values)
    return tuple(row.values())


HR_CASES = {
    "plain": ([_ac08(i) for i in range(1, 12)], ""),
    "bad rows in some batches": ([*(_ac08(i) for i in range(1, 6)), _ac08(6, aae140="1\x0710"),
                                  _ac08(7, aaz223=None), _ac08(8, aac001="x" * 40_000), _ac08(9, aae036="2026-02-30 25:00"),
                                  _ac08(10, aae036=None), _ac08(11, aae036="2026-03-01T09:00:00")], ""),
    "fractions and a column of nulls": ([_ac08(i, aac040=6120.5 + i, aae078=None) for i in range(1, 8)], ""),
    "two storage classes in a column": ([*(_ac08(i) for i in range(1, 6)), _ac08(6, aac040="六千")], ""),
    "an extra column": ([(*_ac08(i), f"备注{i}") for i in range(1, 6)], ", aae013 varchar(50)"),
}


@pytest.mark.parametrize("case", HR_CASES)
def test_hr_first_pull_lands_the_same_columnar_and_row_by_row(warehouse, tmp_path, monkeypatch, case):
    rows, extra = HR_CASES[case]
    url = _hr_db(tmp_path / "hr.db", rows, extra)
    columnar_tables = []
    arrow = hr._Window.arrow_raw_batches

    def spy(self, batches, columns, lander):
        columnar_tables.append(self.spec.table)
        return arrow(self, batches, columns, lander)

    monkeypatch.setattr(hr._Window, "arrow_raw_batches", spy)
    got, expected = _both_ways(warehouse, monkeypatch, "hr", lambda: hr.load_url(warehouse, url, chunk=3),
                               (hr, "_arrow_batches"))
    assert set(columnar_tables) == {"hr_ab01", "hr_ac01", "hr_ac08"}
    assert got == expected
    assert got["hr_ac08"] and all(r[2] == r[3] + r[4] for r in got["audit"])
    if case == "bad rows in some batches":
        assert len(got["quarantine"]) >= 3
