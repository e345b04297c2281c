"""org: the organisation department's yearly roll of organ staff with a disability (GB18030)."""

import datetime as dt
from collections.abc import Iterator

from connectors.contracts import ORG as SPEC
from connectors.disability_registry import person_fields
from connectors.files import FileSource
from connectors.staging import Context, text
from entity_resolution.standardise import (
    normalise_employer_name,
    normalise_uscc,
    org_code_of_uscc,
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
    yield "staging.person_mention", {
        "source": SPEC.source,
        "source_key": key,
        **person,
        "birth_date": birth,
        "birth_year_min": None,
        "birth_year_max": None,
        "hukou_region_code": None,
        "disability_category": None,
        "disability_level": None,
        "observed_on": as_of,
        "period": ctx.period,
    }
    unit_type = USCC_PREFIX.get(uscc[:2]) if uscc else None
    yield "staging.employer_mention", {
        "source": SPEC.source,
        "source_key": key,
        "name": normalise_employer_name(organ_raw),
        "name_raw": organ_raw,
        "uscc": uscc,
        "org_code": org_code_of_uscc(uscc),
        "region_code": None,
        "unit_type": unit_type or STAFFING.get(text(row, "编制类型") or ""),
        "observed_on": as_of,
        "period": ctx.period,
    }


SOURCE = FileSource(SPEC, stage_row)
