"""The disability employment security levy (残疾人就业保障金) as a pure function."""

from decimal import ROUND_HALF_UP, Decimal

from expectations.rules.config import levy_params

CENT = Decimal("0.01")


def _d(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def capped_wage(avg_wage: object, social_avg_wage: object | None) -> Decimal:
    """Average wage capped at the multiple of the local social average wage (财税〔2018〕39号)."""
    wage = _d(avg_wage)
    if social_avg_wage is None:
        return wage
    cap = _d(levy_params()["wage_cap_multiple"]) * _d(social_avg_wage)
    return min(wage, cap)


def employee_weight(level: int | None) -> int:
    """Weight of one counted employee: severe levels (1-2) count double."""
    p = levy_params()
    if level is not None and 1 <= int(level) <= int(p["severe_level_max"]):
        return int(p["severe_weight"])
    return 1


def levy(
    total_staff: int,
    weighted_count: object,
    avg_wage: object,
    unit_type: str | None,
    year: int,
    social_avg_wage: object | None,
) -> Decimal:
    """Levy in yuan (rounded to the fen) by 财税〔2015〕72号 with the 2023-2027 relief.

    ``(total_staff × quota_ratio − weighted_count) × min(avg_wage, cap × social_avg_wage)``,
    nothing when the shortfall is not positive; in the relief years an enterprise with at most
    30 staff pays nothing, a ratio ≥ 1 % pays 50 % and a ratio below 1 % pays 90 %.
    ``social_avg_wage`` None means no cap is known.
    """
    p = levy_params()
    staff = _d(total_staff or 0)
    counted = _d(weighted_count or 0)
    if staff <= 0:
        return Decimal("0.00")
    ratio_required = _d(p["quota_ratio"])
    shortfall = staff * ratio_required - counted
    if shortfall <= 0:
        return Decimal("0.00")
    amount = shortfall * capped_wage(avg_wage or 0, social_avg_wage)
    if int(p["relief_from_year"]) <= int(year) <= int(p["relief_to_year"]):
        exempt_types = {t.strip() for t in p["exempt_unit_types"].split(";")}
        if unit_type in exempt_types and staff <= _d(p["small_enterprise_max_staff"]):
            return Decimal("0.00")
        ratio = counted / staff
        if ratio >= _d(p["relief_ratio_floor"]):
            amount *= _d(p["relief_share_upper"])
        else:
            amount *= _d(p["relief_share_lower"])
    return max(amount, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)
