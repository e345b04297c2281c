"""Splink comparisons and blocking rules of the person and employer models.

SQL here is plain enough to run unchanged on DuckDB and Spark (levenshtein, substr, =).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from splink import SettingsCreator, block_on

PERSON_RETAIN = ["source", "source_key", "id_key"]
EMPLOYER_RETAIN = ["source", "source_key", "org_code"]
# The only columns the models read: scoring registers just these with the back-end.
PERSON_MODEL_COLUMNS = ["unique_id", "id_core17", "id_head14", "full_name", "name_pinyin",
                        "surname", "birth_date", "birth_year_min", "birth_year_max", "gender",
                        "phone", "hukou_region_code", "hukou_city", "disability_category"]
EMPLOYER_MODEL_COLUMNS = ["unique_id", "org_code", "name", "name_core", "is_branch",
                          "branch_label", "city_code", "region_code", "unit_type"]


def _null(col: str) -> dict[str, Any]:
    return {"sql_condition": f"{col}_l IS NULL OR {col}_r IS NULL", "label_for_charts": "null",
            "is_null_level": True}


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


_ELSE = {"sql_condition": "ELSE", "label_for_charts": "all other"}


def person_comparisons() -> list[dict[str, Any]]:
    """Comparisons of two person mentions, most specific level first."""
    return [
        {
            "output_column_name": "id",
            "comparison_levels": [
                _null("id_head14"),
                _level("id_core17_l = id_core17_r", "same 17-digit core"),
                _level("levenshtein(id_core17_l, id_core17_r) <= 1", "core differs by one"),
                _level("levenshtein(id_core17_l, id_core17_r) <= 2",
                       "core differs by two (a transposition)"),
                _level("id_head14_l = id_head14_r", "same region and birth date"),
                _level("substr(id_head14_l, 7, 8) = substr(id_head14_r, 7, 8)",
                       "same birth date in ID"),
                _ELSE,
            ],
        },
        {
            "output_column_name": "full_name",
            "comparison_levels": [
                _null("full_name"),
                _level("full_name_l = full_name_r", "exact", tf_adjustment_column="full_name",
                       tf_adjustment_weight=1.0),
                _level("name_pinyin_l = name_pinyin_r", "same pinyin"),
                _level("levenshtein(full_name_l, full_name_r) <= 1", "one character differs"),
                _level("surname_l = surname_r", "same surname"),
                _ELSE,
            ],
        },
        {
            "output_column_name": "birth",
            "comparison_levels": [
                _null("birth_date"),
                _level("birth_date_l = birth_date_r", "same date"),
                _level("levenshtein(birth_date_l, birth_date_r) <= 1",
                       "dates differ by one character"),
                _ELSE,
            ],
        },
        {
            # Only an age is known on one side (training): does the birth-year window fit?
            # Null (no weight) whenever both dates are known, so its u is estimated among
            # the pairs where it applies.
            "output_column_name": "birth_year",
            "comparison_levels": [
                {"sql_condition": "(birth_date_l IS NOT NULL AND birth_date_r IS NOT NULL) OR "
                                  "birth_year_min_l IS NULL OR birth_year_min_r IS NULL",
                 "label_for_charts": "dates known, or no age", "is_null_level": True},
                # Too rare for random sampling to see: u fixed from first principles (two
                # random adults' birth years fall in a two-year window about 1 time in 22).
                _level("birth_year_min_l <= birth_year_max_r AND "
                       "birth_year_min_r <= birth_year_max_l", "birth year fits an age",
                       u_probability=0.045, fix_u_probability=True),
                {**_ELSE, "u_probability": 0.955, "fix_u_probability": True},
            ],
        },
        {
            "output_column_name": "gender",
            "comparison_levels": [_null("gender"), _level("gender_l = gender_r", "same"),
                                  _ELSE],
        },
        {
            "output_column_name": "phone",
            "comparison_levels": [
                _null("phone"),
                _level("phone_l = phone_r", "same", tf_adjustment_column="phone",
                       tf_adjustment_weight=1.0),
                _ELSE,
            ],
        },
        {
            "output_column_name": "hukou",
            "comparison_levels": [
                _null("hukou_region_code"),
                _level("hukou_region_code_l = hukou_region_code_r", "same county"),
                _level("hukou_city_l = hukou_city_r", "same city"),
                _ELSE,
            ],
        },
        {
            "output_column_name": "disability",
            "comparison_levels": [
                _null("disability_category"),
                _level("disability_category_l = disability_category_r", "same category"),
                _ELSE,
            ],
        },
    ]


def person_blocking_rules() -> list:
    """Pairs worth scoring: same ID core or head, same name and birth, same phone."""
    return [
        block_on("id_core17"),
        block_on("id_head14", "surname"),
        block_on("full_name", "birth_year_min"),
        block_on("name_pinyin", "birth_date"),
        block_on("name_pinyin", "hukou_region_code"),
        block_on("full_name", "phone"),
        block_on("full_name", "hukou_city"),
        block_on("phone", "surname"),
        # One mistyped digit leaves two of the ID's three parts intact.
        block_on("full_name", "substr(id_head14, 1, 6)"),
        block_on("full_name", "substr(id_head14, 7, 8)"),
        block_on("full_name", "substr(id_core17, 15, 3)"),
    ]


def person_settings() -> SettingsCreator:
    """The person model's settings (untrained)."""
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=person_comparisons(),
        blocking_rules_to_generate_predictions=person_blocking_rules(),
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=PERSON_RETAIN,
        probability_two_random_records_match=1e-5,
    )


def employer_comparisons() -> list[dict[str, Any]]:
    """Comparisons of two employer mentions, most specific level first."""
    return [
        {
            "output_column_name": "identifier",
            "comparison_levels": [
                _null("org_code"),
                _level("org_code_l = org_code_r", "same organisation code"),
                _level("levenshtein(org_code_l, org_code_r) <= 1", "org code differs by one"),
                _ELSE,
            ],
        },
        {
            "output_column_name": "name",
            "comparison_levels": [
                _null("name"),
                # No term-frequency adjustment: most employer mentions carry no identifier,
                # so frequencies could not be counted once per employer and would count
                # an employer's own repeated mentions as other employers sharing the name.
                _level("name_l = name_r", "exact"),
                _level("name_core_l = name_core_r", "same core name"),
                _level("levenshtein(name_core_l, name_core_r) <= 1", "core differs by one"),
                # '郑州东方制药' vs '东方制药': a place prefix we have no table for.
                _level("length(name_core_l) >= 4 AND length(name_core_r) >= 4 AND "
                       "(right(name_core_l, length(name_core_r)) = name_core_r OR "
                       "right(name_core_r, length(name_core_l)) = name_core_l)",
                       "one core ends with the other"),
                _level("substr(name_core_l, 1, 2) = substr(name_core_r, 1, 2)",
                       "core shares its first two characters"),
                _ELSE,
            ],
        },
        {
            "output_column_name": "branch",
            "comparison_levels": [
                {"sql_condition": "name_core_l IS NULL OR name_core_r IS NULL",
                 "label_for_charts": "null", "is_null_level": True},
                _level("NOT is_branch_l AND NOT is_branch_r", "neither a branch"),
                _level("is_branch_l AND is_branch_r AND branch_label_l = branch_label_r",
                       "same branch"),
                _ELSE,
            ],
        },
        {
            "output_column_name": "city",
            "comparison_levels": [
                _null("city_code"),
                _level("region_code_l = region_code_r", "same county"),
                _level("city_code_l = city_code_r", "same city"),
                _ELSE,
            ],
        },
        {
            "output_column_name": "unit_type",
            "comparison_levels": [_null("unit_type"),
                                  _level("unit_type_l = unit_type_r", "same"), _ELSE],
        },
    ]


def employer_blocking_rules() -> list:
    """Pairs worth scoring: same org code, same core name, same city and name start."""
    return [
        block_on("org_code"),
        block_on("name_core"),
        block_on("name"),
        block_on("city_code", "substr(name_core, 1, 2)"),
        block_on("right(name_core, 4)"),
    ]


def employer_settings() -> SettingsCreator:
    """The employer model's settings (untrained)."""
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=employer_comparisons(),
        blocking_rules_to_generate_predictions=employer_blocking_rules(),
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=EMPLOYER_RETAIN,
        probability_two_random_records_match=1e-4,
    )


PERSON_EXACT_KEY = "id_key"
EMPLOYER_EXACT_KEY = "org_code"
# Rules whose pairs are near-certain matches: used to estimate λ and as EM blocks.
PERSON_DETERMINISTIC = ["l.id_key = r.id_key"]
EMPLOYER_DETERMINISTIC = ["l.org_code = r.org_code"]
PERSON_EM_BLOCKS = [block_on("id_core17"), block_on("full_name", "birth_date")]
EMPLOYER_EM_BLOCKS = [block_on("org_code"), block_on("name_core")]


@dataclass(frozen=True)
class ModelProfile:
    """What training and scoring need to know of one model kind."""

    settings: Callable[[], SettingsCreator]
    model_columns: list[str]
    exact_key: str
    deterministic: list[str]
    em_blocks: list


PROFILES = {
    "person": ModelProfile(person_settings, PERSON_MODEL_COLUMNS, PERSON_EXACT_KEY,
                           PERSON_DETERMINISTIC, PERSON_EM_BLOCKS),
    "employer": ModelProfile(employer_settings, EMPLOYER_MODEL_COLUMNS, EMPLOYER_EXACT_KEY,
                             EMPLOYER_DETERMINISTIC, EMPLOYER_EM_BLOCKS),
}


def profile(kind: str) -> ModelProfile:
    """The profile of a model kind; a clear error for any other name."""
    try:
        return PROFILES[kind]
    except KeyError:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {tuple(PROFILES)}") from None
