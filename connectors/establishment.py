"""establishment: yearly register of organs and public institutions (CSV, UTF-8 without BOM)."""

from collections.abc import Iterator

from connectors.files import FileSource
from connectors.mentions import employer_mention
from connectors.staging import Context, text
from quotalink.contracts import ESTABLISHMENT as SPEC
from quotalink.standardise import (
    normalise_region_code,
    normalise_uscc,
)

YES_NO = {"是": True, "否": False}
# 机构类别 → canonical unit type of employer mentions.
KINDS = {"行政机关": "organ", "群团机关": "organ", "事业单位": "public_institution"}


def stage_row(row: dict, ctx: Context) -> Iterator[tuple[str, dict]]:
    """An institution → its establishment fact and an employer mention keyed by its USCC."""
    key = text(row, "统一社会信用代码")
    uscc = ctx.parsed(row, "统一社会信用代码", normalise_uscc)
    region = ctx.cached(row, "所在地区代码", normalise_region_code)
    updated = ctx.date(row, "更新日期", ("%Y-%m-%d",))
    kind = text(row, "机构类别")
    unit_type = ctx.code(row, "机构类别", KINDS)
    name_raw = text(row, "机构名称")
    yield "staging.institution", {
        "uscc": uscc or key,
        "name": name_raw,
        "kind": kind,
        "supervisor": text(row, "主管部门"),
        "region_code": region,
        "authorised_posts": ctx.integer(row, "核定编制数", 0),
        "actual_staff": ctx.integer(row, "实有人数", 0),
        "disabled_staff": ctx.integer(row, "残疾人在职人数", 0),
        "is_school": ctx.code(row, "是否中小学幼儿园", YES_NO),
        "is_dpf_organ": ctx.code(row, "是否残联机关", YES_NO),
        "updated_on": updated,
        "year": int(ctx.period[:4]) if ctx.period[:4].isdigit() else None,
        "period": ctx.period,
    }
    yield employer_mention(ctx, key, name_raw, uscc=uscc, region_code=region,
                           unit_type=unit_type, observed_on=updated)


SOURCE = FileSource(SPEC, stage_row)
