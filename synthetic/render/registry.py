"""disability_registry: monthly full snapshots `cjrxx_YYYYMM.csv`, UTF-8 with BOM."""

import calendar
import zlib
from datetime import date

import refdata
from synthetic.idcodes import id18_to_15, special_mobile
from synthetic.render.base import CsvOut, Renderer
from synthetic.scenarios import registry_months

HEADER = ["残疾人证号", "姓名", "性别", "民族", "出生日期", "公民身份号码", "残疾类别", "残疾等级",
          "发证日期", "有效期至", "证件状态", "注销日期", "注销原因", "户籍地区划代码", "现居住地址",
          "联系电话", "更新时间"]


def _month_end(yyyymm: str) -> date:
    y, m = int(yyyymm[:4]), int(yyyymm[4:])
    return date(y, m, calendar.monthrange(y, m)[1])


def _clock(key: str) -> str:
    h = zlib.crc32(key.encode())
    return f"{8 + h % 10:02d}:{(h >> 8) % 60:02d}:{(h >> 16) % 60:02d}"


class RegistryRenderer(Renderer):
    """Every certificate issued by the snapshot date, in its state on that date."""

    source = "disability_registry"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.outs = {m: CsvOut(self.dir / f"cjrxx_{m}.csv", HEADER, "utf-8-sig")
                     for m in registry_months(self.as_of)}

    def write(self, chunk, decls, truth) -> None:
        for month, out in self.outs.items():
            snap = _month_end(month)
            # Phone changes happened in October 2026: later snapshots show the new number.
            latest = month >= "202610"
            for p in chunk.persons:
                if not p.in_registry:
                    continue
                phone = p.phone if latest or not p.phone_old else p.phone_old
                if p.wrong_registry_phone and phone:
                    phone = special_mobile("172", p.index)
                for cert in p.certs:
                    if cert.issued > snap:
                        continue
                    status, ended, reason = cert.status_on(snap)
                    changed = ended or cert.issued
                    if latest and p.phone_old and changed < date(2026, 10, 1):
                        changed = date(2026, 10, 12)
                    number = cert.number
                    out.write({
                        "残疾人证号": number,
                        "姓名": p.name,
                        "性别": p.gender_zh,
                        "民族": p.ethnicity,
                        "出生日期": p.birth.isoformat(),
                        "公民身份号码": id18_to_15(p.id18) if p.legacy15 else p.id18,
                        "残疾类别": refdata.disability_category_name(cert.category),
                        "残疾等级": refdata.disability_level_name(cert.level),
                        "发证日期": cert.issued.isoformat(),
                        "有效期至": cert.valid_until.isoformat() if cert.valid_until else "长期",
                        "证件状态": status,
                        "注销日期": ended.isoformat() if ended else None,
                        "注销原因": reason,
                        "户籍地区划代码": p.hukou,
                        "现居住地址": p.address,
                        "联系电话": phone,
                        "更新时间": f"{changed.isoformat()} {_clock(number)}",
                    })
                    self.rows += 1
                    truth.person(self.source, number, p.pid)

    def close(self) -> dict[str, int]:
        for out in self.outs.values():
            out.close()
        return {f"cjrxx_{m}.csv": out.rows for m, out in self.outs.items()}
