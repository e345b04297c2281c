"""The annual implementation report (due before 10 December), built from the warehouse."""

import datetime as dt
import html
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import refdata

SECTIONS = ("summary", "by_city", "flags_by_rule", "levy_gaps", "public_sector")
TITLES = {
    "summary": "全省汇总 Province summary",
    "by_city": "分市情况 By city",
    "flags_by_rule": "疑点核查 Flags by rule",
    "levy_gaps": "保障金差额最大的单位 Largest levy gaps",
    "public_sector": "机关事业单位 Organs and public institutions",
}


def _city(region_code: str | None) -> tuple[str, str]:
    code = refdata.city_of(region_code) if region_code else None
    if not code:
        return ("", "省外 / 未知" if region_code and not str(region_code).startswith("37") else "未知")
    return (code, refdata.city_name(code) or code)


def build_report(engine: Engine, year: int) -> dict[str, list[dict]]:
    """Every section of the report for a declaration year, as rows of plain values."""
    with engine.connect() as conn:
        compliance = conn.execute(sa.text(
            "select q.*, e.name, e.region_code, e.unit_type from mart.quota_compliance q "
            "join core.employer e using (employer_id) where q.year = :y"), {"y": year}).mappings().all()
        flags = conn.execute(sa.text(
            "select f.rule, f.severity, f.active, f.employer_id, e.region_code, d.decision "
            "from mart.anomaly_flag f left join core.employer e using (employer_id) "
            "left join lateral (select decision from review.decision r where r.flag_id = f.flag_id "
            "order by decided_at desc, decision_id desc limit 1) d on true where f.year = :y"),
            {"y": year}).mappings().all()
        institutions = conn.execute(sa.text(
            "select name, kind, region_code, actual_staff, disabled_staff, is_school, is_dpf_organ "
            "from staging.institution where year = :y"), {"y": year}).mappings().all()

    cities: dict[tuple[str, str], dict] = defaultdict(lambda: defaultdict(Decimal))
    for row in compliance:
        c = cities[_city(row["region_code"])]
        c["employers"] += 1
        c["total_staff"] += row["total_staff"] or 0
        c["required_count"] += row["required_count"] or 0
        c["declared_count"] += row["declared_count"] or 0
        c["verified_count"] += row["verified_count"] or 0
        c["levy_declared"] += row["levy_declared"] or 0
        c["levy_verified"] += row["levy_verified"] or 0
        c["levy_gap"] += row["levy_gap"] or 0
    for f in flags:
        if f["active"]:
            cities[_city(f["region_code"])]["active_flags"] += 1
    by_city = []
    for (code, name), c in sorted(cities.items()):
        by_city.append({"city_code": code, "city": name, **{k: _num(c.get(k, 0)) for k in (
            "employers", "total_staff", "required_count", "declared_count", "verified_count",
            "levy_declared", "levy_verified", "levy_gap", "active_flags")}})

    rules: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for f in flags:
        r = rules[f["rule"]]
        if f["active"]:
            r["active"] += 1
            r[f["severity"]] += 1
        r[f["decision"] or "open"] += 1
    flags_by_rule = [{"rule": k, **{c: v.get(c, 0) for c in (
        "active", "high", "medium", "low", "open", "confirmed", "dismissed", "escalated")}}
        for k, v in sorted(rules.items())]

    gaps = sorted(compliance, key=lambda r: (r["levy_gap"] or 0), reverse=True)[:50]
    levy_gaps = [{"employer_id": r["employer_id"], "name": r["name"], "city": _city(r["region_code"])[1],
                  "total_staff": r["total_staff"], "declared_count": _num(r["declared_count"]),
                  "verified_count": _num(r["verified_count"]), "levy_declared": _num(r["levy_declared"]),
                  "levy_verified": _num(r["levy_verified"]), "levy_gap": _num(r["levy_gap"])}
                 for r in gaps if (r["levy_gap"] or 0) > 0]

    counted = [i for i in institutions if not i["is_school"]]
    dpf = [i for i in counted if i["is_dpf_organ"]]
    dpf_ok = [i for i in dpf if (i["actual_staff"] or 0) and (i["disabled_staff"] or 0) / i["actual_staff"] >= 0.15]
    big_organs = [i for i in counted if i["kind"] in ("行政机关", "群团机关") and (i["actual_staff"] or 0) >= 50]
    big_inst = [i for i in counted if i["kind"] == "事业单位" and (i["actual_staff"] or 0) >= 67]
    public_sector = [
        {"measure": "organs and institutions counted (schools excluded)", "value": len(counted)},
        {"measure": "staff with a disability in them", "value": sum(i["disabled_staff"] or 0 for i in counted)},
        {"measure": "DPF organs", "value": len(dpf)},
        {"measure": "DPF organs at ≥ 15% staff with a disability", "value": len(dpf_ok)},
        {"measure": "organs with ≥ 50 staff employing none", "value": sum(1 for i in big_organs if not i["disabled_staff"])},
        {"measure": "institutions with ≥ 67 staff employing none", "value": sum(1 for i in big_inst if not i["disabled_staff"])},
    ]

    totals = {k: sum((c[k] for c in by_city), 0) for k in (
        "employers", "total_staff", "required_count", "declared_count", "verified_count",
        "levy_declared", "levy_verified", "levy_gap", "active_flags")}
    summary = [{"measure": k, "value": v} for k, v in totals.items()]
    summary.insert(0, {"measure": "declaration year", "value": year})
    summary.append({"measure": "generated at", "value": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")})
    return {"summary": summary, "by_city": by_city, "flags_by_rule": flags_by_rule,
            "levy_gaps": levy_gaps, "public_sector": public_sector}


def _num(v):
    if isinstance(v, Decimal):
        return float(v) if v != v.to_integral_value() else int(v)
    return v


def write_report(report: dict[str, list[dict]], path: Path, year: int) -> Path:
    """Write the report as .xlsx (one sheet per section) or .html."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        import openpyxl
        from openpyxl.styles import Font

        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for name in SECTIONS:
            ws = wb.create_sheet(name)
            rows = report[name]
            ws.append([f"{year}年 {TITLES[name]}"])
            ws["A1"].font = Font(bold=True, size=13)
            if rows:
                ws.append(list(rows[0].keys()))
                for cell in ws[2]:
                    cell.font = Font(bold=True)
                for r in rows:
                    ws.append(list(r.values()))
        wb.save(path)
    elif path.suffix.lower() in (".html", ".htm"):
        parts = [f"<!doctype html><meta charset='utf-8'><title>{year}年 残疾人按比例就业 实施情况报告</title>",
                 "<style>body{font:14px system-ui;margin:2rem}table{border-collapse:collapse;margin-bottom:2rem}"
                 "td,th{border:1px solid #ccd;padding:.25rem .5rem}th{background:#eef}</style>",
                 f"<h1>{year}年 残疾人按比例就业 实施情况报告</h1>"]
        for name in SECTIONS:
            rows = report[name]
            parts.append(f"<h2 id='{name}'>{html.escape(TITLES[name])}</h2>")
            if not rows:
                parts.append("<p>—</p>")
                continue
            parts.append("<table><tr>" + "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0]) + "</tr>")
            for r in rows:
                parts.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>")
            parts.append("</table>")
        path.write_text("\n".join(parts), encoding="utf-8")
    else:
        raise ValueError(f"report format must be .xlsx or .html, got {path.suffix or 'no suffix'}")
    return path
