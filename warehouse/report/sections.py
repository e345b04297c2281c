"""Assemble one year's report from the mart tables (numbers as int or Decimal, never float)."""

import datetime as dt
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

import refdata
from quotalink.errors import QuotaLinkError
from warehouse.report.marts import UNKNOWN_CITY, city, thresholds
from warehouse.report.model import Chart, Col, Report, Section, Table

DEFAULT_UNIT = "山东省残疾人联合会"
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
RULE_TITLES = {
    "MULTI_EMPLOYER": "多家单位重复申报", "NO_SOCIAL_INSURANCE": "未缴纳社会保险",
    "BELOW_MIN_WAGE": "工资低于最低工资标准", "AGE_INELIGIBLE": "年龄不符合就业年龄",
    "CERT_INVALID": "残疾人证无效", "LEVEL_MISMATCH": "残疾等级与登记不符",
    "CONCURRENT_STUDENT": "在校学生被申报全日制就业", "CONCURRENT_UNEMPLOYED": "调查为未就业",
    "CIVIL_SERVANT_CONFLICT": "机关在编人员被他单位申报", "SHORT_CONTRACT": "劳动合同不足一年或年末突击签订",
    "DISTANT_RESIDENCE": "异地居住且低工资无社保", "IMPLAUSIBLE_RATIO": "残疾职工占比异常",
    "SHARED_CONTACT": "多单位申报人员共用联系电话",
}
STATUS_TITLES = {"employed": "已就业", "further_study": "升学/出国", "not_employed": "尚未就业",
                 "unknown": "情况不明"}
LEVEL_TITLES = {"province": "省级", "city": "市级", "county": "县级"}
UNIT_TYPE_TITLES = {"enterprise": "企业", "organ": "机关", "public_institution": "事业单位",
                    "social_organisation": "社会组织", "individual_business": "个体工商户"}
FORMS = (("new_quota_count", "按比例"), ("new_concentrated_count", "集中"),
         ("new_self_employed_count", "个体/自主创业"), ("new_flexible_count", "灵活就业"),
         ("new_public_welfare_count", "公益性岗位"), ("new_auxiliary_count", "辅助性就业"),
         ("new_other_count", "其他"))
# The html/pdf print this many ledger rows (a province has tens of thousands); the xlsx all.
LEDGER_PAGE_ROWS = 2000
UNIT_PAGE_ROWS = 500
CATEGORIES = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重", "未知")


class NoReportData(QuotaLinkError):
    """The warehouse holds nothing for the requested year."""

    def __init__(self, year: int, years: list[int]) -> None:
        known = "、".join(map(str, years)) if years else "无 / none"
        super().__init__(
            f"{year}年没有可用数据，未生成报告（已有数据的年度：{known}）。"
            f" No data for {year} in the warehouse; no report written (years with data: "
            f"{', '.join(map(str, years)) or 'none'}). Run `quotalink run` after the deliveries "
            "of that year have arrived.")
        self.year = year


def _rows(conn: Connection, sql: str, **binds) -> list[sa.RowMapping]:
    return list(conn.execute(sa.text(sql), binds).mappings())


def years_with_data(conn: Connection) -> list[int]:
    """Years for which some fact (not only a target) is in the warehouse."""
    return [r[0] for r in conn.execute(sa.text("""
        select year from mart.quota_compliance union select year from mart.graduate_ledger
        union select year from mart.public_sector union select year from mart.unemployed_profile
        union select year from mart.city_progress where new_count > 0
        union select year from mart.anomaly_flag order by 1"""))]


def _pct(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _yuan(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _count(value) -> Decimal | int:
    """Weighted counts (a level 1–2 employee counts 2, required = staff × 1.5%) keep their
    decimals only where they have them."""
    d = Decimal(value or 0)
    return int(d) if d == d.to_integral_value() else d.normalize()


def _total(rows: list[dict], label_key: str, keys: list[str], label: str = "合计") -> dict:
    out = {label_key: label}
    for k in keys:
        out[k] = sum((r.get(k) or 0 for r in rows), 0)
    return out


def build_report(engine: Engine, year: int, unit: str = DEFAULT_UNIT,
                 now: dt.datetime | None = None) -> Report:
    """Every section of one year's report; raises NoReportData for a year without data."""
    now = now or dt.datetime.now(dt.UTC)
    # One snapshot for every section, even while a pipeline run rebuilds the marts.
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        known = years_with_data(conn)
        if year not in known:
            raise NoReportData(year, known)
        as_of = conn.execute(sa.text("select max(loaded_at) from ops.load_audit")).scalar()
        sections = [
            _progress(conn, year), _compliance(conn, year), _priority(conn, year),
            _graduates(conn, year), _public(conn, year), _dpf(conn, year),
            _unemployed(conn, year), _flags(conn, year),
        ]
    highlights = _highlights(year, sections)
    return Report(
        year=year, title=f"{year}年度山东省残疾人就业工作实施情况报告", unit=unit,
        data_as_of=as_of.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if as_of else "—",
        generated_at=now.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
        highlights=highlights, sections=sections)


def _highlights(year: int, sections: list[Section]) -> list[tuple[str, str]]:
    by_key = {s.key: s for s in sections}
    prog = by_key["progress"].tables[0].total or {}
    comp = by_key["compliance"].tables[0].total or {}
    grads = by_key["graduates"].tables[0].total or {}
    dpf = by_key["dpf"].tables[0].rows
    out = [
        ("新增残疾人就业（人）", f"{prog.get('new_count', 0):,}"),
        ("年度目标（人）", f"{prog['target_count']:,}" if prog.get("target_count") else "—"),
        ("申报单位（家）", f"{comp.get('employers', 0):,}"),
        ("核实保障金差额（元）", f"{_yuan(comp.get('levy_gap')):,}"),
        ("残疾人大学生台账（人）", f"{grads.get('count', 0):,}"),
        (f"残联机关达到{thresholds()['dpf_target_share'] * 100:.0f}%（个）",
         f"{sum(1 for r in dpf if r['meets'] == '是')} / {len(dpf)}"),
    ]
    return out


# ---------------------------------------------------------------- 一、目标任务
def _progress(conn: Connection, year: int) -> Section:
    rows = []
    for r in _rows(conn, "select * from mart.city_progress where year = :y order by city_code = '0000', city_code", y=year):
        rows.append({"city": r["city_name"], "target_count": r["target_count"], "new_count": r["new_count"],
                     **{k: r[k] for k, _ in FORMS}, "progress_ratio": r["progress_ratio"],
                     "plan_target_count": r["plan_target_count"], "plan_new_count": r["plan_new_count"]})
    keys = ["new_count", *[k for k, _ in FORMS], "plan_new_count"]
    total = _total(rows, "city", keys)
    targets = [r["target_count"] for r in rows if r["target_count"] is not None]
    total["target_count"] = sum(targets) if targets else None
    plans = [r["plan_target_count"] for r in rows if r["plan_target_count"] is not None]
    total["plan_target_count"] = sum(plans) if plans else None
    total["progress_ratio"] = _pct(total["new_count"], total["target_count"])
    cols = [Col("city", "城市", width=14), Col("target_count", "年度目标（人）", "count"),
            Col("new_count", "新增就业（人）", "count"),
            *[Col(k, f"{label}（人）", "count", 11) for k, label in FORMS],
            Col("progress_ratio", "完成率", "ratio", 10),
            Col("plan_target_count", "2022年以来累计目标（人）", "count", 16),
            Col("plan_new_count", "2022年以来累计新增（人）", "count", 16)]
    return Section(
        "progress", "一、新增残疾人就业目标任务完成情况",
        "新增就业：持证残疾人当年有新的就业登记、新的按比例就业申报（合同始于当年）或新开始的社保缴费，"
        "每人每年计一次；按户籍所在市统计。目标见 refdata/data/employment_targets.csv。",
        [Table("分市完成情况", cols, rows, total)],
        Chart("bar", "各市年度目标与新增就业（人）", "city", ("target_count", "new_count"), y_title="人"))


# ---------------------------------------------------------------- 二、按比例就业与保障金
def _compliance(conn: Connection, year: int) -> Section:
    compliance = _rows(conn, """
        select q.*, e.region_code from mart.quota_compliance q
        join core.employer e using (employer_id) where q.year = :y""", y=year)
    flags = Counter(city(r["region_code"]) for r in _rows(conn, """
        select e.region_code from mart.anomaly_flag f left join core.employer e using (employer_id)
        where f.year = :y and f.active""", y=year))
    cities: dict[tuple[str, str], dict] = defaultdict(lambda: defaultdict(Decimal))
    for r in compliance:
        c = cities[city(r["region_code"])]
        c["employers"] += 1
        for k in ("total_staff", "required_count", "declared_count", "verified_count",
                  "levy_declared", "levy_verified", "levy_gap"):
            c[k] += Decimal(r[k] or 0)
    rows = []
    for key in sorted(set(cities) | set(flags), key=lambda k: (k == UNKNOWN_CITY, k)):
        c = cities[key]
        rows.append({"city": key[1], "employers": int(c["employers"]), "total_staff": int(c["total_staff"]),
                     "required_count": _count(c["required_count"]), "declared_count": _count(c["declared_count"]),
                     "verified_count": _count(c["verified_count"]), "levy_declared": _yuan(c["levy_declared"]),
                     "levy_verified": _yuan(c["levy_verified"]), "levy_gap": _yuan(c["levy_gap"]),
                     "active_flags": flags.get(key, 0)})
    keys = ["employers", "total_staff", "required_count", "declared_count", "verified_count",
            "levy_declared", "levy_verified", "levy_gap", "active_flags"]
    total = _total(rows, "city", keys)
    cols = [Col("city", "城市", width=14), Col("employers", "申报单位（家）", "count"),
            Col("total_staff", "在职职工（人）", "count"), Col("required_count", "应安排（人）", "decimal"),
            Col("declared_count", "申报安排（人）", "decimal"), Col("verified_count", "核实安排（人）", "decimal"),
            Col("levy_declared", "按申报应缴保障金（元）", "yuan", 18),
            Col("levy_verified", "按核实应缴保障金（元）", "yuan", 18),
            Col("levy_gap", "保障金差额（元）", "yuan", 16), Col("active_flags", "待核疑点（条）", "count")]
    return Section(
        "compliance", "二、按比例安排残疾人就业与保障金",
        "申报安排按申报等级加权（一、二级计2人）；核实安排剔除有高风险疑点的人员并按残疾人证登记等级加权；"
        "保障金按财税〔2015〕72号公式及财政部公告2023年第8号分档减征计算。",
        [Table("分市情况", cols, rows, total)],
        Chart("bar", "各市保障金：按申报与按核实（元）", "city", ("levy_declared", "levy_verified"), y_title="元"))


# ---------------------------------------------------------------- 三、重点用人单位
def _priority(conn: Connection, year: int) -> Section:
    size = int(thresholds()["priority_list_size"])
    below = conn.execute(sa.text("select count(*), count(*) filter (where is_priority) "
                                 "from mart.priority_employer where year = :y"), {"y": year}).one()
    rows = []
    for r in _rows(conn, """select * from mart.priority_employer where year = :y
                            order by is_priority desc, rank limit :n""", y=year, n=size):
        rows.append({"rank": r["rank"], "name": r["name"], "city": city(r["city_code"])[1],
                     "unit_type": UNIT_TYPE_TITLES.get(r["unit_type"], r["unit_type"] or ""),
                     "total_staff": r["total_staff"], "required_count": _count(r["required_count"]),
                     "verified_count": _count(r["verified_count"]), "quota_gap": _count(r["quota_gap"]),
                     "hiring_potential_count": r["hiring_potential_count"],
                     "levy_verified": _yuan(r["levy_verified"]),
                     "is_priority": "是" if r["is_priority"] else "否"})
    cols = [Col("rank", "差距排名", "count", 9), Col("name", "单位名称", width=32), Col("city", "城市", width=10),
            Col("unit_type", "单位类型", width=10), Col("total_staff", "在职职工（人）", "count"),
            Col("required_count", "应安排（人）", "decimal"), Col("verified_count", "核实安排（人）", "decimal"),
            Col("quota_gap", "差距（人）", "decimal", 10), Col("hiring_potential_count", "可吸纳岗位（个）", "count"),
            Col("levy_verified", "核实应缴保障金（元）", "yuan", 18), Col("is_priority", "重点单位", width=9)]
    t = thresholds()
    return Section(
        "priority", "三、重点用人单位（用人规模大、安排残疾人差距大、吸收残疾人潜力大）",
        f"未达比例单位 {below[0]} 家，其中同时满足三项条件的重点单位 {below[1]} 家"
        f"（在职职工≥{int(t['priority_min_total_staff'])}人、差距≥{_count(t['priority_min_quota_gap'])}人、"
        f"核实应缴保障金≥{int(t['priority_min_levy_verified']):,}元；阈值见 refdata/data/report_thresholds.csv）。"
        f"本表列出前 {size} 家。",
        [Table("重点用人单位名单", cols, rows)],
        Chart("bar", "差距最大的单位（人）", "name", ("quota_gap",), y_title="人", limit=12))


# ---------------------------------------------------------------- 四、大学生台账
def _graduates(conn: Connection, year: int) -> Section:
    rows = []
    for r in _rows(conn, """select * from mart.graduate_ledger where year = :y
                            order by expected_graduation, school_code, student_key""", y=year):
        rows.append({"student": r["student_key"],
                     "school": r["school_name"], "level": r["study_level"], "major": r["major"],
                     "graduation": r["expected_graduation"].strftime("%Y-%m") if r["expected_graduation"] else "",
                     "destination": r["destination"] or "",
                     "evidence": r["employed_source"] or "未查到", "since": r["employed_since"],
                     "help": r["help_measures"] or "", "status": STATUS_TITLES[r["status"]]})
    counts = Counter(r["status"] for r in rows)
    summary = [{"status": s, "count": counts.get(s, 0)} for s in STATUS_TITLES.values()]
    cols = [Col("student", "学校代码-学号", width=18), Col("school", "学校", width=22),
            Col("level", "学历层次", width=10), Col("major", "专业", width=16),
            Col("graduation", "预计毕业", width=10), Col("destination", "学校登记去向", width=12),
            Col("evidence", "就业核实来源", width=14), Col("since", "就业时间", "date", 12),
            Col("help", "帮扶措施", width=30), Col("status", "状态", width=10)]
    return Section(
        "graduates", f"四、残疾人大学生“一人一策”就业服务台账（{year}—{year + 1}年毕业）",
        f"{year}年度高校残疾人大学生数据库中 {year} 年及 {year + 1} 年毕业的学生；毕业后在社保缴费、就业登记、"
        "按比例就业申报或机关在编名册中查到就业的，记为已就业。",
        [Table("状态汇总", [Col("status", "状态", width=12), Col("count", "人数（人）", "count")], summary,
               {"status": "合计", "count": len(rows)}),
         Table("台账", cols, rows, page_limit=LEDGER_PAGE_ROWS)],
        Chart("pie", "毕业生就业状态（人）", "status", ("count",), table=0))


# ---------------------------------------------------------------- 五、机关事业单位
def _public(conn: Connection, year: int) -> Section:
    by_city: dict[str, dict] = defaultdict(Counter)
    for r in _rows(conn, "select * from mart.public_sector where year = :y", y=year):
        c = by_city[r["city_name"]]
        p = "organ" if r["kind"] == "organ" else "inst"
        for k in ("unit_count", "staff_count", "disabled_staff_count", "units_employing_none",
                  "large_units_employing_none", "schools_excluded"):
            c[f"{p}_{k}"] += r[k]
            c[k] += r[k]
    order = {c.name: i for i, c in enumerate(refdata.cities())}
    rows = [{"city": name, **dict(c)} for name, c in sorted(by_city.items(), key=lambda kv: order.get(kv[0], 99))]
    keys = ["organ_unit_count", "organ_staff_count", "organ_disabled_staff_count", "organ_units_employing_none",
            "inst_unit_count", "inst_staff_count", "inst_disabled_staff_count", "inst_units_employing_none",
            "disabled_staff_count", "large_units_employing_none", "schools_excluded"]
    for r in rows:
        for k in keys:
            r.setdefault(k, 0)
    none_rows = [{"name": r["name"], "kind": "机关" if r["kind"] == "organ" else "事业单位",
                  "level": LEVEL_TITLES.get(r["admin_level"], r["admin_level"]),
                  "city": city(r["region_code"])[1], "posts": r["authorised_posts"], "staff": r["staff_count"],
                  "large": "是" if r["is_large"] else "否"}
                 for r in _rows(conn, """select * from mart.public_unit_without_disabled where year = :y
                                         order by is_large desc, authorised_posts desc nulls last, uscc""", y=year)]
    none_cols = [Col("name", "单位名称", width=32), Col("kind", "类别", width=10), Col("level", "层级", width=8),
                 Col("city", "城市", width=10), Col("posts", "核定编制（个）", "count"),
                 Col("staff", "实有人数（人）", "count"), Col("large", "省市级大单位", width=12)]
    t = thresholds()
    cols = [Col("city", "城市", width=14),
            Col("organ_unit_count", "机关（个）", "count"), Col("organ_staff_count", "机关在职（人）", "count"),
            Col("organ_disabled_staff_count", "机关残疾人（人）", "count"),
            Col("organ_units_employing_none", "未安排的机关（个）", "count", 14),
            Col("inst_unit_count", "事业单位（个）", "count"), Col("inst_staff_count", "事业单位在职（人）", "count", 14),
            Col("inst_disabled_staff_count", "事业单位残疾人（人）", "count", 14),
            Col("inst_units_employing_none", "未安排的事业单位（个）", "count", 16),
            Col("disabled_staff_count", "残疾人合计（人）", "count"),
            Col("large_units_employing_none", "省市级大单位未安排（个）", "count", 18),
            Col("schools_excluded", "不含中小学幼儿园（个）", "count", 16)]
    return Section(
        "public", "五、党政机关、事业单位安排残疾人就业（不含中小学、幼儿园）",
        f"据机构编制部门登记的实有人数与残疾人在职人数。省市级大单位：机关编制≥{int(t['organ_large_posts'])}个、"
        f"事业单位编制≥{int(t['institution_large_posts'])}个，2027年底前应至少安排1名残疾人。",
        [Table("分市情况", cols, rows, _total(rows, "city", keys)),
         Table("未安排残疾人的机关、事业单位（省市级大单位在前）", none_cols, none_rows, page_limit=UNIT_PAGE_ROWS)],
        Chart("bar", "各市机关事业单位残疾人在职人数（人）", "city",
              ("organ_disabled_staff_count", "inst_disabled_staff_count"), y_title="人"))


# ---------------------------------------------------------------- 六、残联机关 15%
def _dpf(conn: Connection, year: int) -> Section:
    rows = []
    for r in _rows(conn, """select * from mart.dpf_organ where year = :y
                            order by admin_level = 'county', admin_level = 'city', region_code, uscc""", y=year):
        rows.append({"name": r["name"], "level": LEVEL_TITLES.get(r["admin_level"], r["admin_level"]),
                     "city": city(r["region_code"])[1], "staff": r["staff_count"],
                     "disabled": r["disabled_staff_count"], "share": r["disabled_share"],
                     "target": r["target_share"], "meets": "是" if r["meets_target"] else "否"})
    met = sum(1 for r in rows if r["meets"] == "是")
    cols = [Col("name", "残联机关", width=30), Col("level", "层级", width=8), Col("city", "城市", width=10),
            Col("staff", "在职人数（人）", "count"), Col("disabled", "残疾人干部（人）", "count"),
            Col("share", "占比", "ratio", 10), Col("target", "目标", "ratio", 8), Col("meets", "达标", width=8)]
    target = thresholds()["dpf_target_share"]
    return Section(
        "dpf", f"六、县级以上残联机关残疾人干部占比（目标≥{target * 100:.0f}%）",
        f"县级以上残联机关 {len(rows)} 个，达到{target * 100:.0f}%的 {met} 个（鲁残联发〔2023〕6号：2024年底前达到）。",
        [Table("残联机关", cols, rows)],
        Chart("bar", "残联机关残疾人干部占比", "name", ("share", "target"), y_title="占比", limit=30))


# ---------------------------------------------------------------- 七、未就业残疾人
def _unemployed(conn: Connection, year: int) -> Section:
    data = _rows(conn, "select * from mart.unemployed_profile where year = :y", y=year)
    by_city: dict[tuple[str, str], Counter] = defaultdict(Counter)
    by_cat: Counter = Counter()
    needs: Counter = Counter()
    for r in data:
        c = by_city[(r["city_code"], r["city_name"])]
        c[r["category"]] += r["person_count"]
        c["total"] += r["person_count"]
        c["wants_work"] += r["wants_work_count"]
        by_cat[r["category"]] += r["person_count"]
        needs[r["training_need"]] += r["person_count"]
    rows = [{"city": name, **{k: c.get(k, 0) for k in (*CATEGORIES, "total", "wants_work")}}
            for (_code, name), c in sorted(by_city.items(), key=lambda kv: (kv[0][0] == UNKNOWN_CITY[0], kv[0]))]
    cols = [Col("city", "城市", width=14), *[Col(k, f"{k}（人）", "count", 9) for k in CATEGORIES],
            Col("total", "合计（人）", "count", 10), Col("wants_work", "有就业意愿（人）", "count", 14)]
    cat_rows = [{"category": k, "count": by_cat.get(k, 0)} for k in CATEGORIES if by_cat.get(k)]
    need_rows = [{"need": k, "count": v} for k, v in sorted(needs.items(), key=lambda kv: (-kv[1], kv[0]))[:20]]
    return Section(
        "unemployed", "七、就业年龄段未就业残疾人状况",
        "就业年龄段未就业残疾人状况调查中，调查日处于就业年龄（16周岁至法定退休年龄）且未查到就业的人员；"
        "按户籍所在市、残疾类别、等级和培训需求统计。",
        [Table("按残疾类别", [Col("category", "残疾类别", width=12), Col("count", "人数（人）", "count")],
               cat_rows, {"category": "合计", "count": sum(by_cat.values())}),
         Table("分市、分类别", cols, rows, _total(rows, "city", [*CATEGORIES, "total", "wants_work"])),
         Table("培训需求（前20项）", [Col("need", "培训需求", width=24), Col("count", "人数（人）", "count")],
               need_rows)],
        Chart("bar", "未就业残疾人按残疾类别（人）", "category", ("count",), table=0, y_title="人"))


# ---------------------------------------------------------------- 八、疑点核查
def _flags(conn: Connection, year: int) -> Section:
    rules: dict[str, Counter] = defaultdict(Counter)
    for f in _rows(conn, """
            select f.rule, f.severity, f.active, d.decision from mart.anomaly_flag f
            left join lateral (select decision from review.decision r where r.flag_id = f.flag_id
                               order by decided_at desc, decision_id desc limit 1) d on true
            where f.year = :y""", y=year):
        r = rules[f["rule"]]
        if f["active"]:
            r["active"] += 1
            r[f["severity"]] += 1
        r[f["decision"] or "open"] += 1
    keys = ["active", "high", "medium", "low", "open", "confirmed", "dismissed", "escalated"]
    rows = [{"rule": RULE_TITLES.get(k, k), "code": k, **{c: v.get(c, 0) for c in keys}}
            for k, v in sorted(rules.items())]
    cols = [Col("rule", "疑点类型", width=26), Col("code", "规则代码", width=22),
            Col("active", "有效疑点（条）", "count"), Col("high", "高风险", "count", 9),
            Col("medium", "中风险", "count", 9), Col("low", "低风险", "count", 9),
            Col("open", "待核查", "count", 9), Col("confirmed", "已确认", "count", 9),
            Col("dismissed", "已排除", "count", 9), Col("escalated", "已上报", "count", 9)]
    return Section(
        "flags", "八、虚假按比例就业疑点核查情况",
        "审计规则发现的疑点及审核人员的最新处理结论。",
        [Table("按疑点类型", cols, rows, _total(rows, "rule", keys))],
        Chart("bar", "各类有效疑点（条）", "rule", ("active",), y_title="条"))
