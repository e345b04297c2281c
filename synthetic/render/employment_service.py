"""employment_service: monthly increments `jyxx_YYYYMM.csv`, GB18030, mixed date formats."""

from datetime import date

import refdata
from synthetic import noise as nz
from synthetic.render.base import CsvOut, Renderer
from synthetic.scenarios import jyxx_months

HEADER = ["登记编号", "姓名", "身份证号", "残疾证号", "性别", "残疾类别", "残疾等级", "就业形式",
          "就业单位", "单位社会信用代码", "就业日期", "离职日期", "月收入（元）", "户籍所在地",
          "登记机构", "登记日期", "操作类型"]


class EmploymentServiceRenderer(Renderer):
    """Registrations with their 新增 / 变更 / 注销 events, one file per month."""

    source = "employment_service"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outs = {m: CsvOut(self.dir / f"jyxx_{m}.csv", HEADER, "gb18030")
                     for m in jyxx_months(self.as_of)}

    def write(self, chunk, decls, truth) -> None:
        rng = self.rng(chunk)
        n = self.noise
        hx = self.harsh(chunk)
        for reg in chunk.registrations:
            p = reg.person
            cert = p.main_cert()
            # What the clerk typed is decided once per registration and kept in every event.
            name = nz.name_variant(p.name, rng, n.name_traditional, n.name_homophone,
                                   n.name_space)
            idless = self.scn.hard and rng.random() < self.scn.idless_share
            if idless or rng.random() < n.id_missing:
                id_number = None
            else:
                id_number, _ = nz.typed_id(p.id18, rng, p_wrong=n.id_wrong_digit,
                                           p_swap=n.id_transposed, p_15=n.id_15,
                                           p_full=n.id_fullwidth)
            cert_no = cert.number if cert and not idless and rng.random() < 0.6 else None
            employer_name = uscc = None
            if reg.employer is not None:
                emp = reg.employer
                employer_name = emp.name_in(reg.start.year if reg.start.year < 2025 else 2025)
                clerk = (self.scn.hard and not emp.outside
                         and rng.random() < self.scn.clerk_name_share)
                if clerk:
                    employer_name = nz.clerk_name(employer_name, emp.city_short,
                                                  refdata.region(emp.region).city_name, rng)
                elif rng.random() < n.company_variant:
                    employer_name = nz.company_variant(employer_name, emp.city_short, rng)
                if not clerk and (emp.welfare or rng.random() > n.uscc_missing_jyxx):
                    uscc = emp.uscc
                if rng.random() < 0.03 and uscc:
                    employer_name = None
            if hx:
                name, id_number = hx.name(name), hx.id_number(id_number)
                cert_no = hx.cert(cert_no)
                if reg.employer is not None:
                    employer_name = hx.employer(employer_name, reg.employer.city_short)
                    uscc = hx.uscc(uscc)
            region = refdata.region(p.hukou_on(reg.start))
            hukou = f"山东省{region.city_name}{region.name}"
            if rng.random() < n.name_traditional:
                hukou = nz.traditional(hukou)
            start_text = nz.mixed_date(reg.start, rng)
            if hx:
                start_text = hx.jyxx_date(start_text)
            emitted = False
            for month, op, end in reg.events:
                y, m = int(month[:4]), int(month[4:])
                end_text = nz.mixed_date(end, rng) if end else None
                if hx:
                    end_text = hx.jyxx_date(end_text)
                income = None if reg.income is None or rng.random() < 0.1 else reg.income
                registered = date(y, m, rng.randint(1, 28)).isoformat()
                if month not in self.outs:
                    continue  # a later month than this delivery goes to
                emitted = True
                self.outs[month].write({
                    "登记编号": reg.reg_id, "姓名": name, "身份证号": id_number,
                    "残疾证号": cert_no, "性别": p.gender_zh,
                    "残疾类别": refdata.disability_category_name(cert.category) if cert else None,
                    "残疾等级": refdata.disability_level_name(cert.level) if cert else None,
                    "就业形式": reg.form, "就业单位": employer_name, "单位社会信用代码": uscc,
                    "就业日期": start_text,
                    "离职日期": end_text, "月收入（元）": income,
                    "户籍所在地": hukou, "登记机构": reg.office, "登记日期": registered,
                    "操作类型": op,
                })
                self.rows += 1
            if not emitted:
                continue
            truth.person(self.source, reg.reg_id, p.pid)
            if self.scn.hard and id_number is None and cert_no is None:
                truth.tag("person", self.source, reg.reg_id, "idless_mention")
            if reg.employer is not None and (employer_name or uscc):
                truth.employer(self.source, reg.reg_id, reg.employer.eid)
                if self.scn.hard and clerk:
                    truth.tag("employer", self.source, reg.reg_id, "clerk_typed_name")

    def close(self) -> dict[str, int]:
        for out in self.outs.values():
            out.close()
        return {"jyxx_*.csv": sum(o.rows for o in self.outs.values()), "files": len(self.outs)}
