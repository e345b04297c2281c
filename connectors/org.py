"""org: the organisation department's yearly roll of organ staff with a disability (GB18030)."""

import datetime as dt
from collections.abc import Iterator

from connectors.files import FileSource
from connectors.mentions import employer_mention, person_fields, person_mention
from connectors.staging import Context, text
from quotalink.contracts import ORG as SPEC
from quotalink.standardise import (
    normalise_uscc,
)

YES_NO = {"是": True, "否": False}
BIRTH_FORMAT = ("%Y%m%d",)  # the contract's formats; anything else is counted and nulled
JOINED_FORMAT = ("%Y-%m",)
# USCC registration-authority prefix, else 编制类型 → unit type (11 organs, 12 参公 institutions).
USCC_PREFIX = {"11": "organ", "12": "public_institution"}
STAFFING = {"行政编制": "organ", "参照公务员法管理事业编制": "public_institution"}


def stage_row(row: dict, ctx: Context) -> Iterator[tuple[str, dict]]:
    """A staff record → the civil-service fact, a person and an employer mention."""
    key = text(row, "人员编号")
    person = person_fields(ctx, row, name="姓名", id_col="身份证号", cert_col="残疾人证号",
                           gender_col="性别")
    birth = ctx.date(row, "出生日期", BIRTH_FORMAT) or person["birth_date"]
    uscc = ctx.parsed(row, "单位统一社会信用代码", normalise_uscc)
    organ_raw = text(row, "工作单位")
    year = int(ctx.period[:4]) if ctx.period[:4].isdigit() else None
    yield "staging.civil_service", {
        "staff_key": key,
        "organ_name": organ_raw,
        "organ_uscc": uscc,
        "post": text(row, "职务职级"),
        "joined_on": ctx.date(row, "进入本单位时间", JOINED_FORMAT),
        "has_certificate": ctx.code(row, "是否持残疾人证", YES_NO),
        "cert_number": person["cert_number"],
        "staffing_type": text(row, "编制类型"),
        "year": year,
        "period": ctx.period,
    }
    # The roll states the situation at the end of its year.
    as_of = None if year is None else dt.date(year, 12, 31)
    yield person_mention(ctx, key, person, birth_date=birth, observed_on=as_of)
    unit_type = USCC_PREFIX.get(uscc[:2]) if uscc else None
    yield employer_mention(ctx, key, organ_raw, uscc=uscc, observed_on=as_of,
                           unit_type=unit_type or STAFFING.get(text(row, "编制类型") or ""))


SOURCE = FileSource(SPEC, stage_row)
