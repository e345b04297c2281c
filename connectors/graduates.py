"""graduates: yearly state of university students with a disability (XLSX, a sheet per school)."""

from collections.abc import Iterator

from connectors.files import FileSource
from connectors.mentions import employer_mention, person_fields, person_mention
from connectors.staging import Context, text
from quotalink.contracts import GRADUATES as SPEC
from quotalink.standardise import parse_category

# The contract's formats, plus the ISO date a spreadsheet makes of a cell it took for a date.
BIRTH_MONTH = ("%Y.%m", "%Y-%m-%d")
GRADUATION_MONTH = ("%Y-%m", "%Y-%m-%d")
DAY = ("%Y-%m-%d",)


def student_key(row: dict) -> str | None:
    """The mention key `学校代码-学号` (student numbers are unique only within a school)."""
    school, number = text(row, "学校代码"), text(row, "学号")
    return f"{school}-{number}" if school and number else None


def stage_row(row: dict, ctx: Context) -> Iterator[tuple[str, dict]]:
    """A student row → the study fact, a person and (when employed) an employer mention."""
    key = student_key(row)
    year = int(ctx.period[:4]) if ctx.period[:4].isdigit() else None
    updated = ctx.date(row, "更新日期", DAY)
    employer_raw = text(row, "就业单位")
    yield "staging.study", {
        "student_key": key,
        "school_code": text(row, "学校代码"),
        "school_name": text(row, "sheet"),
        "level": text(row, "学历层次"),
        "major": text(row, "专业"),
        "enrol_year": ctx.integer(row, "入学年份", 1950, 2100),
        "expected_graduation": ctx.date(row, "预计毕业时间", GRADUATION_MONTH),
        "destination": text(row, "毕业去向"),
        "employer_name": employer_raw,
        "help_measures": text(row, "帮扶措施"),
        "updated_on": updated,
        "year": year,
        "period": ctx.period,
    }
    person = person_fields(ctx, row, name="姓名", id_col="身份证号", cert_col="残疾证号",
                           gender_col="性别", phone_col="联系电话")
    born_month = ctx.date(row, "出生年月", BIRTH_MONTH)  # YYYY.MM: only the year and month are known
    born_year = born_month.year if born_month else None
    yield person_mention(ctx, key, person, birth_year_min=born_year, birth_year_max=born_year,
                         disability_category=ctx.cached(row, "残疾类别", parse_category),
                         observed_on=updated)
    if employer_raw:
        yield employer_mention(ctx, key, employer_raw, observed_on=updated)


SOURCE = FileSource(SPEC, stage_row)
