"""unemployed_survey: yearly `wjydc_YYYY.csv`, GB18030: interviews of unemployed persons."""

import refdata
from synthetic import noise as nz
from synthetic.render.base import CsvOut, Renderer
from synthetic.scenarios import SURVEY_YEARS

HEADER = ["调查表编号", "调查年度", "姓名", "身份证号", "残疾证号", "残疾类别", "残疾等级",
          "户籍地址", "联系电话", "未就业原因", "就业意愿", "培训需求", "调查日期", "调查员"]


class SurveyRenderer(Renderer):
    """One row per interview."""

    source = "unemployed_survey"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outs = {y: CsvOut(self.dir / f"wjydc_{y}.csv", HEADER, "gb18030")
                     for y in SURVEY_YEARS}

    def write(self, chunk, decls, truth) -> None:
        rng = self.rng(chunk)
        n = self.noise
        hx = self.harsh(chunk)
        for iv in chunk.interviews:
            p = iv.person
            cert = p.main_cert()
            id_number = None
            idless = self.scn.hard and rng.random() < self.scn.idless_share
            if not idless and rng.random() >= n.id_missing * 1.5:
                id_number, _ = nz.typed_id(p.id18, rng, p_wrong=n.id_wrong_digit,
                                           p_swap=n.id_transposed, p_15=n.id_15,
                                           p_full=n.id_fullwidth)
            cert_no = cert.number if cert and not idless and (
                id_number is None or rng.random() < 0.7) else None
            address = p.address
            if p.address_before and p.moved_on and iv.day < p.moved_on:
                address = p.address_before
            if rng.random() < 0.05:
                address = nz.fullwidth(address.replace("路", "路 "))  # full-width digits, stray space
            name = nz.name_variant(p.name, rng, n.name_traditional, n.name_homophone,
                                   n.name_space)
            phone = p.phone
            if hx:
                name, id_number = hx.name(name), hx.id_number(id_number)
                cert_no, phone = hx.cert(cert_no), hx.phone(phone, p.phone_old)
            self.outs[iv.year].write({
                "调查表编号": iv.qid, "调查年度": iv.year,
                "姓名": name,
                "身份证号": id_number, "残疾证号": cert_no,
                "残疾类别": refdata.disability_category_name(cert.category) if cert else None,
                "残疾等级": refdata.disability_level_name(cert.level) if cert else None,
                "户籍地址": address, "联系电话": phone, "未就业原因": iv.reason,
                "就业意愿": iv.wants, "培训需求": iv.training, "调查日期": iv.day.isoformat(),
                "调查员": iv.interviewer,
            })
            self.rows += 1
            truth.person(self.source, iv.qid, p.pid)
            if self.scn.hard and id_number is None and cert_no is None:
                truth.tag("person", self.source, iv.qid, "idless_mention")

    def close(self) -> dict[str, int]:
        for out in self.outs.values():
            out.close()
        return {f"wjydc_{y}.csv": o.rows for y, o in self.outs.items()}
