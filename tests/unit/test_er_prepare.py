"""Unit tests of the linking features prepared from staging mentions."""

import pandas as pd

from entity_resolution.prepare import prepare_employers, prepare_persons
from quotalink.standardise import check_character, normalise_id


def _id(core17: str) -> str:
    return core17 + check_character(core17)


BORN_2002 = _id("37010320021207312")
ADULT = _id("37010219850312452")


def _persons(rows):
    df = pd.DataFrame(rows)
    df["id_number"] = [normalise_id(v).value for v in df["id_number_raw"]]
    return prepare_persons(df)


def test_id_key_from_id_column_else_certificate():
    f = _persons([
        {"source": "quota", "source_key": "a", "full_name": "王 秀英", "id_number_raw": ADULT},
        {"source": "quota", "source_key": "b", "full_name": "王秀英", "id_number_raw": None,
         "cert_number": ADULT + "42"},
    ]).set_index("source_key")
    assert f.loc["a", "id_key"] == ADULT
    assert f.loc["b", "id_key"] == ADULT
    assert f.loc["a", "full_name"] == "王秀英"
    assert f.loc["a", "name_pinyin"] == "wang xiu ying"
    assert f.loc["a", "birth_date"] == "1985-03-12"  # read from the ID


def test_wrong_digit_keeps_core_but_no_key():
    typo = ADULT[:15] + ("7" if ADULT[15] != "7" else "8") + ADULT[16:]
    f = _persons([{"source": "hr", "source_key": "x", "full_name": "王秀英",
                   "id_number_raw": typo}])
    assert pd.isna(f.loc[0, "id_key"])
    assert f.loc[0, "id_core17"] == typo[:17]
    assert f.loc[0, "id_head14"] == ADULT[:14]


def test_excel_read_back_is_not_a_key_but_keeps_region_and_birth():
    damaged = str(int(float(ADULT[:15] + "000")))
    f = _persons([{"source": "training", "source_key": "t", "full_name": "王秀英",
                   "id_number_raw": damaged}])
    assert pd.isna(f.loc[0, "id_key"])
    assert pd.isna(f.loc[0, "id_core17"])
    assert f.loc[0, "id_head14"] == ADULT[:14]
    assert f.loc[0, "birth_date"] == "1985-03-12"


def test_legacy_15_digit_number_takes_the_century_the_data_agrees_on():
    legacy = BORN_2002[:6] + BORN_2002[8:17]
    f = _persons([
        {"source": "disability_registry", "source_key": "r", "full_name": "胡雪",
         "id_number_raw": BORN_2002, "cert_number": BORN_2002 + "44"},
        {"source": "employment_service", "source_key": "j", "full_name": "胡雪",
         "id_number_raw": legacy},
    ]).set_index("source_key")
    assert f.loc["j", "id_key"] == BORN_2002
    assert f.loc["j", "birth_date"] == "2002-12-07"


def test_age_only_mention_gets_a_birth_year_window():
    f = _persons([{"source": "training", "source_key": "t", "full_name": "赵建国",
                   "id_number_raw": None, "birth_year_min": 1969, "birth_year_max": 1970}])
    assert (f.loc[0, "birth_year_min"], f.loc[0, "birth_year_max"]) == (1969, 1970)
    assert pd.isna(f.loc[0, "birth_date"])


def test_employer_features():
    f = prepare_employers(pd.DataFrame([
        {"source": "quota", "source_key": "d1", "name": "济南明泰机械有限公司",
         "uscc": "91370102MA3C5AB01X", "region_code": "370102"},
        {"source": "hr", "source_key": "h1", "name": "济南明泰机械有限公司",
         "uscc": "MA3C5AB01"},  # an old organisation code in the credit-code column
        {"source": "graduates", "source_key": "g1", "name": "明泰机械（济南）有限公司青岛分公司"},
    ])).set_index("source_key")
    assert f.loc["d1", "org_code"] == "MA3C5AB01"
    assert f.loc["h1", "org_code"] == "MA3C5AB01"
    assert pd.isna(f.loc["h1", "uscc"])
    assert f.loc["d1", "city_code"] == "3701"
    assert f.loc["g1", "city_code"] == "3701"  # from the city named in the name
    assert bool(f.loc["g1", "is_branch"])
    assert f.loc["g1", "name_core"] == "明泰机械"


def test_empty_input_gives_empty_features():
    assert len(prepare_persons(pd.DataFrame())) == 0
    assert len(prepare_employers(pd.DataFrame())) == 0
