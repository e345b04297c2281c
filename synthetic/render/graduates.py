"""graduates: yearly `gxcjrdxs_YYYY.xlsx`, one sheet per university, header on row 1."""

from datetime import date

from openpyxl import Workbook

import refdata
from synthetic import noise as nz
from synthetic import tables
from synthetic.render.base import Renderer, normalise_zip, write_marker
from synthetic.scenarios import GRADUATE_YEARS

HEADER = ["学校代码", "学号", "姓名", "身份证号", "残疾证号", "性别", "出生年月", "残疾类别",
          "学历层次", "专业", "入学年份", "预计毕业时间", "毕业去向", "就业单位", "联系电话",
          "帮扶措施", "更新日期"]
_HELP = ("就业指导", "岗位推荐", "求职补贴", "心理辅导", "一人一策就业帮扶", "实习岗位对接")


class GraduatesRenderer(Renderer):
    """Students listed at the end of each year: 在读, or their destination when graduating."""

    source = "graduates"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.books = {}
        self.counts = {y: 0 for y in GRADUATE_YEARS}
        for year in GRADUATE_YEARS:
            wb = Workbook(write_only=True)
            sheets = {}
            for uni in tables.rows("universities"):
                ws = wb.create_sheet(uni["name"])
                ws.append(HEADER)
                sheets[uni["code"]] = ws
            self.books[year] = (wb, sheets)

    def write(self, chunk, decls, truth) -> None:
        rng = self.rng(chunk)
        hx = self.harsh(chunk)
        for st in chunk.students:
            p = st.person
            cert = p.main_cert()
            for year in GRADUATE_YEARS:
                if not st.enrol_year <= year <= st.grad_year:
                    continue
                graduating = st.grad_year == year
                destination = st.destination if graduating else "在读"
                employer_name = None
                if graduating and destination == "已就业" and st.employer is not None:
                    employer_name = st.employer.name_in(year)
                    if rng.random() < self.noise.company_variant:
                        employer_name = nz.company_variant(employer_name,
                                                           st.employer.city_short, rng)
                    if hx:
                        employer_name = hx.employer(employer_name, st.employer.city_short)
                _wb, sheets = self.books[year]
                id_cell: object = p.id18
                if rng.random() < self.noise.excel_damaged / 2:
                    id_cell = nz.excel_damaged(p.id18)  # typed as a number in Excel
                sheets[st.school_code].append([
                    st.school_code, st.student_no, p.name, id_cell,
                    cert.number if cert and rng.random() < 0.8 else None, p.gender_zh,
                    f"{p.birth.year}.{p.birth.month:02d}",
                    refdata.disability_category_name(cert.category) if cert else None,
                    st.level, st.major, st.enrol_year, f"{st.grad_year}-{st.grad_month:02d}",
                    destination, employer_name, p.phone, rng.choice(_HELP),
                    date(year, rng.randint(9, 12), rng.randint(1, 28)).isoformat(),
                ])
                self.counts[year] += 1
                truth.person(self.source, st.key, p.pid)
                if employer_name:
                    truth.employer(self.source, st.key, st.employer.eid)

    def close(self) -> dict[str, int]:
        for year, (wb, _sheets) in self.books.items():
            path = self.dir / f"gxcjrdxs_{year}.xlsx"
            wb.save(path)
            normalise_zip(path)
            write_marker(path)
        return {f"gxcjrdxs_{y}.xlsx": c for y, c in self.counts.items()}
