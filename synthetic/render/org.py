"""org: yearly `jgry_YYYY.csv`, GB18030: staff with a disability of organs and 参公 units."""

from datetime import date

from synthetic import noise as nz
from synthetic.render.base import CsvOut, Renderer
from synthetic.scenarios import ORG_YEARS

HEADER = ["人员编号", "姓名", "身份证号", "性别", "出生日期", "工作单位", "单位统一社会信用代码",
          "职务职级", "进入本单位时间", "是否持残疾人证", "残疾人证号", "编制类型"]


class OrgRenderer(Renderer):
    """Everyone on a register at the end of each year."""

    source = "org"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outs = {y: CsvOut(self.dir / f"jgry_{y}.csv", HEADER, "gb18030") for y in ORG_YEARS}

    def write(self, chunk, decls, truth) -> None:
        rng = self.rng(chunk)
        hx = self.harsh(chunk)
        for post in chunk.posts:
            p, organ = post.person, post.organ
            cert = p.main_cert() if post.has_cert else None
            organ_name = organ.name if rng.random() > 0.1 else nz.fullwidth(nz.spaced(organ.name, rng))
            uscc = organ.uscc if rng.random() < 0.8 else None
            if self.scn.hard and rng.random() < self.scn.organ_code_missing:
                uscc = None
                if rng.random() < 0.5:
                    # Typed without the city: '历下区人力资源和社会保障局'.
                    organ_name = nz.clerk_name(organ.name, organ.city_short, organ.name[:3], rng)
            cert_no = cert.number if cert and rng.random() < 0.75 else None
            name, id_number = p.name, p.id18
            if hx:
                name, id_number, cert_no = hx.name(name), hx.id_number(id_number, may_drop=False), hx.cert(cert_no)
                organ_name, uscc = hx.employer(organ_name, organ.city_short), hx.uscc(uscc)
            for year in ORG_YEARS:
                if post.joined > date(year, 12, 31):
                    continue
                self.outs[year].write({
                    "人员编号": post.staff_id, "姓名": name, "身份证号": id_number,
                    "性别": p.gender_zh, "出生日期": f"{p.birth:%Y%m%d}", "工作单位": organ_name,
                    "单位统一社会信用代码": uscc, "职务职级": post.post,
                    "进入本单位时间": f"{post.joined:%Y-%m}",
                    "是否持残疾人证": "是" if post.has_cert else "否", "残疾人证号": cert_no,
                    "编制类型": post.staffing_type,
                })
                self.rows += 1
                truth.person(self.source, post.staff_id, p.pid)
                truth.employer(self.source, post.staff_id, organ.eid)

    def close(self) -> dict[str, int]:
        for out in self.outs.values():
            out.close()
        return {f"jgry_{y}.csv": o.rows for y, o in self.outs.items()}
