"""unemployed_survey: the yearly survey of working-age persons with a disability out of work."""

from collections.abc import Iterator

from connectors.files import FileSource
from connectors.mentions import person_fields, person_mention
from connectors.staging import Context, text
from quotalink.contracts import UNEMPLOYED_SURVEY as SPEC
from quotalink.standardise import parse_category, parse_level, region_from_text


def stage_row(row: dict, ctx: Context) -> Iterator[tuple[str, dict]]:
    """A questionnaire → the survey fact and a person mention."""
    key = text(row, "调查表编号")
    interviewed = ctx.date(row, "调查日期", ("%Y-%m-%d",))
    yield "staging.survey", {
        "questionnaire_id": key,
        "survey_year": ctx.integer(row, "调查年度", 2000, 2100),
        "reason": text(row, "未就业原因"),
        "wants_work": text(row, "就业意愿"),
        "training_wanted": text(row, "培训需求"),
        "interview_date": interviewed,
        "interviewer": text(row, "调查员"),
        "period": ctx.period,
    }
    person = person_fields(ctx, row, name="姓名", id_col="身份证号", cert_col="残疾证号",
                           phone_col="联系电话")
    address = text(row, "户籍地址")
    yield person_mention(ctx, key, person,
                         hukou_region_code=region_from_text(address) if address else None,
                         disability_category=ctx.cached(row, "残疾类别", parse_category),
                         disability_level=ctx.cached(row, "残疾等级", parse_level),
                         observed_on=interviewed)


SOURCE = FileSource(SPEC, stage_row)
