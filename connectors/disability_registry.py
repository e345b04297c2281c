"""disability_registry: monthly full snapshots of certificate holders (CSV, UTF-8 with BOM)."""

from collections.abc import Iterator

from connectors.contracts import DISABILITY_REGISTRY as SPEC
from connectors.files import FileSource
from connectors.staging import Context, text
from entity_resolution.standardise import (
    id_from_cert,
    normalise_cert,
    normalise_gender,
    normalise_id,
    normalise_name,
    normalise_phone,
    normalise_region_code,
    parse_category,
    parse_level,
)

STATUS = {"正常": "valid", "注销": "cancelled", "迁出": "moved_out"}


def person_fields(ctx: Context, row: dict, *, name: str, id_col: str | None, cert_col: str | None,
                  gender_col: str | None = None, phone_col: str | None = None) -> dict:
    """The identity fields every person mention shares, standardised one way everywhere."""
    cert = normalise_cert(row.get(cert_col)) if cert_col else None
    raw_id = row.get(id_col) if id_col else None
    ident = normalise_id(raw_id)
    id_number, quality = ident.value, ident.quality
    if id_number is None and cert is not None:
        from_cert = id_from_cert(cert)
        if from_cert:
            id_number, quality = from_cert, "from_cert"
            ident = normalise_id(from_cert)
    gender = normalise_gender(row.get(gender_col)) if gender_col else None
    return {
        "full_name": normalise_name(row.get(name)),
        "name_raw": text(row, name),
        "id_number": id_number,
        "id_number_raw": text(row, id_col) if id_col else None,
        "id_quality": quality,
        "cert_number": cert,
        "gender": gender or ident.gender,
        "birth_date": ident.birth_date,
        "phone": ctx.parsed(row, phone_col, normalise_phone) if phone_col else None,
    }


def stage_row(row: dict, ctx: Context) -> Iterator[tuple[str, dict]]:
    """One snapshot row → a certificate fact and a person mention."""
    key = text(row, "残疾人证号")
    person = person_fields(ctx, row, name="姓名", id_col="公民身份号码", cert_col="残疾人证号",
                           gender_col="性别", phone_col="联系电话")
    birth = ctx.date(row, "出生日期") or person["birth_date"]
    category = ctx.parsed(row, "残疾类别", parse_category)
    level = ctx.parsed(row, "残疾等级", parse_level)
    region = ctx.parsed(row, "户籍地区划代码", normalise_region_code)
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
    yield "staging.person_mention", {
        "source": SPEC.source,
        "source_key": key,
        **person,
        "birth_date": birth,
        "birth_year_min": None,
        "birth_year_max": None,
        "hukou_region_code": region,
        "disability_category": category,
        "disability_level": level,
        "observed_on": changed.date() if changed else None,
        "period": ctx.period,
    }


SOURCE = FileSource(SPEC, stage_row)
