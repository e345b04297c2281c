"""Unit tests of the synthetic province: layout per the source contracts, truth, planted cases."""

import csv
import hashlib
import io
import json
import sqlite3
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from stdnum.cn import ric

import refdata
import synthetic
from synthetic.idcodes import is_valid_uscc
from synthetic.oracle import RULES
from synthetic.scenarios import (
    GRADUATE_YEARS,
    JYXX_MONTHS,
    REGISTRY_MONTHS,
    TRAINING_QUARTERS,
)

PERSONS = 400
SEED = 7

HEADERS = {
    "disability_registry": ["残疾人证号", "姓名", "性别", "民族", "出生日期", "公民身份号码", "残疾类别",
                            "残疾等级", "发证日期", "有效期至", "证件状态", "注销日期", "注销原因",
                            "户籍地区划代码", "现居住地址", "联系电话", "更新时间"],
    "employment_service": ["登记编号", "姓名", "身份证号", "残疾证号", "性别", "残疾类别", "残疾等级",
                           "就业形式", "就业单位", "单位社会信用代码", "就业日期", "离职日期",
                           "月收入（元）", "户籍所在地", "登记机构", "登记日期", "操作类型"],
    "training": ["序号", "学员编号", "姓名", "证件类型", "证件号码", "性别", "年龄", "联系电话",
                 "培训项目名称", "培训类别", "培训机构", "开班日期", "结业日期", "培训结果",
                 "是否取得证书", "所在市"],
    "graduates": ["学校代码", "学号", "姓名", "身份证号", "残疾证号", "性别", "出生年月", "残疾类别",
                  "学历层次", "专业", "入学年份", "预计毕业时间", "毕业去向", "就业单位", "联系电话",
                  "帮扶措施", "更新日期"],
    "org": ["人员编号", "姓名", "身份证号", "性别", "出生日期", "工作单位", "单位统一社会信用代码",
            "职务职级", "进入本单位时间", "是否持残疾人证", "残疾人证号", "编制类型"],
    "establishment": ["统一社会信用代码", "机构名称", "机构类别", "主管部门", "所在地区代码", "核定编制数",
                      "实有人数", "残疾人在职人数", "是否中小学幼儿园", "是否残联机关", "更新日期"],
    "unemployed_survey": ["调查表编号", "调查年度", "姓名", "身份证号", "残疾证号", "残疾类别", "残疾等级",
                          "户籍地址", "联系电话", "未就业原因", "就业意愿", "培训需求", "调查日期",
                          "调查员"],
}
CSV_FILES = {
    "disability_registry": ([f"cjrxx_{m}.csv" for m in REGISTRY_MONTHS], "utf-8-sig"),
    "employment_service": ([f"jyxx_{m}.csv" for m in JYXX_MONTHS], "gb18030"),
    "org": (["jgry_2024.csv", "jgry_2025.csv"], "gb18030"),
    "establishment": (["jgbz_2024.csv", "jgbz_2025.csv"], "utf-8"),
    "unemployed_survey": (["wjydc_2024.csv", "wjydc_2025.csv"], "gb18030"),
}
DECL_KEYS = ["declaration_id", "declaration_year", "unit_name", "uscc", "org_code",
             "unit_region_code", "unit_type", "total_staff", "avg_annual_wage",
             "disabled_declared", "status", "submitted_at", "updated_at"]
EMP_KEYS = ["employee_record_id", "declaration_id", "name", "id_number", "cert_number",
            "disability_category", "disability_level", "contract_start", "contract_end",
            "monthly_wage", "si_months", "position", "employment_type", "updated_at"]


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    """One small province shared by the tests of this module."""
    root = tmp_path_factory.mktemp("province")
    summary = synthetic.generate(root / "sources", root / "truth", persons=PERSONS, seed=SEED,
                                 progress=False)
    return root / "sources", root / "truth", summary


def read_csv(path: Path, encoding: str) -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh))


def truth_rows(truth: Path, name: str) -> list[dict[str, str]]:
    return read_csv(truth / name, "utf-8")


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_files(province, tmp_path):
    sources, truth, _ = province
    synthetic.generate(tmp_path / "s", tmp_path / "t", persons=PERSONS, seed=SEED, progress=False)
    assert digest(tmp_path / "s") == digest(sources)
    assert digest(tmp_path / "t") == digest(truth)
    synthetic.generate(tmp_path / "s2", tmp_path / "t2", persons=PERSONS, seed=SEED + 1,
                       progress=False)
    assert digest(tmp_path / "t2") != digest(truth)


def test_csv_files_markers_encodings_headers(province):
    sources, _, _ = province
    for source, (names, encoding) in CSV_FILES.items():
        for name in names:
            path = sources / source / name
            assert path.is_file(), path
            assert Path(str(path) + ".ok").is_file(), f"marker of {path}"
            raw = path.read_bytes()
            if encoding == "utf-8-sig":
                assert raw.startswith(b"\xef\xbb\xbf")
            elif encoding == "utf-8":
                assert not raw.startswith(b"\xef\xbb\xbf")
                raw.decode("utf-8")
            else:
                raw.decode("gb18030")
                with pytest.raises(UnicodeDecodeError):
                    raw.decode("utf-8")
            header = next(csv.reader(io.StringIO(raw.decode(encoding))))
            assert header == HEADERS[source], path
    for name in [f"pxxy_{q}.xlsx" for q in TRAINING_QUARTERS]:
        assert (sources / "training" / (name + ".ok")).is_file()
    for year in GRADUATE_YEARS:
        assert (sources / "graduates" / f"gxcjrdxs_{year}.xlsx.ok").is_file()
    # The database and the API have no markers.
    assert not list((sources / "hr").glob("*.ok"))
    assert not list((sources / "quota").glob("*.ok"))


def test_quota_jsonl_items(province):
    sources, _, _ = province
    decls = [json.loads(x) for x in (sources / "quota" / "declarations.jsonl").open(encoding="utf-8")]
    emps = [json.loads(x) for x in
            (sources / "quota" / "declared-employees.jsonl").open(encoding="utf-8")]
    assert all(list(d) == DECL_KEYS for d in decls)
    assert all(list(e) == EMP_KEYS for e in emps)
    statuses = Counter(d["status"] for d in decls)
    assert {"审核通过", "待审核", "已驳回"} <= set(statuses)
    versions = Counter(d["declaration_id"] for d in decls)
    edited = [k for k, n in versions.items() if n > 1]
    assert edited
    for key in edited:
        stamps = [d["updated_at"] for d in decls if d["declaration_id"] == key]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert {d["declaration_year"] for d in decls} == {2024, 2025}
    assert any(not d["unit_region_code"].startswith("37") for d in decls)
    assert any(d["uscc"] is None and d["org_code"] for d in decls) or all(
        d["uscc"] for d in decls)
    assert {e["employment_type"] for e in emps} <= {"全日制", "非全日制", "劳务派遣"}
    assert any(e["cert_number"] is None for e in emps)
    assert {e["declaration_id"] for e in emps} <= set(versions)


def test_training_xlsx_layout(province):
    sources, _, _ = province
    for quarter in TRAINING_QUARTERS:
        wb = load_workbook(sources / "training" / f"pxxy_{quarter}.xlsx")
        assert wb.sheetnames == ["培训学员名单"]
        ws = wb["培训学员名单"]
        assert "A1:P1" in {str(r) for r in ws.merged_cells.ranges}
        assert ws["A1"].value.startswith(f"{quarter[:4]}年第")
        assert ws["A1"].value.endswith("季度残疾人职业培训学员名单")
        rows = [[c.value for c in r] for r in ws.iter_rows()]
        assert rows[1] == HEADERS["training"]
        assert rows[-1][0] == "合计"
        data = rows[2:-1]
        assert data and [r[0] for r in data] == list(range(1, len(data) + 1))
        assert all(r[3] in ("身份证", "残疾证") for r in data)
        assert all(isinstance(r[6], int) for r in data)


def test_graduates_one_sheet_per_university(province):
    sources, _, _ = province
    for year in GRADUATE_YEARS:
        wb = load_workbook(sources / "graduates" / f"gxcjrdxs_{year}.xlsx")
        assert len(wb.sheetnames) >= 5
        keys = set()
        for ws in wb.worksheets:
            rows = [[c.value for c in r] for r in ws.iter_rows()]
            assert rows[0] == HEADERS["graduates"], ws.title
            for r in rows[1:]:
                key = f"{r[0]}-{r[1]}"
                assert key not in keys
                keys.add(key)
                assert len(str(r[0])) == 5
        assert keys


def test_hr_db_schema(province):
    sources, _, _ = province
    db = sqlite3.connect(sources / "hr" / "hr.db")
    expected = {
        "ab01": {"aab001": "varchar(20)", "aab003": "varchar(20)", "aab004": "varchar(200)",
                 "aab019": "varchar(2)", "aab301": "varchar(6)", "aae036": "timestamp"},
        "ac01": {"aac001": "varchar(20)", "aac002": "varchar(18)", "aac003": "varchar(50)",
                 "aac004": "varchar(1)", "aac006": "integer", "aae005": "varchar(20)",
                 "aae036": "timestamp"},
        "ac08": {"aaz223": "bigint", "aac001": "varchar(20)", "aab001": "varchar(20)",
                 "aae002": "integer", "aae140": "varchar(3)", "aac040": "numeric(12,2)",
                 "aae078": "varchar(1)", "aae036": "timestamp"},
    }
    for table, columns in expected.items():
        info = {r[1]: r[2].lower() for r in db.execute(f"PRAGMA table_info({table})")}
        assert info == columns, table
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0
    assert {r[0] for r in db.execute("SELECT DISTINCT aae140 FROM ac08")} <= {"110", "120", "210",
                                                                             "310"}
    assert {r[0] for r in db.execute("SELECT DISTINCT aab019 FROM ab01")} <= {
        "10", "30", "50", "55", "60", "70"}
    orphans = db.execute("SELECT count(*) FROM ac08 WHERE aac001 NOT IN (SELECT aac001 FROM ac01)"
                         " OR aab001 NOT IN (SELECT aab001 FROM ab01)").fetchone()[0]
    assert orphans == 0
    months = {r[0] for r in db.execute("SELECT DISTINCT aae002 FROM ac08")}
    assert min(months) == 202401 and max(months) == 202512


def rendered_keys(sources: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Person and employer mention keys present in the deliveries, per source."""
    persons, employers = defaultdict(set), defaultdict(set)
    for name in CSV_FILES["disability_registry"][0]:
        for r in read_csv(sources / "disability_registry" / name, "utf-8-sig"):
            persons["disability_registry"].add(r["残疾人证号"])
    for line in (sources / "quota" / "declarations.jsonl").open(encoding="utf-8"):
        employers["quota"].add(json.loads(line)["declaration_id"])
    for line in (sources / "quota" / "declared-employees.jsonl").open(encoding="utf-8"):
        persons["quota"].add(json.loads(line)["employee_record_id"])
    db = sqlite3.connect(sources / "hr" / "hr.db")
    persons["hr"] = {r[0] for r in db.execute("SELECT aac001 FROM ac01")}
    employers["hr"] = {r[0] for r in db.execute("SELECT aab001 FROM ab01")}
    for name in CSV_FILES["employment_service"][0]:
        for r in read_csv(sources / "employment_service" / name, "gb18030"):
            persons["employment_service"].add(r["登记编号"])
            if r["就业单位"] or r["单位社会信用代码"]:
                employers["employment_service"].add(r["登记编号"])
    for quarter in TRAINING_QUARTERS:
        ws = load_workbook(sources / "training" / f"pxxy_{quarter}.xlsx").active
        for r in list(ws.iter_rows(min_row=3, values_only=True))[:-1]:
            persons["training"].add(r[1])
    for year in GRADUATE_YEARS:
        for ws in load_workbook(sources / "graduates" / f"gxcjrdxs_{year}.xlsx").worksheets:
            for r in ws.iter_rows(min_row=2, values_only=True):
                persons["graduates"].add(f"{r[0]}-{r[1]}")
                if r[13]:
                    employers["graduates"].add(f"{r[0]}-{r[1]}")
    for name in CSV_FILES["org"][0]:
        for r in read_csv(sources / "org" / name, "gb18030"):
            persons["org"].add(r["人员编号"])
            employers["org"].add(r["人员编号"])
    for name in CSV_FILES["establishment"][0]:
        for r in read_csv(sources / "establishment" / name, "utf-8"):
            employers["establishment"].add(r["统一社会信用代码"])
    for name in CSV_FILES["unemployed_survey"][0]:
        for r in read_csv(sources / "unemployed_survey" / name, "gb18030"):
            persons["unemployed_survey"].add(r["调查表编号"])
    return persons, employers


def test_truth_mentions_match_rendered_keys(province):
    sources, truth, _ = province
    persons, employers = rendered_keys(sources)
    truth_p, truth_e = defaultdict(set), defaultdict(set)
    for r in truth_rows(truth, "person_mentions.csv"):
        assert r["key"] not in truth_p[r["source"]], "duplicate mention"
        truth_p[r["source"]].add(r["key"])
    for r in truth_rows(truth, "employer_mentions.csv"):
        assert r["key"] not in truth_e[r["source"]], "duplicate mention"
        truth_e[r["source"]].add(r["key"])
    assert set(truth_p) == set(persons) and len(truth_p) == 8
    assert set(truth_e) == set(employers) == {"quota", "hr", "employment_service", "graduates",
                                              "org", "establishment"}
    for source in persons:
        assert truth_p[source] == persons[source], source
    for source in employers:
        assert truth_e[source] == employers[source], source


def test_every_rule_planted_and_decoys_clean(province):
    _, truth, summary = province
    fraud = truth_rows(truth, "fraud_cases.csv")
    by_rule = Counter(r["rule"] for r in fraud)
    assert set(by_rule) == set(RULES)
    assert all(n >= 3 for n in by_rule.values()), by_rule
    assert all(r["person"] == "" for r in fraud if r["rule"] == "IMPLAUSIBLE_RATIO")
    assert all(r["person"] for r in fraud if r["rule"] != "IMPLAUSIBLE_RATIO")
    decoys = truth_rows(truth, "decoys.csv")
    kinds = {d["kind"] for d in decoys}
    assert {"sequential_employers", "wage_at_minimum", "twelve_month_contract",
            "graduate_after_graduation", "survey_before_contract"} <= kinds
    flagged = {(r["person"], r["employer"], r["year"]) for r in fraud}
    assert not [d for d in decoys if (d["person"], d["employer"], d["year"]) in flagged]
    assert summary["planted_not_found"] == 0 and summary["decoys_flagged"] == 0
    persons = {r["person"] for r in truth_rows(truth, "person_mentions.csv")}
    employers = {r["employer"] for r in truth_rows(truth, "employer_mentions.csv")}
    assert {r["person"] for r in fraud if r["person"]} <= persons
    assert {r["employer"] for r in fraud} <= employers


def test_only_planted_cases_are_findings():
    chunk, decls, findings = synthetic.build_chunk(synthetic.get_scenario("default"), SEED, 0,
                                                   PERSONS)
    planted_persons = {c.person.pid for c in chunk.planted if c.person}
    planted_employers = {c.employer.eid for c in chunk.planted if c.person is None}
    for rule, pid, eid, _year in findings:
        if pid:
            assert pid in planted_persons, (rule, pid)
        else:
            assert eid in planted_employers, rule
    # Non-planted declared employees are clean in the facts the rules read.
    for decl in decls:
        for rec in decl.records:
            p = rec.spell.person
            if p.pid in planted_persons or decl.employer.outside or p.used:
                continue
            minimum = refdata.min_wage(decl.employer.region, date(decl.year, 1, 1))
            assert rec.wage >= minimum * 12 / 10
            assert 16 <= p.age_on(rec.period[0])


def test_clean_scenario_has_no_findings():
    _chunk, decls, findings = synthetic.build_chunk(synthetic.get_scenario("clean"), SEED, 0,
                                                    PERSONS)
    assert decls and not findings


def test_identifier_check_digits(province):
    sources, _, _ = province
    registry = read_csv(sources / "disability_registry" / f"cjrxx_{REGISTRY_MONTHS[-1]}.csv",
                        "utf-8-sig")
    n15 = 0
    for r in registry:
        idn = r["公民身份号码"]
        if len(idn) == 15:
            n15 += 1
            assert int(r["出生日期"][:4]) < 1960
        else:
            assert ric.calc_check_digit(idn) == idn[-1]
        assert len(r["残疾人证号"]) in (20, 21)
        assert r["残疾人证号"][18] in "1234567" and r["残疾人证号"][19] in "1234"
    db = sqlite3.connect(sources / "hr" / "hr.db")
    for (idn,) in db.execute("SELECT aac002 FROM ac01"):
        assert ric.calc_check_digit(idn) == idn[-1]
    for (code,) in db.execute("SELECT aab003 FROM ab01"):
        assert is_valid_uscc(code) or (len(code) == 10 and code[8] == "-")
    for name in CSV_FILES["establishment"][0]:
        for r in read_csv(sources / "establishment" / name, "utf-8"):
            assert is_valid_uscc(r["统一社会信用代码"])
            assert r["统一社会信用代码"][:2] in ("11", "12")
    emps = [json.loads(x) for x in
            (sources / "quota" / "declared-employees.jsonl").open(encoding="utf-8")]
    valid = sum(1 for e in emps if len(e["id_number"]) == 18
                and ric.calc_check_digit(e["id_number"].upper()) == e["id_number"][-1].upper())
    assert 0.85 < valid / len(emps) < 1.0
    decls = [json.loads(x) for x in (sources / "quota" / "declarations.jsonl").open(encoding="utf-8")]
    prefixes = {d["uscc"][:2] for d in decls if d["uscc"] and is_valid_uscc(d["uscc"])}
    assert {"91", "11"} <= prefixes


def test_record_keys_unique_within_each_file(province):
    sources, _, _ = province
    keys = {"disability_registry": "残疾人证号", "employment_service": "登记编号", "org": "人员编号",
            "establishment": "统一社会信用代码", "unemployed_survey": "调查表编号"}
    for source, (names, encoding) in CSV_FILES.items():
        for name in names:
            values = [r[keys[source]] for r in read_csv(sources / source / name, encoding)]
            assert all(values) and len(values) == len(set(values)), name
    for quarter in TRAINING_QUARTERS:
        ws = load_workbook(sources / "training" / f"pxxy_{quarter}.xlsx").active
        ids = [r[1] for r in list(ws.iter_rows(min_row=3, values_only=True))[:-1]]
        assert len(ids) == len(set(ids))
    seen = Counter()
    for line in (sources / "quota" / "declared-employees.jsonl").open(encoding="utf-8"):
        item = json.loads(line)
        seen[(item["employee_record_id"], item["updated_at"])] += 1
    assert max(seen.values()) == 1


def test_one_more_month_keeps_earlier_files(province, tmp_path):
    sources, truth, _ = province
    synthetic.generate(tmp_path / "s", tmp_path / "t", persons=PERSONS, seed=SEED,
                       progress=False, as_of="202611")
    before, after = digest(sources), digest(tmp_path / "s")
    added = set(after) - set(before)
    assert added == {"disability_registry/cjrxx_202611.csv",
                     "disability_registry/cjrxx_202611.csv.ok",
                     "employment_service/jyxx_202611.csv", "employment_service/jyxx_202611.csv.ok"}
    assert {k: after[k] for k in before} == before
    old = {(r["source"], r["key"], r["person"]) for r in truth_rows(truth, "person_mentions.csv")}
    new = {(r["source"], r["key"], r["person"])
           for r in truth_rows(tmp_path / "t", "person_mentions.csv")}
    assert old < new
    assert truth_rows(truth, "fraud_cases.csv") == truth_rows(tmp_path / "t", "fraud_cases.csv")
    with pytest.raises(ValueError, match="as_of"):
        synthetic.generate(tmp_path / "x", tmp_path / "y", persons=10, as_of="202612",
                           progress=False)


def test_hard_cases_file(province):
    _, truth, _ = province
    rows = truth_rows(truth, "hard_cases.csv")
    kinds = Counter(r["kind"] for r in rows)
    assert {"person_namesake", "person_twin", "person_hr_namesake", "employer_branch",
            "employer_renamed", "employer_same_trade"} <= set(kinds)
    persons = {r["person"] for r in truth_rows(truth, "person_mentions.csv")}
    employers = {r["employer"] for r in truth_rows(truth, "employer_mentions.csv")}
    for r in rows:
        pool = persons if r["kind"].startswith("person") else employers
        assert r["a"] in pool and r["b"] in pool, r


def test_harsh_noise_is_off_in_every_other_scenario():
    import random

    from synthetic.noise import Harsh, harsh
    from synthetic.scenarios import SCENARIOS

    for name in ("default", "clean", "noisy", "hard"):
        assert SCENARIOS[name].noise_intensity == 0.0
    # At intensity 0 nothing is drawn: the other scenarios' random streams stay as they were.
    assert harsh(0.0, random.Random(1)) is None
    assert isinstance(harsh(SCENARIOS["harsh"].noise_intensity, random.Random(1)), Harsh)


def test_harsh_province_loads_per_contract_and_is_messier(tmp_path):
    out, truth = tmp_path / "sources", tmp_path / "truth"
    summary = synthetic.generate(out, truth, persons=3000, seed=SEED, progress=False,
                                 scenario="harsh")
    assert summary["planted_not_found"] == 0 and summary["decoys_flagged"] == 0
    jyxx = [row for m in JYXX_MONTHS
            for row in read_csv(out / "employment_service" / f"jyxx_{m}.csv", "gb18030")]
    assert all(list(row) == HEADERS["employment_service"] for row in jyxx[:1])
    ids = [row["身份证号"] for row in jyxx if row["身份证号"]]
    with (out / "quota" / "declared-employees.jsonl").open(encoding="utf-8") as fh:
        ids += [item["id_number"] for item in map(json.loads, fh) if item["id_number"]]
    assert any(v.startswith(("'", "\t", " ")) for v in ids)    # Excel's text marker, spaces
    assert any(v.endswith(" ") for v in ids)                   # a trailing space
    starts = [row["就业日期"] for row in jyxx]
    assert any("/0" in v for v in starts)                      # 2023/05/01
    names = [row["就业单位"] for row in jyxx if row["就业单位"]]
    assert any(v.endswith("公司") and "有限" not in v for v in names)  # 有限 dropped
    # Every mention key the truth lists is a delivered row's key (nothing unloadable).
    keys = {row["登记编号"] for row in jyxx}
    assert {r["key"] for r in truth_rows(truth, "person_mentions.csv")
            if r["source"] == "employment_service"} <= keys
