"""disability_registry: monthly full snapshots of certificate holders (CSV, UTF-8 with BOM)."""

from collections.abc import Iterator

from connectors.files import FileSource
from connectors.mentions import person_fields, person_mention
from connectors.staging import Context, text
from quotalink.contracts import DISABILITY_REGISTRY as SPEC
from quotalink.standardise import (
    normalise_region_code,
    parse_category,
    parse_level,
)

STATUS = {"正常": "valid", "注销": "cancelled", "迁出": "moved_out"}


def stage_row(row: dict, ctx: Context) -> Iterator[tuple[str, dict]]:
    """One snapshot row → a certificate fact and a person mention."""
    key = text(row, "残疾人证号")
    person = person_fields(ctx, row, name="姓名", id_col="公民身份号码", cert_col="残疾人证号",
                           gender_col="性别", phone_col="联系电话")
    birth = ctx.date(row, "出生日期") or person["birth_date"]
    category = ctx.cached(row, "残疾类别", parse_category)
    level = ctx.cached(row, "残疾等级", parse_level)
    region = ctx.cached(row, "户籍地区划代码", normalise_region_code)
    valid_until_raw = text(row, "有效期至")
    valid_until = None if valid_until_raw == "长期" else ctx.date(row, "有效期至")
    changed = ctx.timestamp(row, "更新时间")
    yield "staging.certificate", {
        "cert_number": person["cert_number"] or key,
        "id_number": person["id_number"],
        "full_name": person["full_name"],
        "gender": person["gender"],
        "birth_date": birth,
        "disability_category": category,
        "disability_level": level,
        "issued_on": ctx.date(row, "发证日期"),
        "valid_until": valid_until,
        "status": ctx.code(row, "证件状态", STATUS),
        "cancelled_on": ctx.date(row, "注销日期"),
        "cancel_reason": text(row, "注销原因"),
        "hukou_region_code": region,
        "address": text(row, "现居住地址"),
        "phone": person["phone"],
        "changed_at": changed,
        "period": ctx.period,
    }
    yield person_mention(ctx, key, person, birth_date=birth, hukou_region_code=region,
                         disability_category=category, disability_level=level,
                         observed_on=changed.date() if changed else None)


SOURCE = FileSource(SPEC, stage_row)
