"""File-drop faults, one delivery each, in one warehouse: what loads, what is set aside, and how."""

import logging

import sqlalchemy as sa

from connectors.registry import SOURCE_OBJECTS
from orchestration.cli import main
from quotalink.settings import get_settings
from tests.faults.conftest import audit, quarantined

ENC = "gb18030"


def _lines(province) -> list[str]:
    return (province / "org" / "jgry_2024.csv").read_bytes().decode(ENC).splitlines()


def _csv(lines: list[str], encoding: str = ENC) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def _drop(folder, name: str, content: bytes, marker: bool = True) -> None:
    (folder / name).write_bytes(content)
    if marker:
        (folder / (name + ".ok")).write_bytes(b"")


def _set(line: str, col: int, value: str) -> str:
    cells = line.split(",")
    cells[col] = value
    return ",".join(cells)


def _raw_keys(engine, delivery: str) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.text('select "人员编号" from raw.org where delivery = :d'),
                                   {"d": delivery}).scalars())


def test_file_faults_each_cost_only_their_rows(warehouse, sources_dir, province, caplog):
    folder = sources_dir / "org"
    folder.mkdir()
    lines = _lines(province)
    header, rows = lines[0], lines[1:]
    keys = sorted(r.split(",")[0] for r in rows)
    n = len(rows)
    name_col = header.split(",").index("姓名")
    birth_col = header.split(",").index("出生日期")
    post_col = header.split(",").index("职务职级")

    def without(col: int) -> list[str]:
        return [",".join(c for i, c in enumerate(line.split(",")) if i != col) for line in lines]

    # (file, bytes, status, [(row_ref, column)] quarantined, words in the reason)
    row_faults = {
        "jgry_2001.csv": (_csv(lines), []),
        "jgry_2002.csv": (_csv([header, _set(rows[0], name_col, "王\x00伟"), *rows[1:]]), [("2", "姓名")]),
        "jgry_2003.csv": (_csv([header, _set(rows[1], name_col, "x" * 40_000), *rows[:1], *rows[2:]]),
                          [("2", "姓名")]),
        "jgry_2004.csv": (_csv([header, _set(rows[2], name_col, "李\x07强"), *rows[:2], *rows[3:]]), [("2", "姓名")]),
        "jgry_2005.csv": (_csv([header, _set(rows[0], 0, ""), *rows[1:]]), [("2", "人员编号")]),
        "jgry_2006.csv": (_csv([header, *rows, rows[-1]]), [(str(n + 2), None)]),  # repeated row
        "jgry_2007.csv": (_csv([header, *rows[:-1], rows[-1][: len(rows[-1]) // 3]]),
                          [(str(n + 1), None)]),  # truncated in its last row
    }
    invalid = bytearray(_csv(lines))
    at = invalid.index(rows[0].split(",")[name_col].encode(ENC))
    invalid[at:at + 2] = b"\xff\xff"  # one name: a byte sequence GB18030 does not have
    row_faults["jgry_2008.csv"] = (bytes(invalid), [("2", "姓名")])
    for name, (content, _) in row_faults.items():
        _drop(folder, name, content)
    # Whole-file faults, and files that load with warnings.
    _drop(folder, "jgry_2010.csv", _csv(lines, "utf-8"))  # wrong encoding
    _drop(folder, "jgry_2011.csv", _csv(without(name_col)))  # a required column missing
    _drop(folder, "jgry_2012.csv", _csv(without(post_col)))  # an optional column missing
    _drop(folder, "jgry_2013.csv", _csv([header + ",备注", *(r + ",补录" for r in rows)]))  # extra column
    _drop(folder, "jgry_2014.csv", _csv([header, _set(rows[0], birth_col, "1981-13-45"), *rows[1:]]))
    _drop(folder, "jgry_2015.csv", _csv(lines), marker=False)  # still being written

    settings = get_settings()
    with caplog.at_level(logging.WARNING):
        results = {r.delivery: r for r in SOURCE_OBJECTS["org"].load(warehouse, settings)}
    assert "jgry_2015.csv" not in results and "org/jgry_2015.csv: no .ok marker yet" in caplog.text
    for name, (_, bad) in row_faults.items():
        r = results[name]
        assert r.status == "loaded", (name, r)
        assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (n + (name == "jgry_2006.csv"),
                                                                    n - len(bad) + (name == "jgry_2006.csv"),
                                                                    len(bad)), name
        assert [(q["row_ref"], q["column_name"]) for q in quarantined(warehouse, "org", name)] == bad, name
        # Nothing else of the delivery is lost: raw holds every other row once.
        expected = sorted(set(keys) - ({rows[0].split(",")[0]} if name == "jgry_2005.csv" else set()))
        got = _raw_keys(warehouse, name)
        assert len(got) == r.rows_loaded and set(got) <= set(keys), name
        if name in ("jgry_2001.csv", "jgry_2005.csv", "jgry_2006.csv"):
            assert got == expected, name
    assert "NUL" in quarantined(warehouse, "org", "jgry_2002.csv")[0]["reason"]
    assert "40000 characters" in quarantined(warehouse, "org", "jgry_2003.csv")[0]["reason"]
    assert "U+0007" in quarantined(warehouse, "org", "jgry_2004.csv")[0]["reason"]
    assert "duplicate of row" in quarantined(warehouse, "org", "jgry_2006.csv")[0]["reason"]
    assert "has " in quarantined(warehouse, "org", "jgry_2007.csv")[0]["reason"]
    assert "invalid byte sequence" in quarantined(warehouse, "org", "jgry_2008.csv")[0]["reason"]

    wrong, missing = results["jgry_2010.csv"], results["jgry_2011.csv"]
    assert wrong.status == "rejected" and "not valid gb18030" in wrong.reason
    assert missing.status == "rejected" and "missing required column(s) 姓名" in missing.reason
    # A rejected delivery says how many rows it held: that is what was set aside.
    assert (wrong.rows_read, missing.rows_read) == (n, n)
    assert results["jgry_2012.csv"].status == "loaded" and results["jgry_2012.csv"].rows_loaded == n
    assert "missing column(s) 职务职级" in results["jgry_2012.csv"].problems
    assert "contract column(s) missing, loaded as empty: 职务职级" in caplog.text
    with warehouse.connect() as conn:
        extra = conn.execute(sa.text("select extra->>'备注' from raw.org where delivery = 'jgry_2013.csv'")).scalars().all()
    assert extra == ["补录"] * n

    # An identical re-drop changes nothing; the marker appearing loads the waiting file.
    _drop(folder, "jgry_2015.csv", _csv(lines))
    again = {r.delivery: r for r in SOURCE_OBJECTS["org"].load(warehouse, settings)}
    assert {d for d, r in again.items() if r.status != "skipped"} == {"jgry_2015.csv"}
    # Corrected redeliveries of the rejected files load; the original bytes of the
    # truncated one are refused until the operator replaces the delivery.
    _drop(folder, "jgry_2010.csv", _csv(lines))
    _drop(folder, "jgry_2011.csv", _csv(lines))
    _drop(folder, "jgry_2007.csv", _csv(lines))
    third = {r.delivery: r for r in SOURCE_OBJECTS["org"].load(warehouse, settings) if r.status != "skipped"}
    assert third["jgry_2010.csv"].status == third["jgry_2011.csv"].status == "loaded"
    assert _raw_keys(warehouse, "jgry_2010.csv") == _raw_keys(warehouse, "jgry_2011.csv") == keys
    assert third["jgry_2007.csv"].status == "rejected"
    assert "quotalink deliveries replace org jgry_2007.csv" in third["jgry_2007.csv"].reason
    # Refused once, not again at every run.
    assert all(r.status == "skipped" for r in SOURCE_OBJECTS["org"].load(warehouse, settings))

    SOURCE_OBJECTS["org"].stage(warehouse)
    with warehouse.connect() as conn:
        unparsed = conn.execute(sa.text("select rows_unparsed from ops.stage_audit "
                                        "where delivery = 'jgry_2014.csv'")).scalar()
        staged_before = conn.execute(sa.text("select count(*) from ops.stage_audit where source = 'org'")).scalar()
    assert unparsed.get("出生日期") == 1
    assert main(["deliveries", "replace", "org", "jgry_2007.csv", "--reason", "截断的文件已重新报送"]) == 0
    assert _raw_keys(warehouse, "jgry_2007.csv") == keys
    states = [(a["status"], a["rows_loaded"]) for a in audit(warehouse, "org") if a["delivery"] == "jgry_2007.csv"]
    assert states == [("superseded", n - 1), ("rejected", 0), ("loaded", n)]
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select count(*) from ops.stage_audit where source = 'org'")).scalar() == 0
    # A plain staging run restages every delivery of the source, the new version included.
    SOURCE_OBJECTS["org"].stage(warehouse)
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select count(*) from ops.stage_audit where source = 'org'")).scalar() == staged_before
        assert conn.execute(sa.text("select count(*) from staging.civil_service where delivery = 'jgry_2007.csv'")).scalar() == n
    assert main(["deliveries", "list", "--source", "org"]) == 0


def test_substitutions_and_nullings_are_counted_per_column(warehouse, sources_dir, province):
    """An ID with letters is nulled (and, with a certificate, replaced from it), a negative
    income is nulled: each counted per column in ops.stage_audit, none silently."""
    folder = sources_dir / "employment_service"
    folder.mkdir()
    clean = (province / "employment_service" / "jyxx_202401.csv").read_bytes()
    _drop(folder, "jyxx_202312.csv", clean)  # the same rows unaltered, for the baseline counts
    lines = clean.decode(ENC).splitlines()
    header = lines[0].split(",")
    id_col, cert_col, income_col = header.index("身份证号"), header.index("残疾证号"), header.index("月收入（元）")
    with_cert = next(i for i, r in enumerate(lines[1:], 1) if r.split(",")[cert_col])
    lines[with_cert] = _set(lines[with_cert], id_col, "37010219850312ABCD")
    other = next(i for i in range(1, len(lines)) if i != with_cert)
    lines[other] = _set(lines[other], income_col, "-2450")
    _drop(folder, "jyxx_202401.csv", _csv(lines))
    SOURCE_OBJECTS["employment_service"].load(warehouse, get_settings())
    SOURCE_OBJECTS["employment_service"].stage(warehouse)
    with warehouse.connect() as conn:
        (u0, s0), (u1, s1) = conn.execute(sa.text(
            "select rows_unparsed, rows_substituted from ops.stage_audit where source = 'employment_service' "
            "order by delivery")).all()
        income = conn.execute(sa.text("select count(*) from staging.employment_registration "
                                      "where monthly_income < 0")).scalar()
    assert s1.get("身份证号", 0) == s0.get("身份证号", 0) + 1
    assert u1.get("身份证号", 0) == u0.get("身份证号", 0) + 1
    assert u1.get("月收入（元）", 0) == u0.get("月收入（元）", 0) + 1
    assert income == 0
