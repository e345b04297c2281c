"""A generated province re-rendered as other writers would (tests/rerender.py) lands and stages the same facts; bad input costs only itself."""

import logging

import openpyxl
import pytest
import sqlalchemy as sa

from connectors.registry import SOURCE_OBJECTS
from quotalink.settings import get_settings
from tests.conftest import TRUNCATE_SCHEMAS
from tests.helpers import drop
from tests.rerender import LEVELS, Variation, rerender

# Columns that keep a value as delivered (free text, the raw ID, where the row stood, which hr
# window): they may differ between renderings of the same facts; every other staged column may not.
AS_DELIVERED = {
    "row_ref", "delivery", "staged_at", "loaded_at", "id_quality", "address", "name_raw", "id_number_raw",
    "employer_name", "hukou_text", "office", "supervisor", "provider", "course", "post",
}


@pytest.fixture(scope="module")
def renderings(tmp_path_factory):
    import synthetic

    root = tmp_path_factory.mktemp("rerender")
    synthetic.generate(root / "base", root / "truth", persons=300, seed=7, progress=False)
    for level in LEVELS:
        rerender(root / "base", root / level, Variation(level, seed=3, share=0.5))
    return root


def _reset(engine) -> None:
    with engine.begin() as conn:
        tables = conn.execute(sa.text(
            "select schemaname || '.' || quote_ident(tablename) from pg_tables "
            "where schemaname = any(:s) and tablename <> 'alembic_version'"), {"s": list(TRUNCATE_SCHEMAS)}).scalars().all()
        conn.execute(sa.text(f"truncate {', '.join(tables)} restart identity cascade"))


def _land_and_stage(engine, sources, monkeypatch) -> dict:
    """Every source of `sources` landed and staged from nothing: the audit sums, the quarantine,
    and per staging table its row count and a digest of the columns that carry facts."""
    _reset(engine)
    monkeypatch.setenv("SOURCES_DIR", str(sources))
    get_settings.cache_clear()
    settings = get_settings()
    for obj in SOURCE_OBJECTS.values():
        obj.load(engine, settings)
        obj.stage(engine)
    out = {}
    with engine.connect() as conn:
        out["audit"] = {s: (int(r), int(lo), int(q)) for s, r, lo, q in conn.execute(sa.text(
            "select source, sum(rows_read), sum(rows_loaded), sum(rows_quarantined) from ops.load_audit "
            "where status = 'loaded' group by source"))}
        out["rejected"] = conn.execute(sa.text("select source, delivery from ops.load_audit where status <> 'loaded'")).all()
        out["unbalanced"] = conn.execute(sa.text(
            "select delivery from ops.load_audit where rows_read <> rows_loaded + rows_quarantined")).all()
        out["quarantine"] = conn.execute(sa.text("select source, delivery, row_ref, reason from ops.quarantine")).all()
        for table in conn.execute(sa.text(
                "select table_name from information_schema.tables where table_schema = 'staging' "
                "and table_type = 'BASE TABLE' order by 1")).scalars():
            cols = [c for c in conn.execute(sa.text(
                "select column_name from information_schema.columns where table_schema = 'staging' "
                "and table_name = :t order by ordinal_position"), {"t": table}).scalars() if c not in AS_DELIVERED]
            row = "jsonb_build_array(" + ", ".join(f'"{c}"' for c in cols) + ")::text"
            out[table] = conn.execute(sa.text(
                f"select count(*), md5(coalesce(string_agg(h, ',' order by h), '')) "
                f"from (select md5({row}) h from staging.\"{table}\") x")).one()
    return out


def test_every_rendering_the_contract_allows_lands_the_same_facts(warehouse, renderings, monkeypatch):
    base = _land_and_stage(warehouse, renderings / "base", monkeypatch)
    assert base["audit"] and not base["rejected"] and not base["unbalanced"] and not base["quarantine"]
    assert base["person_mention"][0] > 500
    for level in LEVELS:
        got = _land_and_stage(warehouse, renderings / level, monkeypatch)
        assert got == base, (level, {k: (base[k], got.get(k)) for k in base if base[k] != got.get(k)})
        files = {(f.parent.name, f.name) for f in (renderings / level).glob("*/*.*")
                 if f.suffix in (".csv", ".xlsx")}
        with warehouse.connect() as conn:  # every file loaded, the zero-row ones too
            loaded = set(conn.execute(sa.text("select source, delivery from ops.load_audit where status = 'loaded'")).all())
        assert files <= loaded, (level, files - loaded)
        if level == "lenient":  # 月收入(元) read as 月收入（元）, 姓 名 as 姓名: and said so
            with warehouse.connect() as conn:
                respelt = conn.execute(sa.text(
                    "select quality->'respelt_columns' from ops.load_audit where delivery = 'jyxx_202401.csv'")).scalar()
            assert respelt["月收入(元)"] == "月收入（元）" and respelt["姓 名"] == "姓名", respelt


def _loaded(engine, source: str) -> dict:
    with engine.connect() as conn:
        return {d: (s, r, lo, q) for d, s, r, lo, q in conn.execute(sa.text(
            "select delivery, status, rows_read, rows_loaded, rows_quarantined from ops.load_audit "
            "where source = :s order by load_id"), {"s": source})}


def test_bad_input_costs_only_itself_and_names_where(warehouse, sources_dir, renderings, caplog):
    """A workbook cut in half, a sheet lacking a required column, a registry snapshot in the wrong
    encoding, a CSV ending inside a quoted field: each rejected or quarantined with a reason naming
    source, file, row and column; the other deliveries load; nothing of a rejected one stays in raw."""
    lenient = renderings / "lenient"
    settings = get_settings()
    # training: the first quarter good, the next a real workbook truncated mid-archive.
    good, cut = sorted(p for p in (lenient / "training").glob("pxxy_2026Q[23].xlsx"))
    drop(sources_dir / "training", good.name, good.read_bytes())
    data = cut.read_bytes()
    drop(sources_dir / "training", cut.name, data[: len(data) // 2])
    # graduates: one university's sheet lacks 姓名 (required): the whole workbook is refused.
    book = sorted((lenient / "graduates").glob("*.xlsx"))[0]
    wb = openpyxl.load_workbook(book)
    ws = next(ws for ws in wb.worksheets if ws.max_row > 1)
    col = next(c for c in ws[1] if c.value == "姓名").column
    ws.delete_cols(col)
    (sources_dir / "graduates").mkdir()
    wb.save(sources_dir / "graduates" / book.name)
    (sources_dir / "graduates" / (book.name + ".ok")).write_bytes(b"")
    # disability_registry: the older snapshot fine, the newer one written in GB18030.
    old, new = sorted((renderings / "base" / "disability_registry").glob("*.csv"))
    drop(sources_dir / "disability_registry", old.name, old.read_bytes())
    drop(sources_dir / "disability_registry", new.name, new.read_bytes().decode("utf-8-sig").encode("gb18030"))
    drop(sources_dir / "disability_registry", "CJRXX_202611.CSV", new.read_bytes())  # misnamed: not read, said
    # unemployed_survey: the third record's free text opens a quote the file never closes (a
    # reader runs on to the end of the file): that line is set aside, every other record loads.
    survey = sorted((renderings / "base" / "unemployed_survey").glob("*.csv"))[0]
    lines = survey.read_bytes().decode("gb18030").splitlines()
    header = lines[0].split(",")
    bad = lines[3].split(",")
    bad[header.index("培训需求")] = '"电商直播，另见'
    lines[3] = ",".join(bad)
    drop(sources_dir / "unemployed_survey", survey.name, ("\r\n".join(lines) + "\r\n").encode("gb18030"))
    n_survey = len(lines) - 1
    # The next year's: the quote opens in the last column, so what it swallows is one record of
    # the header's width; read again the same way.
    survey2 = sorted((renderings / "base" / "unemployed_survey").glob("*.csv"))[1]
    lines2 = survey2.read_bytes().decode("gb18030").splitlines()
    assert lines2[0].split(",")[-1] == "调查员"
    lines2[3] = lines2[3].rsplit(",", 1)[0] + ',"' + lines2[3].rsplit(",", 1)[1]
    drop(sources_dir / "unemployed_survey", survey2.name, ("\r\n".join(lines2) + "\r\n").encode("gb18030"))

    with caplog.at_level(logging.WARNING):
        for source in ("training", "graduates", "disability_registry", "unemployed_survey"):
            SOURCE_OBJECTS[source].load(warehouse, settings)
    assert "CJRXX_202611.CSV: the name does not follow the contract's pattern" in caplog.text

    training = _loaded(warehouse, "training")
    assert training[good.name][0] == "loaded" and training[good.name][2] > 0
    assert training[cut.name][0] == "rejected"
    registry = _loaded(warehouse, "disability_registry")
    assert registry[old.name][0] == "loaded" and registry[new.name][0] == "rejected" and len(registry) == 2
    assert _loaded(warehouse, "graduates")[book.name][0] == "rejected"
    s = _loaded(warehouse, "unemployed_survey")
    assert s[survey.name] == ("loaded", n_survey, n_survey - 1, 1)
    assert s[survey2.name] == ("loaded", len(lines2) - 1, len(lines2) - 2, 1)
    with warehouse.connect() as conn:
        reasons = dict(conn.execute(sa.text(
            "select delivery, reason from ops.quarantine where row_ref is null or source <> 'unemployed_survey'")).all())
        q, q2 = conn.execute(sa.text("select row_ref, column_name, reason from ops.quarantine "
                                     "where source = 'unemployed_survey' order by delivery")).all()
        survey_keys = set(conn.execute(sa.text('select "调查表编号" from raw.unemployed_survey where delivery = :d'),
                                       {"d": survey.name}).scalars())
        raw = {t: conn.execute(sa.text(f"select count(distinct delivery) from raw.{t}")).scalar()
               for t in ("training", "graduates", "disability_registry")}
    assert "XLSX" in reasons[cut.name]
    assert f"sheet {ws.title}: missing required column(s) 姓名" in reasons[book.name]
    assert "gb18030" in reasons[new.name].lower() or "utf-8" in reasons[new.name].lower()
    assert survey_keys == {line.split(",")[0] for line in lines[1:]} - {bad[0]}
    assert q[:2] == ("4", "培训需求") and "quoted field opens on line 4" in q[2], q
    assert q2[:2] == ("4", "调查员"), q2
    # Nothing of a rejected delivery remains in raw: one delivery each of training and registry.
    assert raw == {"training": 1, "graduates": 0, "disability_registry": 1}
