"""Standardisers: pure, fast functions that turn raw source values into canonical ones."""

from quotalink.standardise._text import strip_quote_marks
from quotalink.standardise.codes import parse_category, parse_level
from quotalink.standardise.dates import parse_date
from quotalink.standardise.employers import (
    EmployerNameKey,
    employer_name_key,
    legal_form,
    normalise_employer_name,
    normalise_org_code,
    normalise_uscc,
    org_code_check_ok,
    org_code_of_uscc,
    uscc_check_ok,
)
from quotalink.standardise.ids import (
    ID_QUALITIES,
    IdResult,
    birth_year_window,
    cert_category_level,
    check_character,
    id_core17,
    id_from_cert,
    id_head14,
    looks_float_damaged,
    normalise_cert,
    normalise_id,
    one_typo_apart,
    typed_id18,
)
from quotalink.standardise.names import name_pinyin, normalise_gender, normalise_name
from quotalink.standardise.phones import normalise_phone
from quotalink.standardise.regions import (
    city_code,
    normalise_region_code,
    region_from_text,
)

__all__ = [
    "ID_QUALITIES",
    "EmployerNameKey",
    "IdResult",
    "birth_year_window",
    "cert_category_level",
    "check_character",
    "city_code",
    "employer_name_key",
    "legal_form",
    "id_core17",
    "id_from_cert",
    "id_head14",
    "looks_float_damaged",
    "name_pinyin",
    "normalise_cert",
    "normalise_employer_name",
    "normalise_gender",
    "normalise_id",
    "normalise_name",
    "normalise_org_code",
    "normalise_phone",
    "normalise_region_code",
    "normalise_uscc",
    "org_code_check_ok",
    "one_typo_apart",
    "org_code_of_uscc",
    "parse_category",
    "parse_date",
    "parse_level",
    "region_from_text",
    "strip_quote_marks",
    "typed_id18",
    "uscc_check_ok",
]
