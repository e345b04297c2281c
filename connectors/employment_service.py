"""employment_service: monthly increments of employment registrations (CSV, GB18030)."""

from collections.abc import Iterator

from connectors.files import FileSource
from connectors.mentions import employer_mention, person_fields, person_mention
from connectors.staging import Context, text
from quotalink.contracts import EMPLOYMENT_SERVICE as SPEC
from quotalink.standardise import (
    normalise_uscc,
    parse_category,
    parse_level,
    region_from_text,
)

# 操作类型 → whether the registration stands withdrawn after this record.
OPERATIONS = {"新增": False, "变更": False, "注销": True}
# The three spellings of the contract (strptime accepts 2023/5/1 for %Y/%m/%d).
WORK_DATES = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月")
DAY = ("%Y-%m-%d",)


def stage_row(row: dict, ctx: Context) -> Iterator[tuple[str, dict]]:
    """A registration record → its registration fact, a person and maybe an employer mention."""
    key = text(row, "登记编号")
    person = person_fields(ctx, row, name="姓名", id_col="身份证号", cert_col="残疾证号",
                           gender_col="性别")
    operation = text(row, "操作类型")
    withdrawn = ctx.code(row, "操作类型", OPERATIONS)
    uscc = ctx.parsed(row, "单位社会信用代码", normalise_uscc)
    employer_raw = text(row, "就业单位")
    hukou_text = text(row, "户籍所在地")
    registered = ctx.date(row, "登记日期", DAY)
    start = ctx.date(row, "就业日期", WORK_DATES)
    yield "staging.employment_registration", {
        "registration_id": key,
        "form": text(row, "就业形式"),
        "employer_name": employer_raw,
        "uscc": uscc,
        "start_date": start,
        "end_date": ctx.date(row, "离职日期", WORK_DATES),
        "monthly_income": ctx.decimal(row, "月收入（元）", lo=0),
        "hukou_text": hukou_text,
        "office": text(row, "登记机构"),
        "registered_on": registered,
        "operation": operation,
        "is_withdrawn": withdrawn,
        "period": ctx.period,
    }
    category = ctx.cached(row, "残疾类别", parse_category)
    level = ctx.cached(row, "残疾等级", parse_level)
    yield person_mention(ctx, key, person,
                         hukou_region_code=region_from_text(hukou_text) if hukou_text else None,
                         disability_category=category, disability_level=level,
                         observed_on=registered or start)
    # Only registrations naming an employer (by name or code) speak of one.
    if employer_raw or text(row, "单位社会信用代码"):
        yield employer_mention(ctx, key, employer_raw, uscc=uscc, observed_on=registered or start)


SOURCE = FileSource(SPEC, stage_row)
