"""Named scenarios of the generator: sizes, shares, noise odds and the delivery periods."""

from dataclasses import dataclass, field, replace
from datetime import date

# "Today" of the simulated province; every period below is relative to it (2026-11-30):
# declaration years 2024 and 2025 (2025 was declared Mar-Oct 2026), registry snapshots
# for the last two complete months, employment-service increments 2024-01 .. 2026-10,
# training in the last two complete quarters, graduates / org / establishment / survey
# for the last two complete years, contributions for the two declaration years.
TODAY = date(2026, 11, 30)
DECLARATION_YEARS = (2024, 2025)
# The world runs one month further than the default deliveries: `as_of="202611"` renders
# the same province plus one more month (registry snapshot and employment-service
# increment), every earlier file byte-identical — the input of ER stability tests.
AS_OF_CHOICES = ("202610", "202611")
DEFAULT_AS_OF = "202610"
ALL_REGISTRY_MONTHS = ("202609", "202610", "202611")
ALL_JYXX_MONTHS = tuple(
    f"{y}{m:02d}" for y in (2024, 2025, 2026) for m in range(1, 13) if (y, m) <= (2026, 11)
)


def registry_months(as_of: str = DEFAULT_AS_OF) -> tuple[str, ...]:
    """Registry snapshots delivered up to and including a month."""
    return tuple(m for m in ALL_REGISTRY_MONTHS if m <= as_of)


def jyxx_months(as_of: str = DEFAULT_AS_OF) -> tuple[str, ...]:
    """Employment-service increments delivered up to and including a month."""
    return tuple(m for m in ALL_JYXX_MONTHS if m <= as_of)


REGISTRY_MONTHS = registry_months()
JYXX_MONTHS = jyxx_months()
TRAINING_QUARTERS = ("2026Q2", "2026Q3")
GRADUATE_YEARS = (2024, 2025)
ORG_YEARS = (2024, 2025)
ESTABLISHMENT_YEARS = (2024, 2025)
SURVEY_YEARS = (2024, 2025)
CONTRIBUTION_MONTHS = tuple(f"{y}{m:02d}" for y in (2024, 2025) for m in range(1, 13))

# Persons per chunk: the world is built and rendered chunk by chunk so memory stays bounded.
CHUNK_PERSONS = 10_000


@dataclass(frozen=True, slots=True)
class Noise:
    """Odds of each kind of noise in the sources that produce it."""

    name_traditional: float = 0.02
    name_homophone: float = 0.02
    name_space: float = 0.03
    id_wrong_digit: float = 0.02
    id_transposed: float = 0.015
    id_15: float = 0.01
    id_fullwidth: float = 0.01
    id_missing: float = 0.06
    cert_missing: float = 0.15
    company_variant: float = 0.2
    uscc_missing_jyxx: float = 0.65
    uscc_lower_or_spaced: float = 0.05
    cert_in_id_column: float = 0.03
    excel_damaged: float = 0.02
    registry_legacy_15: float = 0.12


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named, reproducible configuration of the simulated province."""

    name: str
    description: str
    declared_share: float = 0.15
    other_employed_share: float = 0.10
    student_share: float = 0.015
    organ_staff_share: float = 0.01
    trainee_share: float = 0.03
    survey_share: float = 0.05
    individual_form_share: float = 0.03
    hr_namesake_share: float = 0.2
    namesake_pairs_per_1000: float = 2.0
    twins_per_1000: float = 1.0
    fraud_rate: float = 0.015
    min_cases_per_rule: int = 3
    plant_fraud: bool = True
    plant_decoys: bool = True
    noise: Noise = field(default_factory=Noise)
    # The harder, still contract-conform cases of the `hard` scenario (issue 11); off in
    # every other scenario so their deliveries stay byte-identical.
    hard: bool = False
    clerk_name_share: float = 0.0  # employment-service employer names typed by a clerk
    office_at_employer: float = 0.0  # registrations made by the employer's district office
    code_change_share: float = 0.0  # enterprises whose org code became a credit code in 2025
    branch_share: float = 1 / 40
    same_trade_groups_per_1000: float = 0.0  # extra trade names shared by 2-3 cities
    namesake_same_county: float = 0.0  # share of namesake pairs born in the same county
    mover_share: float = 0.0  # persons whose household registration moved city in 2025
    idless_share: float = 0.0  # ID-less rows (no ID, no certificate): jyxx and survey
    organ_code_missing: float = 0.0  # organ rows without credit code (org, quota)
    # Extra noise of noise.Harsh (its own random stream; 0 = none drawn, output unchanged):
    # every odd of it times this intensity.
    noise_intensity: float = 0.0


_NO_NOISE = Noise(**{k: 0.0 for k in Noise.__dataclass_fields__})

SCENARIOS: dict[str, Scenario] = {
    "default": Scenario(
        "default",
        "One consistent province: every source, noise, hard cases, fraud cases and decoys.",
    ),
    "clean": Scenario(
        "clean",
        "No noise, no planted fraud, no decoys: every declared employee is eligible.",
        plant_fraud=False,
        plant_decoys=False,
        noise=_NO_NOISE,
    ),
    "noisy": Scenario(
        "noisy",
        "Like default with three times the noise, for stress-testing entity resolution.",
        noise=Noise(**{k: min(0.5, getattr(Noise(), k) * 3) for k in Noise.__dataclass_fields__}),
    ),
    "hard": Scenario(
        "hard",
        "Messy registers: twice the identifying noise, clerk-typed employer names, district "
        "offices, code changes, branches, shared trade names, ID-less rows, namesakes in one "
        "county, twins, movers.",
        namesake_pairs_per_1000=6.0,
        twins_per_1000=3.0,
        noise=Noise(**{k: min(0.9, getattr(Noise(), k) * (1 if k == "registry_legacy_15" else 2))
                       for k in Noise.__dataclass_fields__}),
        hard=True,
        clerk_name_share=0.6,
        office_at_employer=0.8,
        code_change_share=0.06,
        branch_share=1 / 15,
        same_trade_groups_per_1000=8.0,
        namesake_same_county=0.5,
        mover_share=0.015,
        idless_share=0.08,
        organ_code_missing=0.35,
    ),
}
# `harsh`: the hard province with registers messier still (issue 11's unseen deliveries):
# three times the default noise, more clerk-typed names, code changes, ID-less rows,
# namesakes in one county, twins and movers, and noise.Harsh at intensity 1.
SCENARIOS["harsh"] = replace(
    SCENARIOS["hard"], name="harsh",
    description="Like hard with messier registers still: three times the identifying noise, "
                "mixed traditional characters, legal-form and bracket variants, padded and "
                "typo'd IDs and phones, more clerk-typed names, ID-less rows, code changes, "
                "namesakes, twins and movers.",
    namesake_pairs_per_1000=10.0,
    twins_per_1000=5.0,
    noise=Noise(**{k: min(0.9, getattr(Noise(), k) * (1 if k == "registry_legacy_15" else 3))
                   for k in Noise.__dataclass_fields__}),
    clerk_name_share=0.8,
    code_change_share=0.12,
    same_trade_groups_per_1000=12.0,
    namesake_same_county=0.7,
    mover_share=0.04,
    idless_share=0.12,
    organ_code_missing=0.5,
    noise_intensity=1.0,
)


def get_scenario(name: str) -> Scenario:
    """A registered scenario by name."""
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    return SCENARIOS[name]


def register_scenario(scenario: Scenario) -> Scenario:
    """Add (or replace) a named scenario, e.g. a variant made with `with_overrides`."""
    SCENARIOS[scenario.name] = scenario
    return scenario


def with_overrides(scenario: Scenario, **changes: object) -> Scenario:
    """A copy of a scenario with some fields changed."""
    return replace(scenario, **changes)
