"""The 2022–2024 employment target split by city and year (refdata/data/employment_targets.csv).

Run ``python -m refdata.targets`` after editing ``employment_target_basis.csv`` (or the
plan's total and years below) to rewrite the targets; an operator may also edit
``employment_targets.csv`` directly with the figures their city Federations agreed.
"""

import argparse
import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from refdata import DATA_DIR, load_table

# 鲁残联发〔2023〕6号 / 鲁政办发〔2022〕20号: 100,000 new employments over 2022–2024.
PLAN_TOTAL = 100_000
PLAN_YEARS = (2022, 2023, 2024)
TARGETS_FILE = DATA_DIR / "employment_targets.csv"


def largest_remainder(total: int, weights: Mapping[str, int | float]) -> dict[str, int]:
    """Split an integer total in proportion to weights so the parts sum exactly to it."""
    weight_sum = sum(weights.values())
    if weight_sum <= 0:
        raise ValueError("weights must sum to a positive number")
    exact = {k: total * w / weight_sum for k, w in weights.items()}
    parts = {k: int(v) for k, v in exact.items()}
    short = total - sum(parts.values())
    # Ties broken by key so the split is reproducible.
    for k in sorted(exact, key=lambda k: (-(exact[k] - parts[k]), k))[:short]:
        parts[k] += 1
    return parts


def split_targets(total: int = PLAN_TOTAL, years: Sequence[int] = PLAN_YEARS,
                  basis: Mapping[str, int] | None = None) -> list[dict[str, int | str]]:
    """Rows (city, year, target): the total split equally over the years, then each year
    across cities in proportion to the basis (working-age certificate holders by city)."""
    if basis is None:
        basis = {r["city_code"]: int(r["working_age_holders"]) for r in load_table("employment_target_basis")}
    per_year = largest_remainder(total, {str(y): 1 for y in years})
    rows: list[dict[str, int | str]] = []
    for year in years:
        for city, target in sorted(largest_remainder(per_year[str(year)], basis).items()):
            rows.append({"city": city, "year": year, "target": target})
    return rows


def write_targets(rows: list[dict[str, int | str]], path: Path = TARGETS_FILE) -> Path:
    """Write target rows as the reference CSV."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, ["city", "year", "target"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def main(argv: list[str] | None = None) -> int:
    """Rewrite employment_targets.csv from the basis table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=PLAN_TOTAL)
    parser.add_argument("--years", default=",".join(map(str, PLAN_YEARS)), help="e.g. 2022,2023,2024")
    parser.add_argument("--out", type=Path, default=TARGETS_FILE)
    args = parser.parse_args(argv)
    years = [int(y) for y in args.years.split(",")]
    path = write_targets(split_targets(args.total, years), args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
