"""training: quarterly `pxxy_YYYYQn.xlsx`: title row, header on row 2, data, a 合计 row."""

from openpyxl import Workbook
from openpyxl.worksheet.cell_range import MultiCellRange

from synthetic import noise as nz
from synthetic.render.base import Renderer, normalise_zip, write_marker
from synthetic.scenarios import TRAINING_QUARTERS

HEADER = ["序号", "学员编号", "姓名", "证件类型", "证件号码", "性别", "年龄", "联系电话",
          "培训项目名称", "培训类别", "培训机构", "开班日期", "结业日期", "培训结果",
          "是否取得证书", "所在市"]
_QUARTER_WORD = {"Q1": "一", "Q2": "二", "Q3": "三", "Q4": "四"}


class TrainingRenderer(Renderer):
    """One workbook per quarter, streamed in write-only mode."""

    source = "training"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.books = {}
        self.counts = {}
        for quarter in TRAINING_QUARTERS:
            wb = Workbook(write_only=True)
            ws = wb.create_sheet("培训学员名单")
            ws.merged_cells = MultiCellRange(["A1:P1"])
            ws.append([f"{quarter[:4]}年第{_QUARTER_WORD[quarter[4:]]}季度残疾人职业培训学员名单"])
            ws.append(HEADER)
            self.books[quarter] = (wb, ws)
            self.counts[quarter] = 0

    def write(self, chunk, decls, truth) -> None:
        rng = self.rng(chunk)
        n = self.noise
        hx = self.harsh(chunk)
        for t in chunk.trainings:
            wb, ws = self.books[t.quarter]
            p = t.person
            cert = p.main_cert()
            doc_type = "残疾证" if cert and rng.random() < 0.3 else "身份证"
            number: object
            if doc_type == "残疾证":
                number = cert.number
                if rng.random() < n.cert_in_id_column:
                    number = p.id18
            else:
                number, _ = nz.typed_id(p.id18, rng, p_wrong=n.id_wrong_digit,
                                        p_swap=n.id_transposed, p_15=n.id_15,
                                        p_full=n.id_fullwidth)
                r = rng.random()
                if r < n.cert_in_id_column and cert:
                    number = cert.number
                elif r < n.cert_in_id_column + n.excel_damaged:
                    number = nz.excel_damaged(p.id18)
            name = p.name if rng.random() > 0.15 else nz.spaced(p.name, rng)
            name = nz.name_variant(name, rng, n.name_traditional, n.name_homophone, 0.0)
            phone = p.phone if rng.random() < 0.9 else None
            if hx:
                name, phone = hx.name(name), hx.phone(phone, p.phone_old)
                if isinstance(number, str):
                    number = hx.id_number(number, may_drop=False)
            self.counts[t.quarter] += 1
            ws.append([
                self.counts[t.quarter], t.trainee_id, name, doc_type, number, p.gender_zh,
                p.age_on(t.start), phone, t.course, t.kind,
                t.provider, t.start, t.end, t.result, t.certified, t.city,
            ])
            truth.person(self.source, t.trainee_id, p.pid)

    def close(self) -> dict[str, int]:
        for quarter, (wb, ws) in self.books.items():
            ws.append(["合计", f"共{self.counts[quarter]}人"] + [None] * (len(HEADER) - 2))
            path = self.dir / f"pxxy_{quarter}.xlsx"
            wb.save(path)
            normalise_zip(path)
            write_marker(path)
        return {f"pxxy_{q}.xlsx": c for q, c in self.counts.items()}
