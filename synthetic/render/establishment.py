"""establishment: yearly `jgbz_YYYY.csv`, UTF-8 without BOM: organs and public institutions."""

from datetime import date

from synthetic.render.base import CsvOut, Renderer
from synthetic.scenarios import ESTABLISHMENT_YEARS

HEADER = ["统一社会信用代码", "机构名称", "机构类别", "主管部门", "所在地区代码", "核定编制数",
          "实有人数", "残疾人在职人数", "是否中小学幼儿园", "是否残联机关", "更新日期"]


class EstablishmentRenderer(Renderer):
    """Every organ and public institution of Shandong, each year."""

    source = "establishment"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outs = {y: CsvOut(self.dir / f"jgbz_{y}.csv", HEADER, "utf-8")
                     for y in ESTABLISHMENT_YEARS}

    def write(self, chunk, decls, truth) -> None:
        rng = self.rng(chunk)
        disabled: dict[str, set[str]] = {}
        for post in chunk.posts:
            disabled.setdefault(post.organ.eid, set()).add(post.person.pid)
        for s in chunk.spells:
            if s.employer.kind in ("organ", "public_institution"):
                disabled.setdefault(s.employer.eid, set()).add(s.person.pid)
        for emp in chunk.employers:
            if emp.kind not in ("organ", "public_institution") or emp.outside:
                continue
            for year in ESTABLISHMENT_YEARS:
                self.outs[year].write({
                    "统一社会信用代码": emp.uscc, "机构名称": emp.name, "机构类别": emp.est_kind,
                    "主管部门": emp.supervisor, "所在地区代码": emp.region,
                    "核定编制数": emp.authorised, "实有人数": emp.staff.get(year, 0),
                    "残疾人在职人数": len(disabled.get(emp.eid, ())),
                    "是否中小学幼儿园": "是" if emp.is_school else "否",
                    "是否残联机关": "是" if emp.is_dpf else "否",
                    "更新日期": date(year, 12, rng.randint(1, 28)).isoformat(),
                })
                self.rows += 1
            truth.employer(self.source, emp.uscc, emp.eid)

    def close(self) -> dict[str, int]:
        for out in self.outs.values():
            out.close()
        return {f"jgbz_{y}.csv": o.rows for y, o in self.outs.items()}
