"""Flat region rows (province, city, county) for name lookup by other packages."""

from refdata import cities, counties, load_table


def _short(name: str) -> str:
    for suffix in ("自治区", "市", "区", "县", "省"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def region_rows() -> list[dict[str, str]]:
    """Rows `code, name, short, kind` (kind: province / city / county), 6-digit codes."""
    rows = [
        {"code": r["province_code"] + "0000", "name": r["province_name"], "short": r["short"],
         "kind": "province"}
        for r in load_table("province")
    ]
    rows += [
        {"code": c.code + "00", "name": c.name, "short": _short(c.name), "kind": "city"}
        for c in cities()
    ]
    rows += [
        {"code": r.code, "name": r.name, "short": _short(r.name), "kind": "county"}
        for r in counties()
    ]
    return rows
