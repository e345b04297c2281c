"""training: quarterly lists of vocational-training trainees (XLSX, title row, totals row)."""

import datetime as dt
from collections.abc import Iterator

from connectors.files import FileSource
from connectors.mentions import person_fields, person_mention
from connectors.staging import Context, text
from quotalink.contracts import TRAINING as SPEC
from quotalink.standardise import birth_year_window, cert_category_level

YES_NO = {"是": True, "否": False}
DOCUMENT_TYPES = {"身份证": "id", "残疾证": "cert"}
# Folding that keeps only the characters a document number can consist of.
_FULL_WIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}


def document_kind(value: object) -> str | None:
    """'cert' for a 19–22 character value, 'id' otherwise: the shape decides, not the label.

    Clerks pick 证件类型 from a list and often leave it at its default, so a certificate
    number (20) stands under 身份证 and an ID (18 or 15) under 残疾证.
    """
    if value is None:
        return None
    compact = "".join(str(value).translate(_FULL_WIDTH).split()).replace("-", "")
    if not compact:
        return None
    return "cert" if 19 <= len(compact) <= 22 else "id"


def quarter_start(period: str) -> dt.date | None:
    """First day of a delivery period like '2024Q3'."""
    if len(period) == 6 and period[:4].isdigit() and period[4] == "Q" and period[5] in "1234":
        return dt.date(int(period[:4]), 3 * int(period[5]) - 2, 1)
    return None


def stage_row(row: dict, ctx: Context) -> Iterator[tuple[str, dict]]:
    """A trainee row → the training fact and a person mention (birth years from the age)."""
    key = text(row, "学员编号")
    start = ctx.date(row, "开班日期")
    yield "staging.training", {
        "trainee_id": key,
        "course": text(row, "培训项目名称"),
        "kind": text(row, "培训类别"),
        "provider": text(row, "培训机构"),
        "start_date": start,
        "end_date": ctx.date(row, "结业日期"),
        "result": text(row, "培训结果"),
        "certified": ctx.code(row, "是否取得证书", YES_NO),
        "city": text(row, "所在市"),
        "period": ctx.period,
    }
    ctx.code(row, "证件类型", DOCUMENT_TYPES)  # counts unknown labels; the value's shape decides
    number = row.get("证件号码")
    kind = document_kind(number)
    doc = {"姓名": row.get("姓名"), "性别": row.get("性别"), "联系电话": row.get("联系电话"),
           "id": number if kind == "id" else None, "cert": number if kind == "cert" else None}
    person = person_fields(ctx, doc, name="姓名", id_col="id", cert_col="cert",
                           gender_col="性别", phone_col="联系电话")
    person["id_number_raw"] = text(row, "证件号码")
    age = ctx.integer(row, "年龄", 0, 120)
    # The age is the age at enrolment; without a start date, the quarter's first day stands in.
    on = start or quarter_start(ctx.period)
    born_min, born_max = birth_year_window(age, on) if age is not None else (None, None)
    category, level = cert_category_level(person["cert_number"]) if person["cert_number"] else (None, None)
    yield person_mention(ctx, key, person, birth_year_min=born_min, birth_year_max=born_max,
                         disability_category=category, disability_level=level, observed_on=start)


SOURCE = FileSource(SPEC, stage_row)
