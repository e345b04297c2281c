"""Re-render a province's deliveries the ways source-contracts.md allows (or leaves open), keeping every fact."""

import argparse
import csv
import datetime as dt
import functools
import io
import json
import random
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import openpyxl

from quotalink.contracts import RAW_TABLES

# Encodings, markers and file names are the contract's; the rest is what another team's writer may
# do with them. "contract": only what the text allows; "lenient": also what it leaves open or a
# real producer plausibly does (BOM on a UTF-8-without-BOM file, Excel's own cell types).
LEVELS = ("contract", "lenient")

CSV_SOURCES = {  # source: (encoding, ID columns that may be 15 digits, other ID columns, free text, dates)
    "disability_registry": ("utf-8-sig", ("公民身份号码",), (), ("现居住地址",), ()),
    "employment_service": ("gb18030", ("身份证号",), (), ("就业单位", "户籍所在地", "登记机构"), ("就业日期", "离职日期")),
    "org": ("gb18030", (), ("身份证号",), ("职务职级",), ()),
    "establishment": ("utf-8", (), (), ("主管部门",), ()),
    "unemployed_survey": ("gb18030", (), ("身份证号",), ("户籍地址", "培训需求"), ()),
}
_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_FULL = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz()-,"}
_HALF = {"（": "(", "）": ")"}


def check_char(first17: str) -> str:
    """GB 11643 check character of 17 digits."""
    return "10X98765432"[sum(int(a) * b for a, b in zip(first17, _W, strict=True)) % 11]


def legacy15(id18: str) -> str | None:
    """The 15-digit form of a valid 18-character ID of someone born 1900–1999 (else None)."""
    if not re.fullmatch(r"\d{17}[\dXx]", id18) or id18[6:8] != "19" or check_char(id18[:17]) != id18[17].upper():
        return None
    return id18[:6] + id18[8:17]


def full_width(text: str) -> str:
    """ASCII letters, digits and punctuation as their full-width forms; full-width brackets as ASCII."""
    return "".join(_FULL.get(c, _HALF.get(c, c)) for c in text)


def respell(name: str) -> str:
    """A header as a clerk types it: ASCII brackets for full-width ones, two-character names spaced."""
    if "（" in name:
        return name.replace("（", "(").replace("）", ")")
    return f"{name[0]} {name[1]}" if len(name) == 2 else name


class Variation:
    """What one re-rendering does; every choice drawn from one seeded generator per file."""

    def __init__(self, level: str = "contract", seed: int = 0, share: float = 0.3):
        assert level in LEVELS
        self.level, self.seed, self.share = level, seed, share
        self.lenient = level == "lenient"
        self.log: list[str] = []

    def rng(self, name: str) -> random.Random:
        return random.Random(f"{self.seed}/{name}")

    def note(self, text: str) -> None:
        self.log.append(text)

    # ---- values -------------------------------------------------------------------------
    def id_value(self, rng: random.Random, value: str, may_be_15: bool) -> str:
        if not value:
            return value
        if may_be_15 and rng.random() < self.share / 2 and (short := legacy15(value)):
            return short
        if value.endswith("X") and rng.random() < 0.7:
            value = value[:-1] + "x"
        if self.lenient and rng.random() < self.share / 3:
            value = rng.choice((f" {value}", f"{value} ", full_width(value)))
        return value

    def free_text(self, rng: random.Random, value: str) -> str:
        if not value or rng.random() >= self.share:
            return value
        return rng.choice((full_width(value), f" {value}", f"{value}　", value.replace("市", "市 ", 1)))

    def date_text(self, rng: random.Random, value: str) -> str:
        """One of employment_service's formats for the same date (`2023年5月` only for the 1st)."""
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value or "")
        if not m:
            return value
        y, mo, d = (int(g) for g in m.groups())
        choices = [value, f"{y}/{mo}/{d}"]
        if d == 1:
            choices.append(f"{y}年{mo}月")
        return rng.choice(choices)


# ---- CSV --------------------------------------------------------------------------------
def read_csv(path: Path, encoding: str) -> tuple[list[str], list[dict]]:
    with path.open(encoding=encoding, newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]]


def write_csv(path: Path, header: list[str], rows: list[dict], encoding: str, *, eol: str, quote_all: bool,
              final_eol: bool = True) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator=eol, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(c, "") for c in header])
    text = buf.getvalue()
    if not final_eol:
        text = text[: -len(eol)]
    path.write_bytes(text.encode(encoding))


def rerender_csv(src: Path, out: Path, source: str, var: Variation) -> None:
    encoding, ids15, ids, free, dates = CSV_SOURCES[source]
    for path in sorted((src / source).glob("*.csv")):
        rng = var.rng(path.name)
        header, rows = read_csv(path, encoding)
        key = next(t.key for t in RAW_TABLES if t.source == source)
        for r in rows:
            for c in ids15:
                r[c] = var.id_value(rng, r[c], True)
            for c in ids:
                r[c] = var.id_value(rng, r[c], False)
            if var.lenient:  # a CSV made for Excel: identifiers guarded from becoming numbers
                for c in (key, *ids15, *ids):
                    if r[c] and re.fullmatch(r"[0-9A-Za-z-]+", r[c]) and rng.random() < var.share / 3:
                        r[c] = rng.choice((f'="{r[c]}"', f"'{r[c]}"))
            for c in free:
                r[c] = var.free_text(rng, r[c])
            for c in dates:
                r[c] = var.date_text(rng, r[c])
            r["备注"] = rng.choice(("", "含,逗号", '含"引号"', "两\r\n行", "　"))
        new_header = [*header, "备注"]
        rng.shuffle(new_header)
        if var.lenient:
            rows = [{respell(k): v for k, v in r.items()} for r in rows]
            new_header = [respell(h) for h in new_header]
        eol = rng.choice(("\r\n", "\n"))
        enc = encoding
        if source == "disability_registry" and var.lenient and rng.random() < 0.5:
            enc = "utf-8"  # no BOM
        if source == "establishment" and var.lenient and rng.random() < 0.5:
            enc = "utf-8-sig"  # a BOM the contract says is absent
        if encoding == "gb18030" and rng.random() < 0.5:
            try:  # a GBK writer: the same bytes for every GBK character
                "".join(",".join(r.values()) for r in rows).encode("gbk")
                enc = "gbk"
            except UnicodeEncodeError:
                pass
        target = out / source / path.name
        write_csv(target, new_header, rows, enc, eol=eol, quote_all=rng.random() < 0.5, final_eol=rng.random() < 0.8)
        var.note(f"{source}/{path.name}: {enc}, eol {eol!r}, columns shuffled + 备注")
    if source == "employment_service":  # a month without registrations: a header and nothing else
        first = min(p.name for p in (src / source).glob("jyxx_*.csv"))
        y, m = int(first[5:9]), int(first[9:11])
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        name = f"jyxx_{y}{m:02d}.csv"
        header, _ = read_csv(sorted((src / source).glob("*.csv"))[0], encoding)
        write_csv(out / source / name, header, [], encoding, eol="\r\n", quote_all=False)
        var.note(f"{source}/{name}: zero-row delivery")


# ---- XLSX -------------------------------------------------------------------------------
def _date_cell(rng: random.Random, value, var: Variation):
    """An Excel date as another writer stores it: date or datetime cell in some number format."""
    if not isinstance(value, dt.datetime | dt.date):
        return value, None
    fmt = rng.choice(("yyyy-mm-dd", "yyyy/m/d", 'yyyy"年"m"月"d"日"', "m/d/yyyy", "yyyy-mm-dd hh:mm:ss"))
    if var.lenient and rng.random() < var.share / 2:
        return value.strftime("%Y-%m-%d"), "@"  # typed as text
    return value, fmt


def _lists_sheet(wb) -> None:
    """A template's hidden sheet holding the lists its drop-downs offer."""
    ws = wb.create_sheet("字典")
    for row in (["性别", "残疾类别"], ["男", "视力"], ["女", "听力"], [None, "肢体"]):
        ws.append(row)
    ws.sheet_state = "hidden"


def rerender_training(src: Path, out: Path, var: Variation) -> None:
    for path in sorted((src / "training").glob("*.xlsx")):
        rng = var.rng(path.name)
        ws_in = openpyxl.load_workbook(path).worksheets[0]
        rows = [list(r) for r in ws_in.iter_rows(values_only=True)]
        title, header, data = rows[0][0], list(rows[1]), rows[2:]
        total = [r for r in data if r and str(r[0]).strip() in ("合计",)]
        data = [r for r in data if r not in total]
        order = list(range(len(header)))
        rng.shuffle(order)
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "培训学员名单"
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
        ws.append([respell(header[i]) if var.lenient else header[i] for i in order])
        col = {h: i for i, h in enumerate(header)}
        for r in data:
            r = list(r)
            kind = r[col["证件类型"]]
            r[col["证件号码"]] = var.id_value(rng, str(r[col["证件号码"]] or ""), kind == "身份证") or None
            r[col["培训机构"]] = var.free_text(rng, r[col["培训机构"]] or "") or None
            if rng.random() < 0.5:
                r[col["年龄"]] = str(r[col["年龄"]])  # a number stored as text
            r[col["序号"]] = str(r[col["序号"]]) if rng.random() < 0.5 else r[col["序号"]]
            phone = r[col["联系电话"]]
            if var.lenient and phone and re.fullmatch(r"1\d{10}", str(phone)) and rng.random() < 0.3:
                r[col["联系电话"]] = int(phone)  # a mobile number typed into a General cell
            fmts = {}
            for c in ("开班日期", "结业日期"):
                r[col[c]], fmts[c] = _date_cell(rng, r[col[c]], var)
            ws.append([r[i] for i in order])
            for c, f in fmts.items():
                if f:
                    ws.cell(ws.max_row, order.index(col[c]) + 1).number_format = f
        if total and rng.random() < 0.7:
            t = [None] * len(header)
            t[order.index(col["序号"])] = "合计"
            t[order.index(col["学员编号"])] = f"共{len(data)}人"
            ws.append(t)
        for _ in range(rng.choice((0, 3, 20))):  # formatted empty rows Excel keeps
            ws.append([None] * len(header))
            ws.cell(ws.max_row, 1).number_format = "@"
        if var.lenient:
            wb.create_sheet("Sheet2")  # Excel's default extra sheets, left empty
            wb.create_sheet("Sheet3")
            _lists_sheet(wb)
        wb.save(out / "training" / path.name)
        var.note(f"training/{path.name}: columns shuffled, numbers/text mixed, date formats varied")
    first = min(p.name for p in (src / "training").glob("*.xlsx"))
    y, q = int(first[5:9]), int(first[10])
    y, q = (y, q - 1) if q > 1 else (y - 1, 4)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "培训学员名单"
    ws.append([f"{y}年第{'一二三四'[q - 1]}季度残疾人职业培训学员名单"])
    ws.append(header)
    ws.append(["合计", "共0人"])
    wb.save(out / "training" / f"pxxy_{y}Q{q}.xlsx")
    var.note(f"training/pxxy_{y}Q{q}.xlsx: zero-row delivery with a 合计 row")


def rerender_graduates(src: Path, out: Path, var: Variation) -> None:
    for path in sorted((src / "graduates").glob("*.xlsx")):
        rng = var.rng(path.name)
        wb_in = openpyxl.load_workbook(path)
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for ws_in in wb_in.worksheets:
            rows = [list(r) for r in ws_in.iter_rows(values_only=True)]
            header, data = list(rows[0]), rows[1:]
            col = {h: i for i, h in enumerate(header)}
            order = list(range(len(header)))
            rng.shuffle(order)  # every sheet its own order
            ws = wb.create_sheet(ws_in.title)
            ws.append([header[i] for i in order])
            for r in data:
                r = list(r)
                if not any(v is not None for v in r):
                    continue
                r[col["身份证号"]] = var.id_value(rng, str(r[col["身份证号"]] or ""), False) or None
                r[col["就业单位"]] = var.free_text(rng, r[col["就业单位"]] or "") or None
                for c in ("学校代码", "入学年份"):  # digits stored as numbers or as text
                    v = r[col[c]]
                    if v is not None and re.fullmatch(r"[1-9]\d*", str(v)):
                        r[col[c]] = int(v) if rng.random() < 0.5 else str(v)
                v = r[col["学号"]]
                if v is not None and re.fullmatch(r"[1-9]\d{0,14}", str(v)) and rng.random() < 0.5:
                    r[col["学号"]] = int(v)
                fmts = {}
                if var.lenient:
                    v = r[col["更新日期"]]
                    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) and rng.random() < 0.5:
                        r[col["更新日期"]] = dt.datetime.strptime(v, "%Y-%m-%d")  # Excel made it a date
                        fmts["更新日期"] = "yyyy-mm-dd"
                    v = r[col["预计毕业时间"]]
                    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}", v) and rng.random() < 0.5:
                        r[col["预计毕业时间"]] = dt.datetime.strptime(v + "-01", "%Y-%m-%d")
                        fmts["预计毕业时间"] = "yyyy-mm"
                ws.append([r[i] for i in order])
                for c, f in fmts.items():
                    ws.cell(ws.max_row, order.index(col[c]) + 1).number_format = f
            for _ in range(rng.choice((0, 2, 10))):
                ws.append([None] * len(header))
                ws.cell(ws.max_row, 1).number_format = "@"
        rng.shuffle(wb._sheets)  # sheets in another order
        if var.lenient:
            wb.create_sheet("Sheet1")  # an empty default sheet left in the workbook
            _lists_sheet(wb)
        wb.save(out / "graduates" / path.name)
        var.note(f"graduates/{path.name}: sheets and columns reordered, digits as numbers")


# ---- quota JSON Lines -------------------------------------------------------------------
def rerender_quota(src: Path, out: Path, var: Variation) -> None:
    for name in ("declarations.jsonl", "declared-employees.jsonl"):
        rng = var.rng(name)
        lines = []
        for line in (src / "quota" / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            if "id_number" in item and item["id_number"]:
                item["id_number"] = var.id_value(rng, item["id_number"], True)
            if item.get("uscc") and rng.random() < var.share:
                u = item["uscc"]
                item["uscc"] = rng.choice((u.lower(), f"{u[:6]} {u[6:]}", f" {u} "))
            if item.get("org_code") and rng.random() < var.share:
                o = item["org_code"]
                item["org_code"] = o.replace("-", "") if "-" in o else f"{o[:8]}-{o[8:]}"
            for k in ("monthly_wage", "avg_annual_wage"):
                if isinstance(item.get(k), float) and item[k].is_integer() and rng.random() < 0.5:
                    item[k] = int(item[k])
            for k in [k for k, v in item.items() if v is None]:
                if rng.random() < 0.5:
                    del item[k]  # a missing field instead of a null
            keys = list(item)
            rng.shuffle(keys)
            lines.append(json.dumps({k: item[k] for k in keys}, ensure_ascii=rng.random() < 0.5))
        (out / "quota" / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        var.note(f"quota/{name}: field order, absent nulls, uscc/org_code/id spellings")


# ---- hr SQLite --------------------------------------------------------------------------
def rerender_hr(src: Path, out: Path, var: Variation) -> None:
    """The offline hr.db with integers kept as text where SQLite's loose typing lets a writer."""
    target = out / "hr" / "hr.db"
    shutil.copy2(src / "hr" / "hr.db", target)
    if not var.lenient:
        return
    con = sqlite3.connect(target)
    con.execute("update ac01 set aac006 = cast(aac006 as text)")
    con.execute("update ac08 set aae002 = cast(aae002 as text)")
    con.commit()
    con.close()
    var.note("hr/hr.db: aac006, aae002 stored as text")


def _csv_source(source: str, src: Path, out: Path, var: Variation) -> None:
    rerender_csv(src, out, source, var)


RENDERERS: dict[str, Callable[[Path, Path, Variation], None]] = {
    **{s: functools.partial(_csv_source, s) for s in CSV_SOURCES},
    "training": rerender_training,
    "graduates": rerender_graduates,
    "quota": rerender_quota,
    "hr": rerender_hr,
}


def rerender(src: Path, out: Path, var: Variation, sources: list[str] | None = None) -> list[str]:
    """Write every source of `src` re-rendered into `out` (markers beside every file); the log."""
    for source in sorted(p.name for p in src.iterdir() if p.is_dir()):
        (out / source).mkdir(parents=True, exist_ok=True)
        if sources is not None and source not in sources:
            shutil.copytree(src / source, out / source, dirs_exist_ok=True)
            continue
        RENDERERS[source](src, out, var)
        for f in (out / source).iterdir():
            if not f.name.endswith(".ok") and source not in ("quota", "hr"):
                (out / source / (f.name + ".ok")).write_bytes(b"")
    return var.log


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("src", type=Path, help="SOURCES_DIR of a generated province")
    p.add_argument("out", type=Path, help="where the re-rendered SOURCES_DIR goes (must not exist)")
    p.add_argument("--level", choices=LEVELS, default="contract")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--share", type=float, default=0.3, help="share of values varied")
    p.add_argument("--sources", nargs="*")
    a = p.parse_args()
    a.out.mkdir(parents=True)
    for line in rerender(a.src, a.out, Variation(a.level, a.seed, a.share), a.sources):
        print(line)


if __name__ == "__main__":
    main()
